"""The rules of each export format, checked on the rows as written (not on how they were built).

``problem(format, row)`` says what is wrong with one output row, or ``None``. The rules:

* TRL: the row's keys are exactly one of the key sets TRL's trainer for it accepts (SFT:
  ``messages`` or ``prompt``+``completion``, each optionally with ``tools``; DPO: ``prompt``+
  ``chosen``+``rejected`` or the implicit ``chosen``+``rejected``; KTO: ``prompt``+``completion``+
  ``label``; reward: ``chosen``+``rejected`` (+``margin``)); every message list is non-empty, with
  string roles and contents; completions, chosen and rejected hold assistant turns; ``label`` is a bool.
* OpenAI SFT: roles system/developer/user/assistant/tool; at least one assistant turn; ``weight``
  only on assistant turns and 0 or 1; every tool call is ``{id?, type: function, function: {name,
  arguments: a JSON string}}``; a tool turn names its ``tool_call_id``; ``tools`` is a list.
* OpenAI DPO: ``input.messages`` non-empty and ending on a user turn; exactly one preferred and
  one non-preferred output, each an assistant turn with string content.
* ShareGPT: ``conversations`` non-empty, ``from`` one of human/gpt/system/tool, string values.
* Alpaca: ``instruction``, ``input``, ``output`` strings; a non-empty instruction.
* HH-RLHF: both transcripts start with ``\\n\\nHuman:`` and end on an ``\\n\\nAssistant:`` turn.
"""

from __future__ import annotations

from typing import Any

import orjson

TRL_KEYS = {
    "trl-sft": [{"messages"}, {"prompt", "completion"}],
    "trl-dpo": [{"prompt", "chosen", "rejected"}, {"chosen", "rejected"}],
    "trl-kto": [{"prompt", "completion", "label"}],
    "trl-reward": [{"chosen", "rejected"}, {"chosen", "rejected", "margin"}],
}
TRL_ROLES = {"system", "user", "assistant", "tool"}
OPENAI_ROLES = {"system", "developer", "user", "assistant", "tool"}
SHAREGPT_FROM = {"human", "gpt", "system", "tool"}


def _messages(value: Any, where: str, roles: set[str]) -> str | None:
    if not isinstance(value, list) or not value:
        return f"{where} is not a non-empty list of messages"
    for i, m in enumerate(value):
        if not isinstance(m, dict):
            return f"{where}[{i}] is not an object"
        if m.get("role") not in roles:
            return f"{where}[{i}] has role {m.get('role')!r} (allowed: {', '.join(sorted(roles))})"
        content = m.get("content")
        if not isinstance(content, str) and not (content is None and m.get("tool_calls")):
            return f"{where}[{i}].content is {type(content).__name__}, not a string"
    return None


def _assistant_only(value: list[dict], where: str) -> str | None:
    for i, m in enumerate(value):
        if m["role"] != "assistant":
            return f"{where}[{i}] is a {m['role']} turn; {where} holds assistant turns"
    return None


def _trl(fmt: str, row: dict) -> str | None:
    keys = set(row) - {"tools"}
    if keys not in TRL_KEYS[fmt]:
        allowed = " or ".join("{" + ", ".join(sorted(k)) + "}" for k in TRL_KEYS[fmt])
        return f"keys {{{', '.join(sorted(row))}}} are not a {fmt} key set ({allowed}, optionally tools)"
    for key in ("messages", "prompt", "completion", "chosen", "rejected"):
        if key in row:
            problem = _messages(row[key], key, TRL_ROLES)
            if problem:
                return problem
    for key in ("completion", "chosen", "rejected"):
        if key in row and ("prompt" in row or fmt in ("trl-sft", "trl-kto")):
            problem = _assistant_only(row[key], key)
            if problem:
                return problem
    if "chosen" in row and "prompt" not in row and row["chosen"][-1]["role"] != "assistant":
        return "chosen does not end on an assistant turn"
    if "rejected" in row and "prompt" not in row and row["rejected"][-1]["role"] != "assistant":
        return "rejected does not end on an assistant turn"
    if fmt == "trl-kto" and not isinstance(row["label"], bool):
        return f"label is {row['label']!r}, not a bool"
    if "margin" in row and not isinstance(row["margin"], (int, float)):
        return "margin is not a number"
    if "tools" in row and not isinstance(row["tools"], list):
        return "tools is not a list"
    return None


