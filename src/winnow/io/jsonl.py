"""JSON Lines input: one JSON object per line; .gz/.zst/.bz2/.xz by extension.

Uncompressed local files are cut into byte-range shards at line boundaries (see
``winnow.exec.plan``); each shard knows the line number it starts at, so errors and
derived ids name the real line of the file.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pyarrow as pa

from winnow.io.base import DEFAULT_BATCH_SIZE, ErrorSink, InputRow, InputSpec, Reader, Shard, register_reader
from winnow.io.files import open_binary


def iter_lines(shard: Shard) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for the lines of a shard; line numbers count from 1 in the file."""
    compression = None if shard.end is not None else "infer"
    with open_binary(shard.file, compression) as f:
        if shard.end is not None:
            f.seek(shard.start)
        line_number = shard.first_line
        position = shard.start
        for line in f:
            if shard.end is not None and position >= shard.end:
                break
            position += len(line)
            yield line_number, line
            line_number += 1


def json_lines(shard: Shard, errors: ErrorSink) -> Iterator[InputRow]:
    """The parsed rows of a JSON Lines shard; a line that is not JSON goes to ``errors`` with its number."""
    loads = orjson.loads
    for line_number, line in iter_lines(shard):
        if not line.strip():
            continue  # blank lines (a trailing newline, say) are not records
        try:
            row = loads(line)
        except orjson.JSONDecodeError as error:
            errors.bad(shard.source_file, f"line {line_number}", f"invalid JSON: {error}", line)
            continue
        yield InputRow(row, line_number, f"line {line_number}", line)


@register_reader
class JsonlReader(Reader):
    format = "jsonl"
    extensions = (".jsonl", ".ndjson", ".json")
    splittable = True

    def read(
        self, shard: Shard, spec: InputSpec, errors: ErrorSink, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[pa.Table]:
        yield from self.batches(json_lines(shard, errors), spec, shard, errors, batch_size)
