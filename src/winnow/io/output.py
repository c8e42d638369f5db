"""Writing a run's records (data/, rejected/, quarantine/) and reading them back.

Each shard writes its own part files under a temporary name; they are renamed into place
only when the whole shard is done, and then the shard's completion marker is written. A
killed run therefore leaves either a finished shard (marker present) or files that the
resumed run deletes and writes again: no record is lost or doubled.

Records with a ``split`` column (train/val/test, added by the ``split`` step) are written
under ``data/<split>/``.
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.core import url_to_fs

from winnow.io.files import protocol_prefix
from winnow.records import table_from_rows, unify

ROW_GROUP_BYTES = 64 << 20  # buffered before a Parquet row group is written: bounds memory
SPLIT_COLUMN = "split"
TMP_PREFIX = ".tmp-"


@dataclass
class OutputFormat:
    format: str = "parquet"  # parquet | jsonl
    compression: str | None = None  # parquet: zstd (default); jsonl: None | zstd | gzip

    @property
    def extension(self) -> str:
        if self.format == "parquet":
            return ".parquet"
        return ".jsonl" + {None: "", "zstd": ".zst", "gzip": ".gz"}[self.compression]


@dataclass
class _PartFile:
    """One open part file; Parquet files keep one schema, so a new schema starts a new file."""

    tmp_path: str
    final_path: str
    handle: IO[bytes]
    writer: object = None  # pq.ParquetWriter or a jsonl stream
    schema: pa.Schema | None = None
    records: int = 0


@dataclass
class PartWriter:
    """The part files of one shard in one directory (data/, rejected/, quarantine/, …)."""

    directory: str
    name: str  # e.g. "part-00007"
    fmt: OutputFormat = field(default_factory=OutputFormat)
    files: list[_PartFile] = field(default_factory=list)
    _buffer: list[pa.Table] = field(default_factory=list)
    _buffered_bytes: int = 0

    def __post_init__(self) -> None:
        self.fs, self.root = url_to_fs(self.directory)

    def write(self, batch: pa.Table) -> None:
        if batch.num_rows == 0:
            return
        self._buffer.append(batch)
        self._buffered_bytes += batch.nbytes
        if self._buffered_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        table = unify(self._buffer)
        self._buffer, self._buffered_bytes = [], 0
        if self.fmt.format == "parquet":
            self._write_parquet(table)
        else:
            self._write_jsonl(table)

    def _open(self) -> _PartFile:
        suffix = "" if not self.files else f".{len(self.files)}"
        final = posixpath.join(self.root, f"{self.name}{suffix}{self.fmt.extension}")
        tmp = posixpath.join(self.root, f"{TMP_PREFIX}{self.name}{suffix}{self.fmt.extension}")
        self.fs.makedirs(self.root, exist_ok=True)
        handle = self.fs.open(tmp, "wb")
        part = _PartFile(tmp, final, handle)
        self.files.append(part)
        return part

    def _write_parquet(self, table: pa.Table) -> None:
        part = self.files[-1] if self.files else None
        if part is not None:
            aligned = _align(table, part.schema)
            if aligned is None:
                part.writer.close()
                part = None
            else:
                table = aligned
        if part is None:
            part = self._open()
            part.schema = table.schema
            part.writer = pq.ParquetWriter(part.handle, table.schema, compression=self.fmt.compression or "zstd")
        part.writer.write_table(table)
        part.records += table.num_rows

    def _write_jsonl(self, table: pa.Table) -> None:
        part = self.files[-1] if self.files else self._open()
        if part.writer is None:
            part.writer = _jsonl_stream(part.handle, self.fmt.compression)
        dumps = orjson.dumps
        has_meta = "meta" in table.column_names
        lines = []
        for row in table.to_pylist():
            if has_meta:
                row["meta"] = orjson.loads(row["meta"]) if row["meta"] else {}
            lines.append(dumps(row, option=orjson.OPT_SERIALIZE_NUMPY))
        part.writer.write(b"\n".join(lines) + b"\n")
        part.records += table.num_rows

    def close(self) -> None:
        """Finish writing (files stay under their temporary names until ``commit``)."""
        self._flush()
        for part in self.files:
            if self.fmt.format == "parquet":
                if part.writer is not None and part.writer.is_open:
                    part.writer.close()
            elif part.writer is not None:
                part.writer.close()
            part.handle.close()

    def commit(self) -> list[dict[str, object]]:
        outputs = []
        for part in self.files:
            self.fs.mv(part.tmp_path, part.final_path)
            outputs.append({"path": part.final_path, "records": part.records})
        return outputs

    def abort(self) -> None:
        for part in self.files:
            try:
                part.handle.close()
            except Exception:  # noqa: BLE001 — best effort while failing anyway
                pass
            if self.fs.exists(part.tmp_path):
                self.fs.rm(part.tmp_path)


def _jsonl_stream(handle: IO[bytes], compression: str | None) -> IO[bytes]:
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(handle, closefd=False)
    if compression == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=handle, mode="wb")
    return _Uncloseable(handle)


class _Uncloseable(io.RawIOBase):
    """The file handle itself, whose close is left to the part file."""

    def __init__(self, handle: IO[bytes]):
        self.handle = handle

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self.handle.write(data)

    def close(self) -> None:
        self.handle.flush()


def _align(table: pa.Table, schema: pa.Schema) -> pa.Table | None:
    """``table`` in ``schema`` (missing columns as nulls), or None when it cannot be."""
    if set(table.column_names) - set(schema.names):
        return None
    columns = []
    for f in schema:
        if f.name in table.column_names:
            column = table.column(f.name)
            if column.type != f.type:
                if pa.types.is_null(f.type):
                    return None
                try:
                    column = column.cast(f.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    return None
            columns.append(column)
        else:
            columns.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(columns, schema=schema)


class SplitWriter:
    """Routes records by their ``split`` column into ``<directory>/<split>/`` part writers."""

    def __init__(self, directory: str, name: str, fmt: OutputFormat):
        self.directory, self.name, self.fmt = directory, name, fmt
        self.writers: dict[str | None, PartWriter] = {}

    def _writer(self, split: str | None) -> PartWriter:
        if split not in self.writers:
            directory = self.directory if split is None else posixpath.join(self.directory, split)
            self.writers[split] = PartWriter(directory, self.name, self.fmt)
        return self.writers[split]

    def write(self, batch: pa.Table) -> None:
        if SPLIT_COLUMN not in batch.column_names:
            self._writer(None).write(batch)
            return
        import pyarrow.compute as pc

        splits = batch.column(SPLIT_COLUMN)
        for value in pc.unique(splits).to_pylist():
            self._writer(value).write(batch.filter(pc.equal(splits, value)))

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()

    def commit(self) -> list[dict[str, object]]:
        return [out for writer in self.writers.values() for out in writer.commit()]

    def abort(self) -> None:
        for writer in self.writers.values():
            writer.abort()


def part_files(directory: str) -> list[str]:
    """Finished part files under a directory (any depth, e.g. data/train/), sorted."""
    fs, root = url_to_fs(directory)
    if not fs.isdir(root):
        return []
    protocol = protocol_prefix(directory)
    found = [
        p
        for p in fs.find(root)
        if posixpath.basename(p).startswith("part-") and p.endswith((".parquet", ".jsonl", ".jsonl.zst", ".jsonl.gz"))
    ]
    return [protocol + p for p in sorted(found)]


def iter_part(path: str, batch_size: int = 8192) -> Iterator[pa.Table]:
    """Batches of one part file, Parquet or JSONL, with ``meta`` as a JSON string."""
    if path.endswith(".parquet"):
        fs, p = url_to_fs(path)
        with fs.open(p, "rb") as f:
            for record_batch in pq.ParquetFile(f).iter_batches(batch_size=batch_size):
                yield pa.Table.from_batches([record_batch])
        return
    from winnow.io.files import open_binary

    rows = []
    with open_binary(path) as f:
        for line in f:
            if line.strip():
                row = orjson.loads(line)
                if isinstance(row.get("meta"), dict):
                    row["meta"] = orjson.dumps(row["meta"]).decode() if row["meta"] else None
                rows.append(row)
                if len(rows) >= batch_size:
                    yield table_from_rows(rows)
                    rows = []
    if rows:
        yield table_from_rows(rows)


def iter_output(out_dir: str, kind: str = "data", batch_size: int = 8192) -> Iterator[pa.Table]:
    for path in part_files(posixpath.join(out_dir, kind)):
        yield from iter_part(path, batch_size)


def read_output(out_dir: str, rejected: bool = False, quarantine: bool = False) -> pa.Table:
    """The records of a finished run as one table: kept (default), rejected or quarantined."""
    kind = "quarantine" if quarantine else "rejected" if rejected else "data"
    return unify(list(iter_output(out_dir, kind)))