def _tool_calls(calls: Any, where: str) -> str | None:
    if not isinstance(calls, list) or not calls:
        return f"{where} is not a non-empty list"
    for i, call in enumerate(calls):
        here = f"{where}[{i}]"
        if not isinstance(call, dict) or call.get("type", "function") != "function":
            return f"{here} is not a function call"
        function = call.get("function")
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            return f"{here}.function has no name"
        arguments = function.get("arguments")
        if not isinstance(arguments, str):
            return f"{here}.function.arguments is {type(arguments).__name__}; OpenAI wants a JSON string"
        try:
            orjson.loads(arguments)
        except orjson.JSONDecodeError:
            return f"{here}.function.arguments is not valid JSON"
    return None


def _openai_messages(messages: Any, where: str) -> str | None:
    problem = _messages(messages, where, OPENAI_ROLES)
    if problem:
        return problem
    for i, m in enumerate(messages):
        here = f"{where}[{i}]"
        if "weight" in m and (m["role"] != "assistant" or m["weight"] not in (0, 1)):
            return f"{here}.weight is {m['weight']!r} on a {m['role']} turn (0 or 1, assistant turns only)"
        if "tool_calls" in m:
            if m["role"] != "assistant":
                return f"{here} has tool_calls on a {m['role']} turn"
            problem = _tool_calls(m["tool_calls"], f"{here}.tool_calls")
            if problem:
                return problem
        if m["role"] == "tool" and not isinstance(m.get("tool_call_id"), str):
            return f"{here} is a tool turn without a tool_call_id"
    return None


def _openai_sft(row: dict) -> str | None:
    if set(row) - {"messages", "tools", "parallel_tool_calls"}:
        return f"unexpected keys {sorted(set(row) - {'messages', 'tools', 'parallel_tool_calls'})}"
    problem = _openai_messages(row.get("messages"), "messages")
    if problem:
        return problem
    if not any(m["role"] == "assistant" for m in row["messages"]):
        return "messages have no assistant turn to train on"
    if "tools" in row and not isinstance(row["tools"], list):
        return "tools is not a list"
    return None


def _openai_dpo(row: dict) -> str | None:
    if set(row) != {"input", "preferred_output", "non_preferred_output"}:
        return f"keys {sorted(row)} are not input, preferred_output, non_preferred_output"
    prompt = row["input"]
    if not isinstance(prompt, dict):
        return "input is not an object"
    problem = _openai_messages(prompt.get("messages"), "input.messages")
    if problem:
        return problem
    if prompt["messages"][-1]["role"] != "user":
        return "input.messages do not end on a user turn"
    for key in ("preferred_output", "non_preferred_output"):
        output = row[key]
        if not isinstance(output, list) or len(output) != 1:
            n = len(output) if isinstance(output, list) else type(output).__name__
            return f"{key} holds {n} messages; OpenAI DPO wants exactly one assistant message"
        problem = _openai_messages(output, key) or _assistant_only(output, key)
        if problem:
            return problem
        if not isinstance(output[0].get("content"), str):
            return f"{key}[0].content is not a string"
    return None


def _sharegpt(row: dict) -> str | None:
    turns = row.get("conversations")
    if not isinstance(turns, list) or not turns:
        return "conversations is not a non-empty list"
    for i, t in enumerate(turns):
        if not isinstance(t, dict) or t.get("from") not in SHAREGPT_FROM or not isinstance(t.get("value"), str):
            return f"conversations[{i}] is not {{from: human|gpt|system|tool, value: string}}"
    return None


def _alpaca(row: dict) -> str | None:
    for key in ("instruction", "input", "output"):
        if not isinstance(row.get(key), str):
            return f"{key} is not a string"
    if not row["instruction"].strip():
        return "instruction is empty"
    return None


def _hh(row: dict) -> str | None:
    for key in ("chosen", "rejected"):
        text = row.get(key)
        if not isinstance(text, str) or not text.startswith("\n\nHuman:"):
            return f"{key} does not start with '\\n\\nHuman:'"
        if text.rfind("\n\nAssistant:") < text.rfind("\n\nHuman:"):
            return f"{key} does not end on an Assistant turn"
    return None


def problem(fmt: str, row: dict) -> str | None:
    """What breaks ``fmt``'s rules in one output row, or None."""
    if fmt in TRL_KEYS:
        return _trl(fmt, row)
    return {
        "openai-sft": _openai_sft,
        "openai-dpo": _openai_dpo,
        "sharegpt": _sharegpt,
        "alpaca": _alpaca,
        "hh-rlhf": _hh,
    }[fmt](row)
