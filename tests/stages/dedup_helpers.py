"""Drive a dedup stage the way the executor does: records as Parquet parts, prepare, then process."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from winnow.records import make_batch, unify
from winnow.stages.dedup import DedupStage
from winnow.steps.base import TaskRunner


def corpus_docs(sample_data: Path, n: int) -> list[dict]:
    docs = []
    with open(sample_data / "corpus" / "web.jsonl.zst", "rb") as raw:
        for line in io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw)):
            docs.append(orjson.loads(line))
            if len(docs) >= n:
                break
    return docs


def neardup(sample_data: Path) -> tuple[pa.Table, list[dict]]:
    folder = sample_data / "neardup"
    with zstandard.open(folder / "docs.jsonl.zst", "rt") as f:
        docs = [orjson.loads(line) for line in f]
    pairs = [orjson.loads(line) for line in open(folder / "pairs.jsonl")]
    return batch_of(docs), pairs


def batch_of(docs: list[dict], **extra: list) -> pa.Table:
    return make_batch(
        {
            "id": [d["id"] for d in docs],
            "text": [d["text"] for d in docs],
            "source": [d.get("source", "test") for d in docs],
            **extra,
        }
    )


def write_parts(batch: pa.Table, folder: Path, n_parts: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(batch) // n_parts)
    paths = []
    for i in range(n_parts):
        path = folder / f"part-{i:05d}.parquet"
        pq.write_table(batch.slice(i * size, size), path)
        paths.append(str(path))
    return paths


def dedup(
    stage: DedupStage,
    batch: pa.Table,
    workdir: Path,
    n_parts: int = 3,
    batch_rows: int = 500,
    runner: TaskRunner | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Run prepare over ``n_parts`` parts, then process in batches of ``batch_rows``: (kept, rejected)."""
    parts = write_parts(batch, workdir / "parts", n_parts)
    stage.prepare(parts, str(workdir / "work"), runner or TaskRunner())
    results = [stage.process(batch.slice(i, batch_rows)) for i in range(0, len(batch), batch_rows)]
    kept = unify([r.kept for r in results])
    rejected = unify([r.rejected for r in results if r.rejected is not None])
    return kept, rejected


def tags(stage: DedupStage, kept: pa.Table, rejected: pa.Table) -> dict[str, tuple]:
    """id → (cluster_id, cluster_size, duplicate_of) over kept and rejected records."""
    out = {}
    for table in (kept, rejected):
        if table.num_rows == 0:
            continue
        columns = [table.column(stage.tag(a)).to_pylist() for a in ("cluster_id", "cluster_size", "duplicate_of")]
        for i, *values in zip(table.column("id").to_pylist(), *columns, strict=True):
            out[i] = tuple(values)
    return out
