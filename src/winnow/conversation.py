"""Conversations and preferences as Python values, and their rendered ``text``.

The Arrow columns are defined in ``winnow.records`` (``CONVERSATION_FIELDS``); this module is
what readers, steps and exports share to build, check and render them. A record's ``text`` is
its rendered form, so every text step (quality, language, dedup) runs on conversations too:

    <|user|>
    How do I list files?
    <|assistant|>
    Use `ls`.

A preference renders its prompt, then ``<|chosen|>`` and ``<|rejected|>`` sections; an unpaired
record a ``<|completion|>`` section; a rated record one ``<|completion N|>`` section each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from winnow.records import ROLES

Message = dict[str, Any]  # {role, content, name?, tool_calls?, weight?, tool_call_id?}


def message(role: str, content: str, **extra: Any) -> Message:
    """One message with every field of the Arrow struct present (missing ones ``None``)."""
    return {
        "role": role,
        "content": content,
        "name": extra.get("name"),
        "tool_calls": extra.get("tool_calls"),
        "weight": extra.get("weight"),
        "tool_call_id": extra.get("tool_call_id"),
    }


def check_messages(messages: Any, what: str = "messages") -> str | None:
    """Why ``messages`` is not a valid message list, or ``None`` when it is."""
    if not isinstance(messages, list) or not messages:
        return f"{what} is not a non-empty list"
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            return f"{what}[{i}] is not an object"
        if m.get("role") not in ROLES:
            return f"{what}[{i}] has role {m.get('role')!r} (expected one of {', '.join(ROLES)})"
        if not isinstance(m.get("content"), str):
            return f"{what}[{i}] content is {type(m.get('content')).__name__}, not a string"
    return None


def render(messages: Sequence[Message] | None) -> str:
    if not messages:
        return ""
    return "\n".join(f"<|{m['role']}|>\n{m['content']}" for m in messages)


def render_record(record: dict[str, Any]) -> str:
    """The ``text`` of a post-training record (a dict with the conversation columns)."""
    # One join over all the pieces: readers call this for every record, on the hot path.
    parts: list[str] = []
    sections = [("", record.get("messages"))]
    sections += [(f"<|{c}|>", record.get(c)) for c in ("chosen", "rejected", "completion") if record.get(c)]
    sections += [
        (f"<|completion {i}|>", scored.get("messages"))
        for i, scored in enumerate(record.get("completions") or [], start=1)
    ]
    for header, messages in sections:
        if header:
            parts.append(header)
        for m in messages or ():
            parts.append(f"<|{m['role']}|>")
            parts.append(m["content"])
    return "\n".join(parts)
