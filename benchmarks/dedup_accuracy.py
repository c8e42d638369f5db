"""Precision and recall of minhash_dedup on shared/data/neardup (the same page in two releases).

Positives at t: pairs `same-page-different-release` with exact word-5-gram Jaccard >= t.
A pair is predicted duplicate when both records land in one cluster. Precision counts the labelled pairs
predicted duplicate (same-page pairs below t and the 3,000 hard negatives are the false positives);
the hard-negative rate is the share of `different-page-same-release` pairs put in one cluster.

    .venv/bin/python benchmarks/dedup_accuracy.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from winnow.records import make_batch, unify
from winnow.stages.minhash import MinHashDedup
from winnow.steps.base import TaskRunner

NEARDUP = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "neardup"


def load(neardup: Path) -> tuple[pa.Table, list[dict]]:
    with zstandard.open(neardup / "docs.jsonl.zst", "rt") as f:
        docs = [orjson.loads(line) for line in f]
    batch = make_batch(
        {"id": [d["id"] for d in docs], "text": [d["text"] for d in docs], "source": [d["source"] for d in docs]}
    )
    pairs = [orjson.loads(line) for line in open(neardup / "pairs.jsonl")]
    return batch, pairs


def clusters_of(step: MinHashDedup, batch: pa.Table, workdir: Path, n_parts: int = 4) -> dict[str, str]:
    parts = []
    size = -(-len(batch) // n_parts)
    for i in range(n_parts):
        path = workdir / f"in-{i}.parquet"
        pq.write_table(batch.slice(i * size, size), path)
        parts.append(str(path))
    step.prepare(parts, str(workdir / "work"), TaskRunner())
    results = [step.process(batch.slice(i, 1000)) for i in range(0, len(batch), 1000)]
    table = unify([r.kept for r in results] + [r.rejected for r in results if r.rejected is not None])
    return dict(zip(table.column("id").to_pylist(), table.column(step.tag("cluster_id")).to_pylist(), strict=True))


def score(cluster: dict[str, str], pairs: list[dict], t: float) -> dict[str, float]:
    same = [cluster[p["a"]] == cluster[p["b"]] for p in pairs]
    positive = [p["relation"] == "same-page-different-release" and p["jaccard_w5"] >= t for p in pairs]
    negative = [p["relation"] == "different-page-same-release" for p in pairs]
    tp = sum(s and y for s, y in zip(same, positive, strict=True))
    fp = sum(s and not y for s, y in zip(same, positive, strict=True))
    return {
        "recall": tp / max(1, sum(positive)),
        "precision": tp / max(1, tp + fp),
        "hard_negative_rate": sum(s and n for s, n in zip(same, negative, strict=True)) / max(1, sum(negative)),
        "positives": sum(positive),
    }


def main() -> None:
    neardup = Path(sys.argv[1]) if len(sys.argv) > 1 else NEARDUP
    batch, pairs = load(neardup)
    print(f"neardup: {len(batch)} docs, {len(pairs)} labelled pairs")
    print(f"{'configuration':44s} {'t':>4s} {'recall':>7s} {'precision':>9s} {'hard-neg':>8s} {'secs':>6s}")
    configs = [
        ("default (threshold 0.8)", {}, (0.7, 0.8, 0.9)),
        ("default + verify", {"verify": True}, (0.7, 0.8, 0.9)),
    ]
    for t in (0.7, 0.8, 0.9):
        configs.append((f"threshold {t}", {"threshold": t}, (t,)))
        configs.append((f"threshold {t} + verify", {"threshold": t, "verify": True}, (t,)))
    for label, params, ts in configs:
        step = MinHashDedup(**params)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            cluster = clusters_of(step, batch, Path(tmp))
            secs = time.perf_counter() - start
        for t in ts:
            s = score(cluster, pairs, t)
            name = f"{label} [{step.bands}x{step.rows}]"
            print(
                f"{name:44s} {t:4.1f} {s['recall']:7.3f} {s['precision']:9.3f} {s['hard_negative_rate']:8.4f} {secs:6.1f}"
            )


if __name__ == "__main__":
    main()
