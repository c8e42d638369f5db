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
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
        arrays.append(pa.array(values, type=field.type))
    names = list(CORE_COLUMNS)
    for name, values in columns.items():
        if name not in CORE_COLUMNS:
            names.append(name)
            arrays.append(pa.array(values))
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
