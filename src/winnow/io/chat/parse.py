"""One input row of a conversation format → post-training records (``winnow.records``).

Each format is a function ``row -> list[dict]``: the dicts hold the conversation columns
(``kind``, ``messages``, ``chosen`` …) and, optionally, ``id``, ``collected_at`` and ``meta``.
A row that does not fit raises :class:`RowError` with the cause; the reader adds file and line.
``FORMAT_KEYS`` names the top-level keys each format consumes: the reader keeps every other
key of the row in ``meta``, so nothing the input carried is lost.

``detect(row)`` picks the format from the keys (rules in docs/post-training.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from winnow.records import ROLES


class RowError(ValueError):
    """Why one input row is not a valid record of its format."""


Record = dict[str, Any]

# -- messages -----------------------------------------------------------------------------

SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "system": "system",
    "tool": "tool",
    "observation": "tool",
    "function_response": "tool",
}


def _content(value: Any, where: str, has_tool_calls: bool) -> str:
    if isinstance(value, str):
        return value
    if value is None and has_tool_calls:
        return ""  # an assistant turn that only calls tools
    if isinstance(value, list):  # OpenAI content parts: only text parts are supported
        texts = []
        for i, part in enumerate(value):
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise RowError(f"{where}.content[{i}] is a {kind!r} part; only text parts are supported")
            texts.append(part["text"])
        return "".join(texts)
    raise RowError(f"{where}.content is {type(value).__name__}, not a string")


def _json_string(value: Any, where: str) -> str | None:
    """A JSON-encodable value (tool calls, tool definitions) as its JSON text; strings stay as given."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            orjson.loads(value)
        except orjson.JSONDecodeError as error:
            raise RowError(f"{where} is a string but not JSON: {error}") from None
        return value
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode() if value else None
    raise RowError(f"{where} is {type(value).__name__}, expected a list")


def to_message(obj: Any, where: str) -> dict[str, Any]:
    """A ``{role, content, …}`` object as a message of the Arrow struct."""
    if not isinstance(obj, dict):
        raise RowError(f"{where} is {type(obj).__name__}, not an object")
    role = obj.get("role")
    if role not in ROLES:
        raise RowError(f"{where}.role is {role!r} (expected one of {', '.join(ROLES)})")
    tool_calls = _json_string(obj.get("tool_calls"), f"{where}.tool_calls")
    weight = obj.get("weight")
    if weight is not None:
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise RowError(f"{where}.weight is {weight!r}, expected 0 or 1")
        weight = float(weight)
    name, call_id = obj.get("name"), obj.get("tool_call_id")
    message = {"role": role, "content": _content(obj.get("content"), where, tool_calls is not None)}
    # Only the optional fields that are set (the Arrow builder fills the others with nulls).
    if isinstance(name, str):
        message["name"] = name
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    if weight is not None:
        message["weight"] = weight
    if isinstance(call_id, str):
        message["tool_call_id"] = call_id
    return message


def _msg(role: str, content: str) -> dict[str, Any]:
    # Only the fields that are set: the Arrow builder fills the others with nulls in one go.
    return {"role": role, "content": content}


def to_messages(value: Any, where: str, default_role: str = "assistant") -> list[dict[str, Any]]:
    """A message list, or (TRL's standard format) a plain string as one ``default_role`` turn."""
    if isinstance(value, str):
        return [_msg(default_role, value)]
    if not isinstance(value, list):
        raise RowError(f"{where} is {type(value).__name__}, expected a list of messages or a string")
    if not value:
        raise RowError(f"{where} is an empty list")
    return [to_message(m, f"{where}[{i}]") for i, m in enumerate(value)]


