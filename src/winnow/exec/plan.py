"""Cutting the inputs into shards.

The plan depends only on the input files and the recipe, never on the number of workers or
the executor, so that every executor writes the same parts and a resumed run finds the
same shards. Large uncompressed local line files (JSONL) are cut at line boundaries into
pieces of about ``shard_mb``; the cut also counts the lines before each piece, so a shard
knows the real line number it starts at.
"""

from __future__ import annotations

import mmap

import numpy as np

from winnow.io.base import InputSpec, Shard, format_of, is_compressed, readers
from winnow.io.files import expand, file_size, is_local

_SCAN_BLOCK = 4 << 20  # bytes compared at a time (a bool array of this size)
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
                line = 1
                for start, end in _byte_ranges(url, size, limit):
                    shards.append(Shard(len(shards), input_index, url, relative, start, end, fmt, line))
                    line += _count_newlines(url, start, end)
            else:
                shards.append(Shard(len(shards), input_index, url, relative, 0, None, fmt))
    return shards


def _shard_bytes(spec: InputSpec, total: int) -> int:
    if spec.shard_mb is not None:
        return max(1, int(spec.shard_mb * (1 << 20)))
    return int(min(max(total / TARGET_SHARDS, MIN_SHARD), MAX_SHARD))


def _byte_ranges(url: str, size: int, limit: int) -> list[tuple[int, int]]:
    """Byte ranges of about ``limit`` bytes ending at newlines (a seek and one line read per cut)."""
    ranges = []
    with open(url.removeprefix("file://"), "rb") as f:
        start = 0
        while start < size:
            target = start + limit
            if target >= size:
                end = size
            else:
                f.seek(target)
                f.readline()  # move to the end of the line that crosses the target
                end = min(f.tell(), size)
            ranges.append((start, end))
            start = end
    return ranges


def _count_newlines(url: str, start: int, end: int) -> int:
    """Newlines in a byte range. Planning reads every byte of a split file once, in the driver,
    before any worker starts: numpy over a memory map counts ~4x faster than bytes.count on reads."""
    if end <= start:
        return 0
    with open(url.removeprefix("file://"), "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        data = np.frombuffer(mapped, dtype=np.uint8)
        count = 0
        for block in range(start, end, _SCAN_BLOCK):
            count += int(np.count_nonzero(data[block : min(block + _SCAN_BLOCK, end)] == 10))
        del data  # the map cannot close while numpy still points into it
    return count
