"""The record schema: what one document looks like as it flows through Winnow.

A *record* is one document or example; a *batch* is a ``pyarrow.Table`` of records.
Every batch carries the core columns below, in this order, followed by the attribute
columns that taggers add (named ``<step>.<attribute>``).

Core columns
------------
id            string, stable and unique in the dataset. When the input has none, it is derived
              from the input file (relative to the input root) and the line/row number.
text          string, the document.
source        string, where the record came from: a dataset name or URI.
url           string or null.
license       string, an SPDX id, or ``unknown``.
collected_at  string or null, ISO-8601 time the record was collected (WARC-Date, file mtime…).
input_file    string, the file the record was read from (provenance, kept to the output).
meta          string, a JSON object: free-form fields carried from the input.

Rejected records carry one more column, ``reason`` ("<step>: <why>"); quarantined input rows
carry ``reason`` and the raw input in ``text``.

Conversation columns (post-training data)
-----------------------------------------
Fine-tuning and preference records carry these columns after the core ones (a document batch
has none of them). ``kind`` says which shape a record is; ``text`` holds the rendered form
(``winnow.conversation.render_record``) so every text step still runs on it.

kind          string: ``conversation`` (SFT), ``preference`` (chosen/rejected), ``unpaired``
              (one completion with a good/bad label, KTO) or ``rated`` (N scored completions).
messages      list<message>: the whole conversation (``conversation``) or the shared prompt
              turns (the other kinds).
tools         string or null: the JSON array of tool definitions offered to the model.
chosen        list<message> or null: the preferred continuation (usually one assistant turn).
rejected      list<message> or null: the dispreferred continuation.
chosen_score, rejected_score, margin   float64 or null.
completion    list<message> or null: the completion of an ``unpaired`` record; ``label`` bool.
completions   list<struct<messages: list<message>, score: float64, annotator: string>> or null:
              the scored completions of a ``rated`` record.

A message is ``struct<role, content, name, tool_calls, weight, tool_call_id>``: ``role`` one of
system, user, assistant, tool; ``content`` a string; ``name`` and ``tool_calls`` (a JSON string of
the OpenAI-style list) nullable; ``weight`` (0 or 1: train on this turn or not) nullable;
``tool_call_id`` (nullable) the call a ``tool`` message answers (OpenAI requires it on tool turns).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

CORE_FIELDS: list[pa.Field] = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("text", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("url", pa.string()),
    pa.field("license", pa.string(), nullable=False),
    pa.field("collected_at", pa.string()),
    pa.field("input_file", pa.string()),
    pa.field("meta", pa.string()),
]
CORE_SCHEMA = pa.schema(CORE_FIELDS)
CORE_COLUMNS: list[str] = [f.name for f in CORE_FIELDS]
REASON = "reason"

ROLES = ("system", "user", "assistant", "tool")
MESSAGE_TYPE = pa.struct(
    [
        pa.field("role", pa.string(), nullable=False),
        pa.field("content", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("tool_calls", pa.string()),
        pa.field("weight", pa.float64()),
        pa.field("tool_call_id", pa.string()),
    ]
)
MESSAGES_TYPE = pa.list_(MESSAGE_TYPE)
COMPLETION_TYPE = pa.struct(
    [
        pa.field("messages", MESSAGES_TYPE),
        pa.field("score", pa.float64()),
        pa.field("annotator", pa.string()),
    ]
)
KINDS = ("conversation", "preference", "unpaired", "rated")
CONVERSATION_FIELDS: list[pa.Field] = [
    pa.field("kind", pa.string(), nullable=False),
    pa.field("messages", MESSAGES_TYPE),
    pa.field("tools", pa.string()),
    pa.field("chosen", MESSAGES_TYPE),
    pa.field("rejected", MESSAGES_TYPE),
    pa.field("chosen_score", pa.float64()),
    pa.field("rejected_score", pa.float64()),
    pa.field("margin", pa.float64()),
    pa.field("completion", MESSAGES_TYPE),
    pa.field("label", pa.bool_()),
    pa.field("completions", pa.list_(COMPLETION_TYPE)),
]
CONVERSATION_COLUMNS: list[str] = [f.name for f in CONVERSATION_FIELDS]
# The columns that hold messages: a step that rewrites text rewrites the contents in all of them.
MESSAGE_COLUMNS = ("messages", "chosen", "rejected", "completion")
UNKNOWN_LICENSE = "unknown"


def empty_batch() -> pa.Table:
    return CORE_SCHEMA.empty_table()


def make_batch(columns: dict[str, list[Any]]) -> pa.Table:
    """Build a record batch from python lists keyed by column name.

    Core columns missing from ``columns`` are filled with nulls (``license`` with
    ``unknown``); ``meta`` values that are dicts are JSON-encoded. Extra columns are kept
    after the core ones, with Arrow-inferred types.
    """
    n = len(columns["id"])
    arrays: list[pa.Array] = []
    for field in CORE_FIELDS:
        values = columns.get(field.name)
        if values is None:
            values = [UNKNOWN_LICENSE] * n if field.name == "license" else [None] * n
        elif field.name == "meta":
            values = [encode_meta(v) for v in values]
        arrays.append(_strings(values, field.type) if field.name == "text" else pa.array(values, type=field.type))
    names = list(CORE_COLUMNS)
    for name, values in columns.items():
        if name not in CORE_COLUMNS:
            names.append(name)
            arrays.append(pa.array(values))
    return pa.Table.from_arrays(arrays, names=names)


def is_conversational(batch: pa.Table) -> bool:
    """Whether a batch holds post-training records (it has the conversation columns)."""
    return "kind" in batch.schema.names and "messages" in batch.schema.names


def make_conversation_batch(columns: dict[str, list[Any]]) -> pa.Table:
    """Like :func:`make_batch`, with the conversation columns typed as above (missing ones null).

    Messages are dicts ``{role, content, name?, tool_calls?, weight?}``."""
    n = len(columns["id"])
    core = make_batch({k: v for k, v in columns.items() if k not in CONVERSATION_COLUMNS})
    extra = core.select([c for c in core.column_names if c not in CORE_COLUMNS])
    arrays = [core.column(c) for c in CORE_COLUMNS]
    names = list(CORE_COLUMNS)
    for f in CONVERSATION_FIELDS:
        values = columns.get(f.name, [None] * n)
        arrays.append(messages_array(values) if f.name in MESSAGE_COLUMNS else pa.array(values, type=f.type))
        names.append(f.name)
    for c in extra.column_names:
        arrays.append(extra.column(c))
        names.append(c)
    return pa.Table.from_arrays(arrays, names=names)


def string_array(values: list[str]) -> pa.Array:
    """``pa.array(values, pa.string())`` for a list of Python strings, built from one joined,
    encoded buffer: ~3x faster than pyarrow's per-object conversion on long texts."""
    try:
        lengths = [len(v) if v.isascii() else len(v.encode()) for v in values]
    except UnicodeEncodeError:  # a lone surrogate: pyarrow's own conversion says what is wrong
        return pa.array(values, pa.string())
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] >= 2**31:  # beyond 32-bit offsets: let pyarrow decide
        return pa.array(values, pa.string())
    data = "".join(values).encode()
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data))


