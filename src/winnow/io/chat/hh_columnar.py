"""The fast path of HH-RLHF input: whole shards parsed and split in Arrow, no Python per row.

``parse.parse_hh`` reads one row at a time. HH sets are large (160k pairs for the full HH-RLHF)
and regular, so a shard of them is read here with pyarrow's JSON reader and the transcripts are
cut with Arrow string kernels: split at ``"\\n\\nHuman: "``, then each piece at
``"\\n\\nAssistant: "`` (the first part is the human turn, the others assistant turns); the shared
prompt (the longest common prefix of the two sides that leaves each its last turn) and the
rendered ``text`` are computed on whole columns with numpy. The batches are the ones the row
path gives, value for value (``tests/io/test_chat_formats.py`` compares them on the real set).

Only shards where every row is a plain ``{chosen, rejected}`` transcript pair take this path:
any other key, a non-string value, a blank line, a transcript that does not start with
``"\\n\\nHuman: "`` or a turn marker not followed by a space sends the shard to the row path,
which reads it exactly as before (and names the bad row, if there is one).
"""

from __future__ import annotations

import io

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from winnow.io.base import InputSpec, Shard
from winnow.io.files import open_binary
from winnow.records import (
    CONVERSATION_FIELDS,
    CORE_COLUMNS,
    MESSAGE_TYPE,
    MESSAGES_TYPE,
    UNKNOWN_LICENSE,
)

HUMAN, ASSISTANT = "\n\nHuman: ", "\n\nAssistant: "
_SCHEMA = pa.schema([("chosen", pa.string()), ("rejected", pa.string())])
_POOL = ["<|user|>", "<|assistant|>", "<|chosen|>", "<|rejected|>"]  # headers, first in the piece pool


def _read(shard: Shard) -> tuple[pa.Table, bytes] | None:
    with open_binary(shard.file, None if shard.end is not None else "infer") as f:
        if shard.end is not None:
            f.seek(shard.start)
            data = f.read(shard.end - shard.start)
        else:
            data = f.read()
    if not data or data.startswith(b"\n") or b"\r" in data:
        return None  # (a blank line inside shows as fewer rows than lines, below)
    try:  # a look at the first row before parsing the whole shard
        first = orjson.loads(data[: data.find(b"\n")] if b"\n" in data else data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(first, dict) or set(first) != {"chosen", "rejected"}:
        return None
    if not isinstance(first["chosen"], str) or not first["chosen"].startswith(HUMAN):
        return None
    try:
        table = pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(use_threads=False, block_size=max(1 << 20, len(data) + 1)),
            parse_options=pj.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="error"),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if table.num_rows != lines or table.column("chosen").null_count or table.column("rejected").null_count:
        return None
    return table, data


class _Turns:
    """The messages of one column of transcripts: roles (0 user, 1 assistant) and contents of
    every part, and where each transcript's messages start and how many there are."""

    def __init__(self, transcripts: pa.Array):
        pieces = pc.split_pattern(transcripts, HUMAN)  # ["", human + assistant turns, …]
        piece_offsets = pieces.offsets.to_numpy()
        parts = pc.split_pattern(pieces.flatten(), ASSISTANT)
        part_offsets = parts.offsets.to_numpy()
        # Every part is a message except the first of each transcript: the empty text before its
        # first human turn, left in place (filtering it out would copy every other turn).
        self.contents = parts.flatten()
        role = np.ones(len(self.contents), dtype=np.int8)
        role[part_offsets[:-1]] = 0  # each piece opens with the human turn
        self.roles = role
        first, end = part_offsets[piece_offsets[:-1]], part_offsets[piece_offsets[1:]]
        self.starts = (first + 1).astype(np.int64)
        self.lengths = (end - first - 1).astype(np.int64)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices start..start+length-1 of every range, concatenated."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - lengths - starts, lengths)


def _common_prefix(c: _Turns, r: _Turns) -> np.ndarray:
    """Per pair, how many leading turns both sides share (leaving each side its last turn)."""
    limit = np.maximum(np.minimum(c.lengths, r.lengths) - 1, 0)
    shared = limit.copy()
    record = np.repeat(np.arange(len(limit)), limit)
    position = _ranges(np.zeros(len(limit), dtype=np.int64), limit)
    ci, ri = c.starts[record] + position, r.starts[record] + position
    same = c.roles[ci] == r.roles[ri]
    if len(ci):
        same &= pc.equal(c.contents.take(pa.array(ci)), r.contents.take(pa.array(ri))).to_numpy(zero_copy_only=False)
    differ = ~same
    np.minimum.at(shared, record[differ], position[differ])
    return shared


