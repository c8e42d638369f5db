"""Cutting the inputs into shards.

The plan depends only on the input files and the recipe, never on the number of workers or
the executor, so that every executor writes the same parts and a resumed run finds the
same shards. Large uncompressed local line files (JSONL) are cut at line boundaries into
pieces of about ``shard_mb``; the cut also counts the lines before each piece, so a shard
knows the real line number it starts at. Large compressed line files cannot be cut in place:
they are cut into compressed pieces under the run's ``_winnow/input/`` (removed when the run
finishes), each remembering its input file and first line.
"""

from __future__ import annotations

import logging
import mmap
import os
import posixpath
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import zstandard
from fsspec.core import url_to_fs

from winnow.io.base import InputSpec, Shard, format_of, is_compressed, readers
from winnow.io.files import expand, file_size, is_local, open_binary, protocol_prefix

log = logging.getLogger(__name__)

_STAGE_BLOCK = 4 << 20  # bytes read at a time when cutting a compressed file into pieces
_SCAN_BLOCK = 4 << 20  # bytes compared at a time (a bool array of this size)
TARGET_SHARDS = 64  # a small input is still cut into enough shards to keep every worker busy
MIN_SHARD, MAX_SHARD = 1 << 20, 64 << 20


def plan_shards(inputs: list[InputSpec], staging: str | None = None) -> list[Shard]:
    """The shards of every input. With a ``staging`` directory, a compressed line file larger
    than a shard is cut into compressed pieces there first (one pass in the driver), so that it
    is read by all workers and resumed piece by piece instead of by one worker, from scratch."""
    shards: list[Shard] = []
    known = readers()
    for input_index, spec in enumerate(inputs):
        whole = known[spec.format].expand(spec.path) if spec.format in known else None
        if whole is not None:  # a format that reads a folder as one input (git)
            files = [(url, relative, spec.format or "", 0) for url, relative in whole]
        else:
            files = [
                (url, relative, format_of(url, spec.format), file_size(url)) for url, relative in expand(spec.path)
            ]
        limit = _shard_bytes(spec, sum(size for *_, size in files))
        for file_number, (url, relative, fmt, size) in enumerate(files):
            splittable = known[fmt].splittable and size > limit and known[fmt].can_split(url)
            pieces = None
            if splittable and staging is not None and is_compressed(url):
                prefix = posixpath.join(staging, f"{input_index:02d}-{file_number:05d}")
                pieces = stage_pieces(url, prefix, _piece_bytes(spec, limit))
            if pieces is not None:
                for piece, line in pieces:
                    shards.append(Shard(len(shards), input_index, piece, relative, 0, None, fmt, line, origin=url))
            elif splittable and not is_compressed(url) and is_local(url):
                line = 1
                ranges = _byte_ranges(url, size, limit)
                # numpy lets go of the GIL while it counts: threads use every core on the one file.
                with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
                    newlines = list(pool.map(_count_newlines, [url] * len(ranges), *zip(*ranges, strict=True)))
                for (start, end), count in zip(ranges, newlines, strict=True):
                    shards.append(Shard(len(shards), input_index, url, relative, start, end, fmt, line))
                    line += count
            else:
                shards.append(Shard(len(shards), input_index, url, relative, 0, None, fmt))
    return shards


def _piece_bytes(spec: InputSpec, limit: int) -> int:
    """Uncompressed bytes per staged piece: ``shard_mb`` when given, else ~4x the automatic shard
    size (which is computed on compressed bytes; text compresses ~4x)."""
    if spec.shard_mb is not None:
        return limit
    return int(min(max(4 * limit, 4 << 20), MAX_SHARD))


def stage_pieces(url: str, prefix: str, piece_bytes: int) -> list[tuple[str, int]] | None:
    """Cut a compressed line file into zstd pieces ``<prefix>-NNNNN.jsonl.zst`` of about
    ``piece_bytes`` uncompressed, at line boundaries: (piece, its first line number) each.

    None when the file cannot be read to its end: it is then planned as one shard, whose reader
    reports the damage (or quarantines it) exactly as for any other broken file."""
    fs, root = url_to_fs(prefix)
    protocol = protocol_prefix(prefix)
    pieces: list[tuple[str, int]] = []
    line, carry, writer, written, name = 1, b"", None, 0, ""

    def close_piece() -> None:
        writer.close()
        fs.mv(f"{name}.partial", f"{name}.jsonl.zst")

    try:
        with open_binary(url) as source:
            while True:
                block = source.read(min(_STAGE_BLOCK, piece_bytes))
                data = carry + block
                cut = len(data) if not block else data.rfind(b"\n") + 1  # whole lines only
                carry = data[cut:]
                if cut:
                    if writer is None:
                        fs.makedirs(posixpath.dirname(root), exist_ok=True)
                        name = f"{root}-{len(pieces):05d}"
                        pieces.append((f"{protocol}{name}.jsonl.zst", line))
                        raw = fs.open(f"{name}.partial", "wb")
                        writer, written = zstandard.ZstdCompressor(level=1).stream_writer(raw, closefd=True), 0
                    writer.write(data[:cut])
                    written += cut
                    line += data.count(b"\n", 0, cut)
                    if written >= piece_bytes:
                        close_piece()
                        writer = None
                if not block:
                    break
        if writer is not None:
            close_piece()
    except Exception as error:  # noqa: BLE001 - any read error: the file's own shard reports it
        log.warning("%s: could not be cut into pieces (%s); it is read as one shard", url, error)
        if writer is not None:
            writer.close()
        for stale in fs.glob(f"{root}-*"):
            fs.rm(stale)
        return None
    return pieces


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
