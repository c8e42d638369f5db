"""Finding input files and opening them through fsspec (local paths, s3://, gs://, hf://…)."""

from __future__ import annotations

import io
import posixpath
from typing import IO

import fsspec
from fsspec.core import url_to_fs

from winnow.errors import RecipeError

HIDDEN_PREFIXES = (".", "_")  # _SUCCESS, .crc and the like are not data


def expand(path: str) -> list[tuple[str, str]]:
    """The files an input path names, sorted, as (url, path relative to the input root)."""
    fs, root = url_to_fs(path)
    protocol = protocol_prefix(path)
    if any(ch in root for ch in "*?["):
        base = root[: min(root.index(ch) for ch in "*?[" if ch in root)]
        base = base.rsplit("/", 1)[0] if "/" in base else ""
        found = [p for p in fs.glob(root) if fs.isfile(p)]
        if not found:
            raise RecipeError(f"input path not found: no file matches {path}")
    elif fs.isdir(root):
        base = root.rstrip("/")
        found = [p for p in fs.find(root) if fs.isfile(p)]
    elif fs.isfile(root):
        base = posixpath.dirname(root)
        found = [root]
    else:
        raise RecipeError(f"input path not found: {path}")
    files = []
    for p in sorted(found):
        rel = posixpath.relpath(p, base) if base else p
        if any(part.startswith(HIDDEN_PREFIXES) for part in rel.split("/")):
            continue
        files.append((protocol + p, rel))
    return files


class ZstdFrames(io.RawIOBase):
    """The decompressed bytes of a zstd stream of one or more frames, that fails on a stream cut
    off inside a frame. (zstandard's stream_reader ends such a stream silently: a truncated
    download would lose the rest of the file without a word; gzip, bz2 and xz raise.)"""

    _CHUNK = 256 << 10  # compressed bytes fed at a time (bounds the output of one call)

    def __init__(self, raw: IO[bytes]):
        import zstandard

        self.raw = raw
        self.context = zstandard.ZstdDecompressor()
        self.frame = self.context.decompressobj()
        self.in_frame = False  # the current frame has had input and has not ended
        self.pending, self.offset = b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self.offset >= len(self.pending):
            chunk = self.raw.read(self._CHUNK)
            if not chunk:
                if self.in_frame:
                    raise EOFError("zstd data ends inside a frame (the file is truncated)")
                return 0
            self.pending, self.offset = self._decompress(chunk), 0
        n = min(len(buffer), len(self.pending) - self.offset)
        buffer[:n] = self.pending[self.offset : self.offset + n]
        self.offset += n
        return n

    def _decompress(self, chunk: bytes) -> bytes:
        out = []
        while chunk:
            if self.frame.eof:  # the previous frame ended: the next one starts here
                self.frame = self.context.decompressobj()
            out.append(self.frame.decompress(chunk))
            self.in_frame = not self.frame.eof
            chunk = self.frame.unused_data if self.frame.eof else b""
        return b"".join(out)

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
        super().close()


def protocol_prefix(path: str) -> str:
    """'s3://' for 's3://bucket/key', '' for a local path."""
    return path.split("://", 1)[0] + "://" if "://" in path else ""


def open_binary(url: str, compression: str | None = "infer") -> IO[bytes]:
    """Open a file for reading, decompressing .gz/.zst/.bz2/.xz by extension."""
    if compression == "infer":
        compression = _compression_of(url)
    if compression == "zstd":
        return io.BufferedReader(ZstdFrames(fsspec.open(url, "rb").open()), buffer_size=1 << 20)
    return fsspec.open(url, "rb", compression=compression).open()


def _compression_of(url: str) -> str | None:
    lower = url.lower()
    if lower.endswith((".zst", ".zstd")):
        return "zstd"
    if lower.endswith(".gz"):
        return "gzip"
    if lower.endswith(".bz2"):
        return "bz2"
    if lower.endswith(".xz"):
        return "lzma"
    return None


def file_size(url: str) -> int:
    fs, p = url_to_fs(url)
    return int(fs.size(p))


def file_fingerprint(url: str) -> dict[str, object]:
    """Size and modification time, cheap to get for any file system. Content hashes are
    too slow for terabytes of input; size+mtime catches a file replaced between runs."""
    fs, p = url_to_fs(url)
    info = fs.info(p)
    mtime = info.get("mtime") or info.get("LastModified") or info.get("last_modified")
    return {"path": url, "bytes": int(info.get("size") or 0), "mtime": str(mtime) if mtime is not None else None}


def is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")