def _list(turns: _Turns, starts: np.ndarray, lengths: np.ndarray, null_empty: bool) -> pa.Array:
    index = _ranges(turns.starts + starts, lengths)
    roles = pa.array(np.array(["user", "assistant"], dtype=object)[turns.roles[index]], pa.string())
    contents = turns.contents.take(pa.array(index))
    n = len(index)
    fields = [roles, contents] + [pa.nulls(n, f.type) for f in list(MESSAGE_TYPE)[2:]]
    struct = pa.StructArray.from_arrays(fields, fields=list(MESSAGE_TYPE))
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    mask = pa.array(lengths == 0) if null_empty else None
    return pa.ListArray.from_arrays(offsets, struct, type=MESSAGES_TYPE, mask=mask)


def _text(c: _Turns, r: _Turns, shared: np.ndarray) -> pa.Array:
    """``render_record`` on whole columns: pieces (headers and contents) joined by newlines."""
    n = len(shared)
    base_c, base_r = len(_POOL), len(_POOL) + len(c.contents)
    pool = pa.chunked_array([pa.array(_POOL, pa.string()), c.contents, r.contents])  # no copy until the take
    c_len, r_len = c.lengths - shared, r.lengths - shared
    # segments: prompt turns, the chosen header, chosen turns, the rejected header, rejected turns
    seg_turns = [
        (c, base_c, np.zeros(n, dtype=np.int64), shared),
        (c, base_c, shared, c_len),
        (r, base_r, shared, r_len),
    ]
    keys, values = [], []
    for segment, (turns, base, starts, lengths) in enumerate(seg_turns):
        index = _ranges(turns.starts + starts, lengths)
        record = np.repeat(np.arange(n), lengths)
        order = _ranges(np.zeros(n, dtype=np.int64), lengths)
        headers, bodies = turns.roles[index].astype(np.int64), base + index
        for half, value in ((0, headers), (1, bodies)):
            keys.append((record, np.full(len(index), 2 * segment + 1), order, np.full(len(index), half)))
            values.append(value)
    for segment, header in ((1, 2), (2, 3)):  # the <|chosen|> and <|rejected|> lines
        keys.append((np.arange(n), np.full(n, 2 * segment), np.zeros(n, dtype=np.int64), np.zeros(n)))
        values.append(np.full(n, header, dtype=np.int64))
    record, segment, order, half = (np.concatenate([k[i] for k in keys]) for i in range(4))
    value = np.concatenate(values)
    sort = np.lexsort((half, order, segment, record))
    pieces = pool.take(pa.array(value[sort])).combine_chunks()
    counts = np.bincount(record, minlength=n)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    return pc.binary_join(pa.ListArray.from_arrays(offsets, pieces), "\n")


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def read_hh_columnar(shard: Shard, spec: InputSpec, batch_size: int) -> list[pa.Table] | None:
    """The batches of an HH shard, or None when it must go through the row path (see the module doc)."""
    if spec.source_field or spec.license_field or spec.meta_fields or spec.id_field != "id":
        return None
    read = _read(shard)
    if read is None:
        return None
    table, _ = read
    chosen, rejected = (_one_array(table.column(k)) for k in ("chosen", "rejected"))
    for column in (chosen, rejected):
        if not pc.all(pc.starts_with(column, HUMAN)).as_py():
            return None
        for marker in ("\n\nHuman:", "\n\nAssistant:"):  # every turn marker followed by its space
            if pc.sum(pc.count_substring(column, marker)) != pc.sum(pc.count_substring(column, marker + " ")):
                return None
    c, r = _Turns(chosen), _Turns(rejected)
    if (c.lengths < 1).any() or (r.lengths < 1).any():
        return None
    shared = _common_prefix(c, r)
    n = table.num_rows
    zeros = np.zeros(n, dtype=np.int64)
    lines = pa.array(np.arange(shard.first_line, shard.first_line + n)).cast(pa.string())
    core = {
        "id": pc.binary_join_element_wise(pa.array([shard.relative] * n, pa.string()), lines, ":"),
        "text": _text(c, r, shared),
        "source": pa.array([spec.source_name] * n, pa.string()),
        "url": pa.nulls(n, pa.string()),
        "license": pa.array([spec.license or UNKNOWN_LICENSE] * n, pa.string()),
        "collected_at": pa.array([spec.collected_at] * n, pa.string()),
        "input_file": pa.array([shard.source_file] * n, pa.string()),
        "meta": pa.nulls(n, pa.string()),
    }
    conversation = {
        "kind": pa.array(["preference"] * n, pa.string()),
        "messages": _list(c, zeros, shared, null_empty=True),
        "chosen": _list(c, shared, c.lengths - shared, null_empty=False),
        "rejected": _list(r, shared, r.lengths - shared, null_empty=False),
    }
    arrays = [core[name] for name in CORE_COLUMNS]
    arrays += [conversation.get(f.name, pa.nulls(n, f.type)) for f in CONVERSATION_FIELDS]
    whole = pa.Table.from_arrays(arrays, names=CORE_COLUMNS + [f.name for f in CONVERSATION_FIELDS])
    return [whole.slice(i, batch_size) for i in range(0, n, batch_size)]
