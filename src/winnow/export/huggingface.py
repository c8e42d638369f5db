"""A run's kept records in the layout of a Hugging Face dataset repository, which ``datasets.load_dataset``
reads offline from the folder: ``data/<split>-00000-of-0000N.parquet`` and a dataset card ``README.md``
whose YAML front matter names the splits (``configs``), the licence and the provenance columns.

The card's ``license`` is the records' licence when they share one (SPDX id, lower-cased as the hub writes
them), else ``other`` — every record keeps its own ``license`` column either way.
"""

from __future__ import annotations

import posixpath
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from winnow.errors import RecipeError
from winnow.io.output import iter_part, part_files

KNOWN_SPLITS = ("train", "validation", "test")


@dataclass
class HubExport:
    path: str
    splits: dict[str, int] = field(default_factory=dict)  # split -> records
    license: str = "other"


def export_hub_layout(run_dir: str, dest: str, pretty_name: str | None = None, overwrite: bool = False) -> HubExport:
    """Write ``run_dir``'s kept records to ``dest`` as a hub dataset folder; returns what was written."""
    parts = part_files(posixpath.join(run_dir, "data"))
    if not parts:
        raise RecipeError(f"{run_dir}: no kept records (no data/part-* files)")
    out = Path(dest)
    if out.exists():
        if not overwrite:
            raise RecipeError(f"{dest} exists; pass --overwrite to replace it")
        shutil.rmtree(out)
    (out / "data").mkdir(parents=True)
    by_split: dict[str, list[str]] = {}
    for part in parts:
        relative = posixpath.relpath(part, posixpath.join(run_dir, "data")).split("/")
        split = relative[0] if len(relative) > 1 and relative[0] in KNOWN_SPLITS else "train"
        by_split.setdefault(split, []).append(part)
    result, licences = HubExport(path=str(out)), Counter()
    for split, files in by_split.items():
        for i, part in enumerate(files):
            table = pa.concat_tables(list(iter_part(part)), promote_options="permissive")
            licences.update(table.column("license").to_pylist())
            pq.write_table(table, out / "data" / f"{split}-{i:05d}-of-{len(files):05d}.parquet")
            result.splits[split] = result.splits.get(split, 0) + table.num_rows
    if len(licences) == 1:
        result.license = next(iter(licences)).lower()
    _write_card(out, result, pretty_name or Path(run_dir).resolve().name, licences)
    return result


def _write_card(out: Path, result: HubExport, pretty_name: str, licences: Counter) -> None:
    front = {
        "license": result.license,
        "pretty_name": pretty_name,
        "configs": [
            {"config_name": "default", "data_files": [{"split": s, "path": f"data/{s}-*"} for s in result.splits]}
        ],
    }
    lines = [f"- `{name}`: {count} records" for name, count in licences.most_common()]
    body = (
        f"# {pretty_name}\n\nWritten by Winnow. Every record keeps its provenance: `source`, `url`, `license`, "
        "`collected_at`, `input_file` and `meta` (how it was obtained).\n\nLicences of the records:\n\n"
        + "\n".join(lines)
        + "\n"
    )
    (out / "README.md").write_text(f"---\n{yaml.safe_dump(front, sort_keys=False)}---\n\n{body}", encoding="utf-8")
