"""Conversation inputs: ``format: chat`` (detected per row from its keys) or a named format.

A file is JSON Lines (one row a line, .gz/.zst/… by extension) or one JSON array of rows
(ShareGPT's usual ``.json``). JSON Lines files split into byte-range shards like ``jsonl``;
a JSON array is read whole as one shard. Bad rows name the file, the line (or the array
item) and the cause, or go to quarantine under ``on_error: skip``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import orjson
import pyarrow as pa

from winnow.conversation import render_record
from winnow.io.base import DEFAULT_BATCH_SIZE, ErrorSink, InputRow, InputSpec, Reader, Shard, register_reader
from winnow.io.chat.hh_columnar import read_hh_columnar
from winnow.io.chat.parse import FORMAT_KEYS, ID_KEYS, PARSERS, RowError, detect
from winnow.io.files import open_binary
from winnow.io.jsonl import json_lines
from winnow.records import CONVERSATION_COLUMNS, derived_id, encode_meta, make_conversation_batch

_CORE_KEYS = frozenset({"id", "url", "license", "source", "collected_at"})


class ConversationBuilder:
    """Parsed rows → conversation batches (core columns from the input spec, ``text`` rendered)."""

    def __init__(self, spec: InputSpec, shard: Shard, errors: ErrorSink, fmt: str | None):
        self.spec, self.shard, self.errors, self.fmt = spec, shard, errors, fmt
        self._consumed: dict[str, frozenset[str]] = {}  # the keys each format reads (the rest is meta)
        self._reset()

    def _reset(self) -> None:
        names = ["id", "text", "source", "url", "license", "collected_at", "input_file", "meta", *CONVERSATION_COLUMNS]
        self.columns: dict[str, list[Any]] = {k: [] for k in names}

    def __len__(self) -> int:
        return len(self.columns["id"])

    def add(self, row: Any, position: int, location: str, raw: Any = None) -> None:
        shard, spec = self.shard, self.spec
        if not isinstance(row, dict):
            self.errors.bad(shard.source_file, location, f"expected an object, got {type(row).__name__}", raw)
            return
        record_id = row.get(spec.id_field)
        try:
            fmt = self.fmt or detect(row)
            if record_id is None and fmt in ID_KEYS:
                record_id = row.get(ID_KEYS[fmt])
            record_id = derived_id(shard.relative, position) if record_id is None else str(record_id)
            records = PARSERS[fmt](row)
        except RowError as error:
            rid = None if record_id is None else str(record_id)
            self.errors.bad(shard.source_file, location, f"{self.fmt or 'chat'}: {error}", raw, rid)
            return
        consumed = self._consumed.get(fmt)
        if consumed is None:
            consumed = self._consumed[fmt] = FORMAT_KEYS[fmt] | _CORE_KEYS | {spec.id_field, ID_KEYS.get(fmt, "")}
        meta = {k: v for k, v in row.items() if k not in consumed}
        if fmt == "winnow" and isinstance(row.get("meta"), (str, dict)):
            meta = row["meta"] if isinstance(row["meta"], dict) else orjson.loads(row["meta"] or "{}")
        meta_text = encode_meta(meta) if meta else None
        source = (spec.source_field and row.get(spec.source_field)) or spec.source_name
        license_ = (spec.license_field and row.get(spec.license_field)) or row.get("license") or spec.license
        url = row.get("url")
        c = self.columns
        for record in records:
            c["id"].append(record_id + record.get("id_suffix", ""))
            c["text"].append(render_record(record))
            c["source"].append(source)
            c["url"].append(url if isinstance(url, str) else None)
            c["license"].append(license_)
            collected = record.get("collected_at") or row.get("collected_at") or spec.collected_at
            c["collected_at"].append(str(collected) if collected is not None else None)
            c["input_file"].append(shard.source_file)
            c["meta"].append(meta_text)
            for column in CONVERSATION_COLUMNS:
                c[column].append(record.get(column))

    def flush(self) -> pa.Table | None:
        if not len(self):
            return None
        batch = make_conversation_batch(self.columns)
        self._reset()
        return batch


def _is_json_array(shard: Shard) -> bool:
    if shard.start:
        return False
    with open_binary(shard.file, None if shard.end is not None else "infer") as f:
        head = f.read(4096).lstrip()
        while not head:
            chunk = f.read(4096)
            if not chunk:
                return False
            head = chunk.lstrip()
    return head[:1] == b"["


class ChatReader(Reader):
    """Conversations, instructions and preferences; ``format`` fixed by the subclass, or detected."""

    format = "chat"
    parser: ClassVar[str | None] = None  # None: detect the format of every row
    splittable = True

    @classmethod
    def can_split(cls, url: str) -> bool:
        return not _is_json_array(Shard(0, 0, url, url))

    def read(
        self, shard: Shard, spec: InputSpec, errors: ErrorSink, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[pa.Table]:
        if self.parser in (None, "hh-rlhf") and not _is_json_array(shard):
            batches = read_hh_columnar(shard, spec, batch_size)  # None unless every row is a plain HH pair
            if batches is not None:
                yield from batches
                return
        yield from self.batches(conversation_rows(shard, errors), spec, shard, errors, batch_size)

    def builder(self, spec: InputSpec, shard: Shard, errors: ErrorSink) -> ConversationBuilder:
        return ConversationBuilder(spec, shard, errors, self.parser)


def conversation_rows(shard: Shard, errors: ErrorSink) -> Iterator[InputRow]:
    """The rows of a conversation file: the items of one JSON array, or its JSON lines."""
    return _array_items(shard, errors) if _is_json_array(shard) else json_lines(shard, errors)


def _array_items(shard: Shard, errors: ErrorSink) -> Iterator[InputRow]:
    """The items of a file that is one JSON array (ShareGPT's usual ``.json``)."""
    with open_binary(shard.file) as f:
        data = f.read()
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        errors.bad(shard.source_file, "file", f"invalid JSON: {error}")
        return
    for i, item in enumerate(items, start=1):
        yield InputRow(item, i, f"array item {i}", orjson.dumps(item))


def _fixed(name: str) -> type[ChatReader]:
    cls = type(f"ChatReader_{name.replace('-', '_')}", (ChatReader,), {"format": name, "parser": name})
    cls.__module__ = __name__
    globals()[cls.__name__] = cls  # importable by name: readers travel pickled to workers
    return register_reader(cls)


register_reader(ChatReader)
for _name in PARSERS:
    if _name != "winnow":
        _fixed(_name)


def read_conversations(path: str, format: str = "chat", on_error: str = "fail", **spec: Any) -> pa.Table:
    """Every record of a conversation input (a file, directory or glob) as one table, without a
    run: ``read_conversations("data/sharegpt.json")``. ``spec`` takes the other InputSpec fields."""
    from winnow.io.base import readers
    from winnow.io.files import expand
    from winnow.records import unify

    input_spec = InputSpec(path=path, format=format, **spec)
    reader = readers()[format]()
    errors = ErrorSink(on_error)
    batches = []
    for index, (url, relative) in enumerate(expand(path)):
        batches.extend(reader.read(Shard(index, 0, url, relative, format=format), input_spec, errors))
    return unify(batches)
