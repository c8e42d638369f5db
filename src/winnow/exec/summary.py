"""The manifest of a run: its shards' stats summed into one typed ``Manifest``."""

from __future__ import annotations

import datetime as dt
import functools
import platform
from collections import Counter, defaultdict
from importlib import metadata
from typing import Any

from winnow.io.base import Shard
from winnow.io.files import file_fingerprint
from winnow.manifest import Counts, InputSummary, Manifest, OutputFile, ShardStats, SourceCounts, StepStats
from winnow.recipe import Recipe
from winnow.steps.base import GlobalStage, Step
from winnow.version import __version__

# Libraries whose versions the manifest records (those installed).
LIBRARIES = [
    "pyarrow",
    "numpy",
    "orjson",
    "pydantic",
    "fsspec",
    "ray",
    "ftfy",
    "resiliparse",
    "trafilatura",
    "tokenizers",
]


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@functools.cache  # reading package metadata takes ~10 ms; the versions do not change in a process
def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "winnow": __version__}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def build_manifest(
    recipe: Recipe,
    steps: list[Step],
    shards: list[Shard],
    all_stats: list[ShardStats],
    engine: Any,
    started: str,
    wall_seconds: float,
    prepared: dict[int, dict[str, float]] | None = None,
    recipe_dict: dict[str, Any] | None = None,
) -> Manifest:
    """The run's manifest: its shards' stats summed, with each global stage's prepare time added."""
    all_stats = sorted(all_stats, key=lambda s: (s.segment, s.shard))
    final_segment = max((s.segment for s in all_stats), default=0)
    counts, outputs = _counts_and_outputs(all_stats, final_segment)
    per_step = _step_totals(steps, all_stats, prepared or {})
    by_source, by_license = _by_source_and_license(all_stats)
    # A global stage's prepare (signatures, buckets, clusters...) is part of its step's time and
    # of the run's CPU seconds (the data card's compute estimate is built from them).
    cpu = sum(s.cpu_seconds for s in all_stats) + sum(t["cpu_seconds"] for t in (prepared or {}).values())
    return Manifest(
        winnow_version=__version__,
        recipe=recipe_dict if recipe_dict is not None else recipe.to_dict(),
        executor=engine.name,
        workers=engine.workers,
        started_at=started,
        finished_at=now(),
        versions=dict(_versions()),
        inputs=_inputs(recipe, shards),
        shards=len(shards),
        counts=counts,
        steps=per_step,
        by_source=by_source,
        by_license=by_license,
        outputs=outputs,
        wall_seconds=round(wall_seconds, 3),
        cpu_seconds=round(cpu, 3),
    )


def _step_totals(
    steps: list[Step], all_stats: list[ShardStats], prepared: dict[int, dict[str, float]]
) -> list[StepStats]:
    totals = [
        StepStats(
            name=step.name,
            params=step.params.model_dump(mode="json"),
            is_global=isinstance(step, GlobalStage),
            section=step.report_section,
        )
        for step in steps
    ]
    for stats in all_stats:
        for s in stats.steps:
            totals[s.index] = totals[s.index] + s
    for index, times in prepared.items():
        totals[index] = totals[index].model_copy(
            update={
                "prepare_wall_seconds": round(times["wall_seconds"], 3),
                "prepare_cpu_seconds": round(times["cpu_seconds"], 3),
                "wall_seconds": totals[index].wall_seconds + times["wall_seconds"],
                "cpu_seconds": totals[index].cpu_seconds + times["cpu_seconds"],
            }
        )
    return [total.finished() for total in totals]


def _counts_and_outputs(all_stats: list[ShardStats], final_segment: int) -> tuple[Counts, dict[str, list[OutputFile]]]:
    counts = Counts()
    outputs: dict[str, list[OutputFile]] = {"data": [], "rejected": [], "quarantine": []}
    for stats in all_stats:
        if stats.segment == 0:
            counts.input += stats.read + stats.quarantined
        if stats.segment == final_segment:
            counts.kept += stats.kept
            outputs["data"] += stats.outputs["data"]
        counts.rejected += stats.rejected
        counts.quarantined += stats.quarantined
        outputs["rejected"] += stats.outputs["rejected"]
        outputs["quarantine"] += stats.outputs["quarantine"]
    return counts, outputs


def _by_source_and_license(
    all_stats: list[ShardStats],
) -> tuple[dict[str, SourceCounts], dict[str, SourceCounts]]:
    tallies: dict[str, Counter] = defaultdict(Counter)
    for stats in all_stats:
        for key, values in stats.tallies.items():
            tallies[key].update(values)
    by_source: dict[str, SourceCounts] = {}
    by_license: dict[str, SourceCounts] = {}
    for key, values in sorted(tallies.items()):
        column, value = key.split("\t", 1)
        (by_source if column == "source" else by_license)[value] = SourceCounts(**values)
    return by_source, by_license


def _inputs(recipe: Recipe, shards: list[Shard]) -> list[InputSummary]:
    inputs = []
    for i, spec in enumerate(recipe.input):
        files = sorted({s.source_file for s in shards if s.input_index == i})
        inputs.append(
            InputSummary(
                path=spec.path,
                source=spec.source_name,
                license=spec.license,
                format=next((s.format for s in shards if s.input_index == i), spec.format),
                files=[file_fingerprint(f) for f in files],
            )
        )
    return inputs
