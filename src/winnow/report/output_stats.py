"""Statistics of a finished run's output: what ``winnow stats`` prints.

Computed by streaming over the part files (bounded memory), not from the manifest, so it
also works on output written by an older version or copied from elsewhere.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from winnow.io.output import iter_output
from winnow.report.stats import find_manifest


def output_stats(out_dir: str) -> dict[str, Any]:
    totals = Counter()
    by: dict[str, dict[str, Counter]] = {"source": defaultdict(Counter), "license": defaultdict(Counter)}
    for batch in iter_output(out_dir, "data"):
        chars = pc.utf8_length(batch.column("text"))
        words = pc.list_value_length(pc.utf8_split_whitespace(batch.column("text")))
        totals["docs"] += batch.num_rows
        totals["chars"] += pc.sum(chars).as_py() or 0
        totals["words"] += pc.sum(words).as_py() or 0
        for column in ("source", "license"):
            table = pa.table({"key": batch.column(column), "chars": chars})
            grouped = table.group_by("key").aggregate([("chars", "sum"), ("chars", "count")])
            for key, total, count in zip(
                grouped.column("key").to_pylist(),
                grouped.column("chars_sum").to_pylist(),
                grouped.column("chars_count").to_pylist(),
                strict=True,
            ):
                by[column][key]["docs"] += count
                by[column][key]["chars"] += total or 0
    reasons = Counter()
    for batch in iter_output(out_dir, "rejected"):
        reasons.update(batch.column("reason").to_pylist())
    quarantined = Counter()
    for batch in iter_output(out_dir, "quarantine"):
        quarantined.update(batch.column("reason").to_pylist())
    result = {
        "docs": totals["docs"],
        "chars": totals["chars"],
        "words": totals["words"],
        "by_source": {k: dict(v) for k, v in sorted(by["source"].items(), key=lambda kv: -kv[1]["docs"])},
        "by_license": {k: dict(v) for k, v in sorted(by["license"].items(), key=lambda kv: -kv[1]["docs"])},
        "rejected_by_reason": dict(reasons.most_common()),
        "quarantined_by_cause": dict(quarantined.most_common()),
    }
    manifest = find_manifest(out_dir)
    if manifest:
        result["manifest_counts"] = manifest.counts.model_dump()
    return result


def format_stats(stats: dict[str, Any]) -> str:
    lines = [
        f"documents  {stats['docs']:>14,}",
        f"characters {stats['chars']:>14,}",
        f"words      {stats['words']:>14,}",
    ]
    counts = stats.get("manifest_counts")
    if counts:
        lines.append(
            f"run        input {counts['input']:,} = kept {counts['kept']:,} + rejected {counts['rejected']:,}"
            f" + quarantined {counts['quarantined']:,}"
        )
    for title, key in (("by source", "by_source"), ("by licence", "by_license")):
        lines.append(f"\n{title}:")
        for name, row in stats[key].items():
            lines.append(f"  {name:<48} {row['docs']:>10,} docs {row['chars']:>14,} chars")
    for title, key in (("rejected by reason", "rejected_by_reason"), ("quarantined by cause", "quarantined_by_cause")):
        if stats[key]:
            lines.append(f"\n{title}:")
            for reason, n in stats[key].items():
                lines.append(f"  {reason:<60} {n:>10,}")
    return "\n".join(lines)
