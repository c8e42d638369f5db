"""Post-training records → the rows each trainer reads, one function per export format.

A converter takes a record (a dict with the conversation columns, as ``Table.to_pylist`` gives
it) and returns the rows it becomes: usually one, none for a record of a kind the format does
not hold (the export counts those as skipped), two for a preference unpaired into KTO rows.
A record of the right kind that the format cannot express raises :class:`Unfit` with why.

Messages are written with the fields that are set (``name``, ``tool_calls`` as the parsed list,
``tool_call_id``, ``weight``) and nothing else, so a reader sees what the trainer's docs show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

Row = dict[str, Any]


class Unfit(ValueError):
    """The record is of a kind the format holds, but the format cannot express it."""


def plain(messages: list[dict] | None, openai: bool = False) -> list[dict]:
    """Messages as JSON objects: role and content, plus the optional fields that are set."""
    out = []
    for m in messages or []:
        item: dict[str, Any] = {"role": m["role"], "content": m["content"]}
        if m.get("name") is not None:
            item["name"] = m["name"]
        if m.get("tool_calls"):
            calls = orjson.loads(m["tool_calls"])
            item["tool_calls"] = [_string_arguments(c) for c in calls] if openai else calls
            if openai and not m["content"]:
                item["content"] = None  # OpenAI's own examples: a tool-calling turn has no content
        if m.get("tool_call_id") is not None:
            item["tool_call_id"] = m["tool_call_id"]
        if m.get("weight") is not None:
            item["weight"] = int(m["weight"]) if float(m["weight"]).is_integer() else m["weight"]
        out.append(item)
    return out


def _string_arguments(call: Any) -> Any:
    """OpenAI wants a tool call's ``arguments`` as a JSON string; TRL data often has an object."""
    if isinstance(call, dict) and isinstance(call.get("function"), dict):
        arguments = call["function"].get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            call = {**call, "function": {**call["function"], "arguments": orjson.dumps(arguments).decode()}}
    return call


def _tools(record: Row) -> Any:
    return orjson.loads(record["tools"]) if record.get("tools") else None


def _with_tools(row: Row, record: Row) -> Row:
    tools = _tools(record)
    if tools is not None:
        row["tools"] = tools
    return row


def split_completion(messages: list[dict]) -> tuple[list[dict], list[dict]]:
    """A conversation as (prompt, completion): the completion is the trailing assistant turns."""
    n = len(messages)
    while n > 0 and messages[n - 1]["role"] == "assistant":
        n -= 1
    return messages[:n], messages[n:]


# -- TRL ----------------------------------------------------------------------------------


def trl_sft(record: Row, style: str = "messages") -> list[Row]:
    if record["kind"] != "conversation":
        return []
    if style == "prompt-completion":
        prompt, completion = split_completion(record["messages"])
        if not prompt or not completion:
            raise Unfit("prompt-completion needs prompt turns followed by assistant turns")
        return [_with_tools({"prompt": plain(prompt), "completion": plain(completion)}, record)]
    return [_with_tools({"messages": plain(record["messages"])}, record)]


def trl_dpo(record: Row, style: str = "explicit") -> list[Row]:
    if record["kind"] != "preference":
        return []
    if style == "implicit":
        prompt = plain(record.get("messages"))
        return [
            _with_tools(
                {"chosen": prompt + plain(record["chosen"]), "rejected": prompt + plain(record["rejected"])}, record
            )
        ]
    if not record.get("messages"):
        raise Unfit("no shared prompt (an implicit-prompt pair): export with style implicit")
    row = {
        "prompt": plain(record["messages"]),
        "chosen": plain(record["chosen"]),
        "rejected": plain(record["rejected"]),
    }
    return [_with_tools(row, record)]


def trl_kto(record: Row, unpair: bool = True) -> list[Row]:
    if record["kind"] == "unpaired":
        if not record.get("messages"):
            raise Unfit("no prompt")
        return [
            {"prompt": plain(record["messages"]), "completion": plain(record["completion"]), "label": record["label"]}
        ]
    if record["kind"] == "preference" and unpair:
        if not record.get("messages"):
            raise Unfit("no shared prompt (an implicit-prompt pair) to unpair")
        prompt = plain(record["messages"])
        return [
            {"prompt": prompt, "completion": plain(record["chosen"]), "label": True},
            {"prompt": prompt, "completion": plain(record["rejected"]), "label": False},
        ]
    return []


