"""Files between the phases of a dedup workflow: atomic writes, phase markers, part offsets, and
how a phase task reads a stage part and writes its ``docs`` file.

Every output is written under a temporary name and renamed when complete, so a killed run
never leaves a half-written file that a resumed run would trust. A phase is complete when
its marker exists and names the same fingerprint (parameters and input parts); a phase
that was killed half-way keeps the per-item outputs it finished and redoes the rest.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from winnow.errors import RecipeError
from winnow.records import CONVERSATION_COLUMNS


def local_path(url: str) -> Path:
    """Dedup work files are local (or on a shared mount on Ray); ``file://`` is accepted."""
    if "://" in url and not url.startswith("file://"):
        raise NotImplementedError(f"dedup work directories must be local paths for now, got {url}")
    return Path(url.removeprefix("file://"))


def save_npy(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        np.save(f, array, allow_pickle=False)
    os.replace(f.name, path)


def save_parquet(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def save_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True))
    os.replace(tmp, path)


class Phases:
    """Markers of the completed phases of one workflow under ``workdir``."""

    def __init__(self, workdir: Path, fingerprint: str):
        self.workdir = workdir
        self.fingerprint = fingerprint
        marker = workdir / "_fingerprint"
        if marker.exists() and marker.read_text() != fingerprint:
            # Other parameters or other input: nothing here can be reused.
            shutil.rmtree(workdir)
        if not marker.exists():
            workdir.mkdir(parents=True, exist_ok=True)
            marker.write_text(fingerprint)

    def done(self, phase: str) -> bool:
        return (self.workdir / f"_{phase}.done").exists()

    def mark(self, phase: str, summary: dict[str, Any] | None = None) -> None:
        save_json(self.workdir / f"_{phase}.done", summary or {})

    def summary(self, phase: str) -> dict[str, Any]:
        return json.loads((self.workdir / f"_{phase}.done").read_text())


def part_offsets(parts: list[str]) -> np.ndarray:
    """The global index of the first record of each part (from Parquet metadata, no data read)."""
    counts = [pq.ParquetFile(str(local_path(p))).metadata.num_rows for p in parts]
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def compared_columns(names: list[str], field: str) -> list[str]:
    """The columns a part is read with to compute what ``field`` compares."""
    if field == "text":
        return ["id", "text"]
    return ["id", "text", *(c for c in CONVERSATION_COLUMNS if c in names)]


def open_part(part: str, step: str, field: str, *also: str | None) -> tuple[pq.ParquetFile, list[str]]:
    """A stage part and the columns to read it with: what ``field`` compares, and ``also`` (a
    priority column, a vector column; None: not wanted), which the records must have."""
    file = pq.ParquetFile(str(local_path(part)))
    names = file.schema_arrow.names
    columns = compared_columns(names, field)
    for column in also:
        if column is not None:
            if column not in names:
                raise RecipeError(f"step {step!r}: {column!r} is not a column of the records ({part})")
            columns.append(column)
    return file, columns


def doc_rows(batch: pa.Table, start: int, priority: str | None) -> pa.Table:
    """A batch's rows of its part's ``docs`` file: each record's global number (from ``start``),
    id, text length and, when representatives are chosen by it, its ``priority`` column."""
    columns = {
        "doc": pa.array(np.arange(start, start + len(batch), dtype=np.int64)),
        "id": batch.column("id"),
        "length": pc.utf8_length(pc.fill_null(batch.column("text"), "")),
    }
    if priority:
        columns["priority"] = batch.column(priority)
    return pa.table(columns)


def save_docs(root: Path, part_index: int, docs: list[pa.Table]) -> None:
    if docs:
        save_parquet(root / "docs" / f"part-{part_index:05d}.parquet", pa.concat_tables(docs))
