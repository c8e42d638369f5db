"""Where the export commands read documents from.

A DATA argument of ``winnow tokenize`` / ``train-tokenizer`` is a run output directory (its
``data/`` Parquet parts, including ``data/<split>/`` partitions), a Parquet file, or a JSONL
file (optionally .zst/.gz compressed). Documents are read in a fixed order (arguments in
order, files sorted, rows in file order), so everything downstream is deterministic.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from winnow.errors import InputError, WinnowError

SPLITS = ("train", "val", "test")
BATCH_ROWS = 2048


@dataclass(frozen=True)
class DataFile:
    path: str
    format: str  # parquet | jsonl
    split: str | None = None  # from a data/<split>/ directory, when the run was partitioned


def find_files(data: list[str]) -> list[DataFile]:
    """The files a list of DATA arguments names, in a deterministic order."""
    files: list[DataFile] = []
    for item in data:
        path = Path(item)
        if path.is_dir():
            root = path / "data" if (path / "data").is_dir() else path
            found = sorted(p for p in root.rglob("*") if p.is_file() and _format_of(p) and not _hidden(p, root))
            if not found:
                raise WinnowError(f"no Parquet or JSONL files under {root}")
            for p in found:
                split = p.parent.name if p.parent != root and p.parent.name in SPLITS else None
                files.append(DataFile(str(p), _format_of(p), split))
        elif path.is_file():
            fmt = _format_of(path)
            if not fmt:
                raise WinnowError(f"{path}: not a Parquet or JSONL file (by its extension)")
            files.append(DataFile(str(path), fmt))
        else:
            raise WinnowError(f"data not found: {item}")
    return files


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    for ext in (".zst", ".zstd", ".gz"):
        name = name.removesuffix(ext)
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return None


def read_batches(file: DataFile, columns: list[str], batch_rows: int = BATCH_ROWS) -> Iterator[pa.Table]:
    """Batches of the given columns (``text`` required; ``id``/``split`` and others when present)."""
    if file.format == "parquet":
        yield from _read_parquet(file, columns, batch_rows)
    else:
        yield from _read_jsonl(file, columns, batch_rows)


def _read_parquet(file: DataFile, columns: list[str], batch_rows: int) -> Iterator[pa.Table]:
    pf = pq.ParquetFile(file.path)
    present = [c for c in columns if c in pf.schema_arrow.names]
    if "text" not in present:
        raise InputError(file.path, "schema", "no 'text' column")
    for batch in pf.iter_batches(batch_size=batch_rows, columns=present):
        yield _with_split(pa.Table.from_batches([batch]), file)


def _read_jsonl(file: DataFile, columns: list[str], batch_rows: int) -> Iterator[pa.Table]:
    rows: dict[str, list] = {c: [] for c in columns}
    with _open(file.path) as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise InputError(file.path, f"line {number}", f"invalid JSON: {error}") from None
            text = row.get("text") if isinstance(row, dict) else None
            if not isinstance(text, str):
                raise InputError(file.path, f"line {number}", "no string 'text' field")
            for c in columns:
                rows[c].append(row.get(c) if c != "id" else str(row.get("id", f"{file.path}:{number}")))
            if len(rows["text"]) >= batch_rows:
                yield _jsonl_table(rows, file)
                rows = {c: [] for c in columns}
    if rows["text"]:
        yield _jsonl_table(rows, file)


def _jsonl_table(rows: dict[str, list], file: DataFile) -> pa.Table:
    table = pa.table({c: v for c, v in rows.items() if any(x is not None for x in v) or c in ("id", "text")})
    return _with_split(table, file)


def _with_split(table: pa.Table, file: DataFile) -> pa.Table:
    if file.split and "split" not in table.column_names:
        table = table.append_column("split", pa.array([file.split] * table.num_rows, pa.string()))
    return table


def _open(path: str) -> io.TextIOBase:
    raw = open(path, "rb")
    if path.endswith((".zst", ".zstd")):
        stream = zstandard.ZstdDecompressor().stream_reader(raw, read_size=1 << 20)
        return io.TextIOWrapper(stream, encoding="utf-8")
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(raw), encoding="utf-8")
    return io.TextIOWrapper(raw, encoding="utf-8")


def iter_texts(data: list[str]) -> Iterator[str]:
    for file in find_files(data):
        for batch in read_batches(file, ["text"]):
            yield from batch.column("text").to_pylist()