def trl_reward(record: Row) -> list[Row]:
    if record["kind"] != "preference":
        return []
    prompt = plain(record.get("messages"))
    row: Row = {"chosen": prompt + plain(record["chosen"]), "rejected": prompt + plain(record["rejected"])}
    if record.get("margin") is not None:
        row["margin"] = record["margin"]
    return [row]


# -- OpenAI -------------------------------------------------------------------------------


def openai_sft(record: Row) -> list[Row]:
    if record["kind"] != "conversation":
        return []
    return [_with_tools({"messages": plain(record["messages"], openai=True)}, record)]


def openai_dpo(record: Row) -> list[Row]:
    if record["kind"] != "preference":
        return []
    prompt: Row = {"messages": plain(record.get("messages"), openai=True)}
    tools = _tools(record)
    if tools is not None:
        prompt["tools"] = tools
    return [
        {
            "input": prompt,
            "preferred_output": plain(record["chosen"], openai=True),
            "non_preferred_output": plain(record["rejected"], openai=True),
        }
    ]


# -- ShareGPT, Alpaca, HH-RLHF -------------------------------------------------------------

SHAREGPT_FROM = {"user": "human", "assistant": "gpt", "system": "system", "tool": "tool"}


def sharegpt(record: Row) -> list[Row]:
    if record["kind"] != "conversation":
        return []
    turns = []
    for m in record["messages"]:
        if m.get("tool_calls"):
            raise Unfit("ShareGPT has no tool calls")
        turns.append({"from": SHAREGPT_FROM[m["role"]], "value": m["content"]})
    return [{"id": record["id"], "conversations": turns}]


def alpaca(record: Row) -> list[Row]:
    if record["kind"] != "conversation":
        return []
    messages = record["messages"]
    system = None
    if messages and messages[0]["role"] == "system":
        system, messages = messages[0]["content"], messages[1:]
    if [m["role"] for m in messages] != ["user", "assistant"]:
        raise Unfit(f"Alpaca holds one user turn and one answer, not {'/'.join(m['role'] for m in messages)}")
    row: Row = {"instruction": messages[0]["content"], "input": "", "output": messages[1]["content"]}
    if system is not None:
        row["system"] = system
    return [row]


HH_NAMES = {"user": "Human", "assistant": "Assistant"}


def hh_transcript(messages: list[dict]) -> str:
    parts = []
    for m in messages:
        if m["role"] not in HH_NAMES:
            raise Unfit(f"HH-RLHF transcripts hold Human and Assistant turns only, not {m['role']}")
        parts.append(f"\n\n{HH_NAMES[m['role']]}: {m['content']}")
    return "".join(parts)


def hh_rlhf(record: Row) -> list[Row]:
    if record["kind"] != "preference":
        return []
    prompt = record.get("messages") or []
    return [
        {"chosen": hh_transcript(prompt + record["chosen"]), "rejected": hh_transcript(prompt + record["rejected"])}
    ]


CONVERTERS: dict[str, Callable[..., list[Row]]] = {
    "trl-sft": trl_sft,
    "trl-dpo": trl_dpo,
    "trl-kto": trl_kto,
    "trl-reward": trl_reward,
    "openai-sft": openai_sft,
    "openai-dpo": openai_dpo,
    "sharegpt": sharegpt,
    "alpaca": alpaca,
    "hh-rlhf": hh_rlhf,
}
# The record kinds each format holds (others are skipped and counted).
KINDS = {
    "trl-sft": ("conversation",),
    "trl-dpo": ("preference",),
    "trl-kto": ("unpaired", "preference"),
    "trl-reward": ("preference",),
    "openai-sft": ("conversation",),
    "openai-dpo": ("preference",),
    "sharegpt": ("conversation",),
    "alpaca": ("conversation",),
    "hh-rlhf": ("preference",),
}
# The reader format that reads each export back.
READ_BACK = {
    "trl-sft": "trl",
    "trl-dpo": "trl",
    "trl-kto": "trl",
    "trl-reward": "trl",
    "openai-sft": "openai",
    "openai-dpo": "openai",
    "sharegpt": "sharegpt",
    "alpaca": "alpaca",
    "hh-rlhf": "hh-rlhf",
}
