"""Labelled texts to train and evaluate a classifier on.

A labels source is a JSONL file (``.jsonl``, ``.jsonl.zst``, ``.jsonl.gz``) or Parquet file of
``{text, label}`` rows, or a Winnow output directory (its ``data/`` parts) with a label column.
Labels are kept as strings (``1``, ``keep``, ``edu``); booleans become ``1``/``0``."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import zstandard

from winnow.errors import InputError, WinnowError


@dataclass(frozen=True)
class LabelledTexts:
    texts: list[str]
    labels: list[str]
    source: str

    def __len__(self) -> int:
        return len(self.texts)

    def classes(self) -> list[str]:
        return sorted(set(self.labels))


def label_string(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _jsonl_lines(path: Path) -> Iterator[bytes]:
    if path.name.endswith(".zst"):
        with open(path, "rb") as raw:
            yield from io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw))
    elif path.name.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            yield from f
    else:
        with open(path, "rb") as f:
            yield from f


def _from_jsonl(path: Path, text_column: str, label_column: str) -> LabelledTexts:
    texts, labels = [], []
    for number, line in enumerate(_jsonl_lines(path), start=1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise InputError(str(path), f"line {number}", f"not JSON ({error})") from None
        if not isinstance(row, dict) or not isinstance(row.get(text_column), str):
            raise InputError(str(path), f"line {number}", f"no string {text_column!r} field")
        if row.get(label_column) is None:
            raise InputError(str(path), f"line {number}", f"no {label_column!r} field")
        texts.append(row[text_column])
        labels.append(label_string(row[label_column]))
    return LabelledTexts(texts, labels, str(path))


def _from_parquet(paths: list[Path], text_column: str, label_column: str, source: str) -> LabelledTexts:
    texts, labels = [], []
    for path in paths:
        names = pq.ParquetFile(path).schema_arrow.names
        for column in (text_column, label_column):
            if column not in names:
                raise InputError(str(path), "schema", f"no {column!r} column (columns: {', '.join(names)})")
        table = pq.read_table(path, columns=[text_column, label_column])
        for row, (text, label) in enumerate(
            zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True)
        ):
            if text is None or label is None:
                raise InputError(str(path), f"row {row}", f"null {text_column if text is None else label_column!r}")
            texts.append(text)
            labels.append(label_string(label))
    return LabelledTexts(texts, labels, source)


def read_labels(path: str, text_column: str = "text", label_column: str = "label") -> LabelledTexts:
    """Every labelled text of ``path`` (a file, or a Winnow output directory), in file order."""
    where = Path(path)
    if where.is_dir():
        parts = sorted((where / "data").rglob("*.parquet")) if (where / "data").is_dir() else []
        if not parts:
            raise WinnowError(f"{path}: a directory but not a Winnow output with Parquet parts under data/")
        found = _from_parquet(parts, text_column, label_column, path)
    elif not where.is_file():
        raise WinnowError(f"{path}: no such file")
    elif where.suffix == ".parquet":
        found = _from_parquet([where], text_column, label_column, path)
    else:
        found = _from_jsonl(where, text_column, label_column)
    if len(found.classes()) < 2:
        raise WinnowError(f"{path}: needs at least two distinct labels to train on, found {found.classes()}")
    return found


def read_texts(path: str, text_column: str = "text", limit: int | None = None) -> list[str]:
    """The texts of a JSONL/Parquet file or a Winnow output directory (no labels needed)."""
    where = Path(path)
    texts: list[str] = []
    if where.is_dir():
        files = sorted((where / "data").rglob("*.parquet")) if (where / "data").is_dir() else []
        if not files:
            raise WinnowError(f"{path}: a directory but not a Winnow output with Parquet parts under data/")
    elif not where.is_file():
        raise WinnowError(f"{path}: no such file")
    else:
        files = [where]
    for file in files:
        if file.suffix == ".parquet":
            if text_column not in pq.ParquetFile(file).schema_arrow.names:
                raise InputError(str(file), "schema", f"no {text_column!r} column")
            texts.extend(t for t in pq.read_table(file, columns=[text_column]).column(0).to_pylist() if t)
        else:
            for number, line in enumerate(_jsonl_lines(file), start=1):
                if not line.strip():
                    continue
                try:
                    text = orjson.loads(line).get(text_column)
                except (orjson.JSONDecodeError, AttributeError):
                    raise InputError(str(file), f"line {number}", "not a JSON object") from None
                if not isinstance(text, str):
                    raise InputError(str(file), f"line {number}", f"no string {text_column!r} field")
                texts.append(text)
                if limit is not None and len(texts) >= limit:
                    return texts
        if limit is not None and len(texts) >= limit:
            return texts[:limit]
    return texts