def split_prompt(chosen: list[dict], rejected: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """An implicit-prompt pair as (shared prompt, chosen, rejected): the prompt is the longest common
    prefix of the two conversations that leaves each side at least its last turn."""
    n = 0
    limit = min(len(chosen), len(rejected)) - 1
    while n < limit and chosen[n] == rejected[n]:
        n += 1
    return chosen[:n], chosen[n:], rejected[n:]


def _score(row: dict, key: str) -> float | None:
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RowError(f"{key} is {value!r}, not a number")
    return float(value)


def _require(row: dict, *keys: str) -> None:
    missing = [k for k in keys if k not in row]
    if missing:
        raise RowError(f"missing {', '.join(repr(k) for k in missing)} (keys present: {', '.join(row) or 'none'})")


def _tools(row: dict, key: str = "tools") -> str | None:
    return _json_string(row.get(key), key)


# -- formats ------------------------------------------------------------------------------


def parse_openai(row: dict) -> list[Record]:
    """OpenAI fine-tuning JSONL: SFT ``{messages, tools?, parallel_tool_calls?}`` (turns may carry
    ``weight``, ``tool_calls``, ``tool_call_id``) or DPO ``{input: {messages, tools?},
    preferred_output: [one assistant turn], non_preferred_output: [one]}``."""
    if "preferred_output" in row or "non_preferred_output" in row:
        _require(row, "input", "preferred_output", "non_preferred_output")
        prompt = row["input"]
        if not isinstance(prompt, dict) or "messages" not in prompt:
            raise RowError("input is not an object with messages")
        return [
            {
                "kind": "preference",
                "messages": to_messages(prompt["messages"], "input.messages"),
                "tools": _json_string(prompt.get("tools"), "input.tools"),
                "chosen": to_messages(row["preferred_output"], "preferred_output"),
                "rejected": to_messages(row["non_preferred_output"], "non_preferred_output"),
            }
        ]
    _require(row, "messages")
    return [{"kind": "conversation", "messages": to_messages(row["messages"], "messages"), "tools": _tools(row)}]


def parse_trl(row: dict) -> list[Record]:
    """Every TRL dataset type, standard (strings) or conversational (message lists): language
    modeling (``text`` / ``messages``), prompt-only, prompt-completion, preference (explicit
    ``prompt`` + ``chosen``/``rejected``, or implicit), unpaired preference (``label``). In the
    standard format a ``prompt`` string is a user turn and every other string an assistant turn."""
    if "chosen" in row or "rejected" in row:
        _require(row, "chosen", "rejected")
        chosen = to_messages(row["chosen"], "chosen")
        rejected = to_messages(row["rejected"], "rejected")
        if "prompt" in row:
            prompt = to_messages(row["prompt"], "prompt", "user")
        elif isinstance(row["chosen"], str):
            prompt = None  # standard implicit prompt: the prompt is inside both strings
        else:
            prompt, chosen, rejected = split_prompt(chosen, rejected)
        return [
            {
                "kind": "preference",
                "messages": prompt or None,
                "tools": _tools(row),
                "chosen": chosen,
                "rejected": rejected,
                "chosen_score": _score(row, "chosen_score"),
                "rejected_score": _score(row, "rejected_score"),
                "margin": _score(row, "margin"),
            }
        ]
    if "label" in row:
        _require(row, "prompt", "completion")
        if not isinstance(row["label"], bool):
            raise RowError(f"label is {row['label']!r}, expected true or false")
        return [
            {
                "kind": "unpaired",
                "messages": to_messages(row["prompt"], "prompt", "user"),
                "tools": _tools(row),
                "completion": to_messages(row["completion"], "completion"),
                "label": row["label"],
            }
        ]
    if "prompt" in row:
        messages = to_messages(row["prompt"], "prompt", "user")
        if "completion" in row:
            messages = messages + to_messages(row["completion"], "completion")
        return [{"kind": "conversation", "messages": messages, "tools": _tools(row)}]
    if "messages" in row:
        return [{"kind": "conversation", "messages": to_messages(row["messages"], "messages"), "tools": _tools(row)}]
    if isinstance(row.get("text"), str):
        return [{"kind": "conversation", "messages": [_msg("assistant", row["text"])]}]
    raise RowError(f"no TRL dataset type has the keys {', '.join(row) or 'none'}")


def parse_sharegpt(row: dict) -> list[Record]:
    """ShareGPT: ``{conversations: [{from, value}], system?, tools?}`` (``from``: human/user, gpt/
    assistant/model…, system, tool/observation)."""
    _require(row, "conversations")
    turns = row["conversations"]
    if not isinstance(turns, list) or not turns:
        raise RowError("conversations is not a non-empty list")
    messages = []
    if isinstance(row.get("system"), str) and row["system"]:
        messages.append(_msg("system", row["system"]))
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise RowError(f"conversations[{i}] is {type(turn).__name__}, not an object")
        role = SHAREGPT_ROLES.get(str(turn.get("from")).lower())
        if role is None:
            raise RowError(f"conversations[{i}].from is {turn.get('from')!r} (expected human, gpt, system or tool)")
        value = turn.get("value")
        if not isinstance(value, str):
            raise RowError(f"conversations[{i}].value is {type(value).__name__}, not a string")
        messages.append(_msg(role, value))
    return [{"kind": "conversation", "messages": messages, "tools": _tools(row)}]


_HH_TURN = re.compile(r"\n\n(Human|Assistant):")
HH_ROLES = {"Human": "user", "Assistant": "assistant"}


def parse_hh_transcript(text: Any, where: str) -> list[dict[str, Any]]:
    """``"\\n\\nHuman: …\\n\\nAssistant: …"`` → messages (one space after the colon is the separator)."""
    if not isinstance(text, str):
        raise RowError(f"{where} is {type(text).__name__}, not a transcript string")
    parts = _HH_TURN.split(text)
    if parts[0].strip():
        raise RowError(f"{where} does not start with '\\n\\nHuman:' (starts {parts[0][:40]!r})")
    if len(parts) < 3:
        raise RowError(f"{where} has no '\\n\\nHuman:' / '\\n\\nAssistant:' turns")
    roles = HH_ROLES
    return [
        {"role": roles[name], "content": content[1:] if content[:1] == " " else content}
        for name, content in zip(parts[1::2], parts[2::2], strict=True)
    ]


def parse_hh(row: dict) -> list[Record]:
    """Anthropic HH-RLHF: ``{chosen, rejected}``, each a whole transcript; the shared prompt is the
    common prefix, chosen/rejected the turns after it (the last assistant turn). Scores beside them
    (a judge's ``chosen_score`` / ``rejected_score`` / ``margin``) are kept, as for TRL rows."""
    _require(row, "chosen", "rejected")
    prompt, chosen, rejected = split_prompt(
        parse_hh_transcript(row["chosen"], "chosen"), parse_hh_transcript(row["rejected"], "rejected")
    )
    record: Record = {"kind": "preference", "messages": prompt or None, "chosen": chosen, "rejected": rejected}
    for column in ("chosen_score", "rejected_score", "margin"):
        if row.get(column) is not None:
            record[column] = _score(row, column)
    return [record]


def _instruction(instruction: Any, extra: Any, where: str) -> str:
    if not isinstance(instruction, str):
        raise RowError(f"{where} is {type(instruction).__name__}, not a string")
    if extra is None or extra == "":
        return instruction
    if not isinstance(extra, str):
        raise RowError(f"input is {type(extra).__name__}, not a string")
    return f"{instruction}\n\n{extra}"


def parse_alpaca(row: dict) -> list[Record]:
    """Alpaca: ``{instruction, input?, output, system?}``; the user turn is the instruction, then a
    blank line and the input when there is one."""
    _require(row, "instruction", "output")
    if not isinstance(row["output"], str):
        raise RowError(f"output is {type(row['output']).__name__}, not a string")
    messages = [_msg("system", row["system"])] if isinstance(row.get("system"), str) and row["system"] else []
    messages.append(_msg("user", _instruction(row["instruction"], row.get("input"), "instruction")))
    messages.append(_msg("assistant", row["output"]))
    return [{"kind": "conversation", "messages": messages}]


def parse_self_instruct(row: dict) -> list[Record]:
    """Self-Instruct seed tasks: ``{id, instruction, instances: [{input, output}]}``: one Alpaca-style
    conversation per instance (ids ``<id>#<n>`` when a task has more than one)."""
    _require(row, "instruction", "instances")
    instances = row["instances"]
    if not isinstance(instances, list) or not instances:
        raise RowError("instances is not a non-empty list")
    records = []
    for i, instance in enumerate(instances):
        if not isinstance(instance, dict) or not isinstance(instance.get("output"), str):
            raise RowError(f"instances[{i}] is not an object with a string output")
        record: Record = {
            "kind": "conversation",
            "messages": [
                _msg("user", _instruction(row["instruction"], instance.get("input"), "instruction")),
                _msg("assistant", instance["output"]),
            ],
        }
        if len(instances) > 1:
            record["id_suffix"] = f"#{i}"
        records.append(record)
    return records


def parse_mt_bench(row: dict) -> list[Record]:
    """FastChat MT-Bench: ``{question_id, category, turns: [str]}`` → the user turns (a multi-turn
    prompt); with ``choices: [{turns}]`` (an answer file row) the answers are interleaved."""
    _require(row, "turns")
    turns = row["turns"]
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
        raise RowError("turns is not a non-empty list of strings")
    answers: list[Any] = []
    choices = row.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        answers = choices[0].get("turns") or []
    messages = []
    for i, turn in enumerate(turns):
        messages.append(_msg("user", turn))
        if i < len(answers):
            messages.append(_msg("assistant", str(answers[i])))
    return [{"kind": "conversation", "messages": messages}]


def _thumbs(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if value in ("up", "+1", 1, "positive", "good"):
        return True
    if value in ("down", "-1", -1, "negative", "bad"):
        return False
    raise RowError(f"feedback.thumbs is {value!r} (expected up/down, true/false or 1/-1)")


def parse_chatlog(row: dict) -> list[Record]:
    """A production chat log with user feedback (Winnow's own format, see docs/post-training.md):
    ``{messages: [... ending on the assistant's answer], feedback: {thumbs?, rating?, edited?,
    comment?, user?}, timestamp?}``. An edited answer gives a preference edited ≻ original; thumbs
    an unpaired (KTO) label; a rating alone a rated record with one scored completion; no
    feedback the plain conversation. The feedback object stays in ``meta``."""
    _require(row, "messages")
    messages = to_messages(row["messages"], "messages")
    feedback = row.get("feedback") or {}
    if not isinstance(feedback, dict):
        raise RowError(f"feedback is {type(feedback).__name__}, not an object")
    record: Record = {"kind": "conversation", "messages": messages, "tools": _tools(row)}
    timestamp = row.get("timestamp")
    if timestamp is not None:
        record["collected_at"] = str(timestamp)
    thumbs = _thumbs(feedback.get("thumbs"))
    rating = _score(feedback, "rating")
    edited = feedback.get("edited")
    if edited is None and thumbs is None and rating is None:
        return [record]
    if messages[-1]["role"] != "assistant":
        raise RowError("feedback given but messages do not end on an assistant answer")
    prompt, answer = messages[:-1] or None, messages[-1:]
    record["messages"] = prompt
    if edited is not None:
        if not isinstance(edited, str):
            raise RowError(f"feedback.edited is {type(edited).__name__}, not a string")
        record.update(kind="preference", chosen=[_msg("assistant", edited)], rejected=answer)
    elif thumbs is not None:
        record.update(kind="unpaired", completion=answer, label=thumbs)
    else:
        annotator = feedback.get("user")
        record.update(
            kind="rated",
            completions=[{"messages": answer, "score": rating, "annotator": str(annotator) if annotator else None}],
        )
    return [record]


def _optional_messages(value: Any, where: str) -> list[dict] | None:
    return None if value is None else to_messages(value, where)


def parse_winnow(row: dict) -> list[Record]:
    """A record as Winnow writes it (``winnow run`` JSONL output, ``kind`` + the conversation columns)."""
    kind = row.get("kind")
    if kind not in ("conversation", "preference", "unpaired", "rated"):
        raise RowError(f"kind is {kind!r}")
    record: Record = {"kind": kind, "tools": _tools(row)}
    for column in ("messages", "chosen", "rejected", "completion"):
        record[column] = _optional_messages(row.get(column), column)
    for column in ("chosen_score", "rejected_score", "margin"):
        record[column] = _score(row, column)
    if row.get("label") is not None:
        record["label"] = bool(row["label"])
    completions = row.get("completions")
    if completions is not None:
        record["completions"] = [
            {
                "messages": to_messages(c.get("messages"), f"completions[{i}].messages"),
                "score": _score(c, "score"),
                "annotator": c.get("annotator"),
            }
            for i, c in enumerate(completions)
        ]
    return [record]


PARSERS: dict[str, Callable[[dict], list[Record]]] = {
    "openai": parse_openai,
    "trl": parse_trl,
    "sharegpt": parse_sharegpt,
    "hh-rlhf": parse_hh,
    "alpaca": parse_alpaca,
    "self-instruct": parse_self_instruct,
    "mt-bench": parse_mt_bench,
    "chatlog": parse_chatlog,
    "winnow": parse_winnow,
}
_COLUMNS = {"chosen_score", "rejected_score", "margin", "tools"}
FORMAT_KEYS: dict[str, frozenset[str]] = {
    "openai": frozenset({"messages", "tools", "input", "preferred_output", "non_preferred_output"}),
    "trl": frozenset({"text", "messages", "prompt", "completion", "chosen", "rejected", "label"} | _COLUMNS),
    "sharegpt": frozenset({"conversations", "system", "tools"}),
    "hh-rlhf": frozenset({"chosen", "rejected"}),
    "alpaca": frozenset({"instruction", "input", "output", "system"}),
    "self-instruct": frozenset({"instruction", "instances"}),
    "mt-bench": frozenset({"turns", "choices"}),
    "chatlog": frozenset({"messages", "tools", "timestamp"}),
    "winnow": frozenset(
        {"kind", "messages", "chosen", "rejected", "completion", "label", "completions", "text"} | _COLUMNS
    ),
}
# Id keys besides the input's id_field, by format (MT-Bench numbers its questions).
ID_KEYS = {"mt-bench": "question_id"}


def detect(row: dict) -> str:
    """The format of one row, from its keys (first rule that matches)."""
    if "kind" in row and "messages" in row:
        return "winnow"
    if "conversations" in row:
        return "sharegpt"
    if "preferred_output" in row or "non_preferred_output" in row:
        return "openai"
    if "messages" in row:
        return "chatlog" if "feedback" in row else "openai"
    if "chosen" in row and "rejected" in row and "prompt" not in row:
        chosen = row["chosen"]
        if isinstance(chosen, str) and chosen.startswith("\n\nHuman:"):
            return "hh-rlhf"
        return "trl"
    if "prompt" in row or "text" in row:
        return "trl"
    if "instruction" in row:
        return "self-instruct" if "instances" in row else "alpaca"
    if "turns" in row:
        return "mt-bench"
    raise RowError(
        f"cannot tell the conversation format from the keys {', '.join(row) or 'none'}; "
        f"set input.format to one of {', '.join(PARSERS)}"
    )
