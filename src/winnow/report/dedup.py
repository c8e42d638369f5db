"""``winnow dedup-report OUT``: what the dedup steps of a finished run found.

Reads the kept and rejected records of the run (only the id and ``<step>.cluster_*`` columns, and the
texts of the representatives shown)
and prints, per dedup step, the cluster-size histogram and the largest clusters with examples.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from winnow.errors import WinnowError
from winnow.io.output import iter_part, part_files
from winnow.report.stats import dedup_steps, find_manifest

_SIZE_BINS = [(1, 1), (2, 2), (3, 5), (6, 10), (11, 100), (101, 1000), (1001, None)]


def _read(out_dir: Path, kind: str, step: str) -> pa.Table | None:
    """Id and cluster columns of the records that went through ``step`` (kept or rejected)."""
    columns = ["id", f"{step}.cluster_id", f"{step}.cluster_size"]
    tables = []
    for path in part_files(str(out_dir / kind)):  # any depth: data/<split>/ too; Parquet or JSONL
        for batch in iter_part(path):
            if all(c in batch.column_names for c in columns):
                # Records an earlier step dropped never reached this one: their cluster columns are null.
                batch = batch.select(columns)
                tables.append(batch.filter(pc.is_valid(batch.column(f"{step}.cluster_id"))))
    return pa.concat_tables(tables, promote_options="permissive") if tables else None


def _texts(out_dir: Path, ids: list[str]) -> dict[str, str]:
    """The texts of a few records, read part by part (never the whole run's texts at once). A
    representative may have been dropped by a later step, so rejected records are searched too."""
    wanted = pa.array(ids, pa.string())
    found: dict[str, str] = {}
    for kind in ("data", "rejected"):
        for path in part_files(str(out_dir / kind)):
            for batch in iter_part(path):
                batch = batch.select(["id", "text"]).filter(pc.is_in(batch.column("id"), value_set=wanted))
                found.update(zip(batch.column("id").to_pylist(), batch.column("text").to_pylist(), strict=True))
    return found


def _snippet(text: str | None, width: int = 100) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def dedup_report(out_dir: str, top: int = 10) -> str:
    """The report as text: for each dedup step of the run, the histogram of cluster sizes and the
    ``top`` largest clusters (representative id and text, and a few duplicate ids)."""
    root = Path(out_dir.removeprefix("file://"))
    if not (root / "data").is_dir():
        raise WinnowError(f"{out_dir}: not a finished run (no data/ folder)")
    lines: list[str] = []
    manifest = find_manifest(out_dir)
    for step in dedup_steps(manifest) if manifest else []:
        parts = [t for t in (_read(root, "data", step), _read(root, "rejected", step)) if t is not None]
        if not parts:
            continue
        table = pa.concat_tables(parts, promote_options="permissive")
        cluster_ids = table.column(f"{step}.cluster_id").to_pylist()
        sizes = Counter(cluster_ids)
        records = len(cluster_ids)
        duplicates = records - len(sizes)
        lines.append(
            f"{step}: {records:,} records, {len(sizes):,} clusters, {duplicates:,} duplicates removed "
            f"({duplicates / max(records, 1):.1%})"
        )
        lines.append("  cluster size   clusters    records")
        histogram = Counter(sizes.values())
        for low, high in _SIZE_BINS:
            n_clusters = sum(c for s, c in histogram.items() if s >= low and (high is None or s <= high))
            n_records = sum(s * c for s, c in histogram.items() if s >= low and (high is None or s <= high))
            if n_clusters:
                label = f"{low}" if low == high else f"{low}-{high}" if high else f">{low - 1}"
                lines.append(f"  {label:>12s} {n_clusters:10,d} {n_records:10,d}")
        largest = sorted(((n, c) for c, n in sizes.items() if n > 1), key=lambda x: (-x[0], x[1]))[:top]
        if largest:
            lines.append(f"  largest clusters (top {len(largest)}):")
            texts = _texts(root, [c for _, c in largest])
            ids = table.column("id")
            for n, cluster in largest:
                members = sorted(ids.filter(pc.equal(table.column(f"{step}.cluster_id"), cluster)).to_pylist())
                others = [m for m in members if m != cluster][:3]
                lines.append(f"  - {n:,} records, kept {cluster}: {_snippet(texts.get(cluster))}")
                lines.append(f"      e.g. {', '.join(others)}{' …' if n - 1 > len(others) else ''}")
        lines.append("")
    if not lines:
        return f"{out_dir}: no dedup step in this run\n"
    return "\n".join(lines)