def _strings(values: list[Any], type_: pa.DataType) -> pa.Array:
    if type_ == pa.string() and values and all(type(v) is str for v in values):
        return string_array(values)
    return pa.array(values, type=type_)


_OPTIONAL_MESSAGE_FIELDS = [f for f in MESSAGE_TYPE if f.name not in ("role", "content")]


def messages_array(values: list[list[dict[str, Any]] | None]) -> pa.Array:
    """A ``list<message>`` array from message lists (``None`` for a null list). Built field by
    field with comprehensions: about 3x faster than ``pa.array`` on the dicts (the read path)."""
    flat = [m for messages in values if messages for m in messages]
    lengths = [len(messages) if messages else 0 for messages in values]
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    fields = [pa.array([m["role"] for m in flat], pa.string()), _strings([m["content"] for m in flat], pa.string())]
    # Messages that hold only role and content (what readers build) skip the optional fields.
    bare = all(len(m) == 2 for m in flat)
    for f in _OPTIONAL_MESSAGE_FIELDS:
        column = None if bare else [m.get(f.name) for m in flat]
        if column is None or all(v is None for v in column):
            fields.append(pa.nulls(len(flat), f.type))
        else:
            fields.append(pa.array(column, f.type))
    struct = pa.StructArray.from_arrays(fields, fields=list(MESSAGE_TYPE))
    mask = None
    if any(messages is None for messages in values):
        mask = pa.array([messages is None for messages in values], pa.bool_())
    return pa.ListArray.from_arrays(pa.array(offsets), struct, type=MESSAGES_TYPE, mask=mask)


def table_from_rows(rows: list[dict[str, Any]]) -> pa.Table:
    """A table of records given as dicts (read back from JSONL, say), with the conversation
    columns in their declared types (inferring them would lose the struct fields that are null)."""
    if not rows or "kind" not in rows[0]:
        return pa.Table.from_pylist(rows)
    names = list(rows[0])
    typed = {f.name: f.type for f in CONVERSATION_FIELDS}
    arrays = [pa.array([r.get(name) for r in rows], type=typed.get(name)) for name in names]
    return pa.Table.from_arrays(arrays, names=names)


def encode_meta(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def decode_meta(value: str | None) -> dict[str, Any]:
    return orjson.loads(value) if value else {}


def derived_id(relative_path: str, position: int) -> str:
    """The id of a record that has none: its file (relative to the input root) and position."""
    return f"{relative_path}:{position}"


def with_column(batch: pa.Table, name: str, values: pa.Array | Iterable[Any]) -> pa.Table:
    """Add or replace a column (tag columns go after the core columns)."""
    array = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(list(values))
    index = batch.schema.get_field_index(name)
    if index >= 0:
        return batch.set_column(index, name, array)
    return batch.append_column(name, array)


def unify(tables: list[pa.Table]) -> pa.Table:
    """Concatenate batches whose tag columns may differ (missing columns become null)."""
    tables = [t for t in tables if t is not None]
    if not tables:
        return empty_batch()
    return pa.concat_tables(tables, promote_options="permissive")


def rows(batch: pa.Table) -> list[dict[str, Any]]:
    return batch.to_pylist()
