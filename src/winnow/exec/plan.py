"""Cutting the inputs into shards.

The plan depends only on the input files and the recipe, never on the number of workers or
the executor, so that every executor writes the same parts and a resumed run finds the
same shards. Large uncompressed local line files (JSONL) are cut at line boundaries into
pieces of about ``shard_mb``; the cut also counts the lines before each piece, so a shard
knows the real line number it starts at.
"""

from __future__ import annotations

from winnow.io.base import InputSpec, Shard, format_of, is_compressed, readers
from winnow.io.files import expand, file_size, is_local

_SCAN_BLOCK = 16 << 20
TARGET_SHARDS = 64  # a small input is still cut into enough shards to keep every worker busy
MIN_SHARD, MAX_SHARD = 1 << 20, 64 << 20


def plan_shards(inputs: list[InputSpec]) -> list[Shard]:
    shards: list[Shard] = []
    known = readers()
    for input_index, spec in enumerate(inputs):
        files = [(url, relative, format_of(url, spec.format), file_size(url)) for url, relative in expand(spec.path)]
        limit = _shard_bytes(spec, sum(size for *_, size in files))
        for url, relative, fmt, size in files:
            if known[fmt].splittable and not is_compressed(url) and is_local(url) and size > limit:
                for start, end, first_line in _line_ranges(url, size, limit):
                    shards.append(Shard(len(shards), input_index, url, relative, start, end, fmt, first_line))
            else:
                shards.append(Shard(len(shards), input_index, url, relative, 0, None, fmt))
    return shards


def _shard_bytes(spec: InputSpec, total: int) -> int:
    if spec.shard_mb is not None:
        return max(1, int(spec.shard_mb * (1 << 20)))
    return int(min(max(total / TARGET_SHARDS, MIN_SHARD), MAX_SHARD))


def _line_ranges(url: str, size: int, limit: int) -> list[tuple[int, int, int]]:
    """Byte ranges of about ``limit`` bytes ending at newlines, with the first line number of each."""
    path = url.removeprefix("file://")
    ranges = []
    with open(path, "rb") as f:
        start, line = 0, 1
        while start < size:
            target = start + limit
            if target >= size:
                end = size
            else:
                f.seek(target)
                f.readline()  # move to the end of the line that crosses the target
                end = min(f.tell(), size)
            ranges.append((start, end, line))
            line += _count_newlines(f, start, end)
            start = end
    return ranges


def _count_newlines(f, start: int, end: int) -> int:
    f.seek(start)
    count, remaining = 0, end - start
    while remaining > 0:
        block = f.read(min(_SCAN_BLOCK, remaining))
        if not block:
            break
        count += block.count(b"\n")
        remaining -= len(block)
    return count
