"""Running a recipe: plan shards, run segments and global stages, write the manifest.

```
out/
  data/part-00000.parquet …      kept records (data/<split>/… when the recipe splits)
  rejected/part-00000.parquet …  dropped records with ``reason``
  quarantine/part-00000.parquet  unreadable input rows (on_error: skip)
  _winnow/manifest.json          recipe, versions, inputs, per-step counts, outputs
  _winnow/recipe.yaml, plan.json what a resumed run must match
  _winnow/done/seg-K/shard-N.json completion markers, each holding its shard's counts
  _winnow/stages/seg-K/…         records between a segment and the next global stage
  _winnow/work/…                 global stages' phase files
```
"""

from __future__ import annotations

import dataclasses
import posixpath
import resource
import sys
import time
from typing import Any

import orjson
from fsspec.core import url_to_fs

from winnow.errors import WinnowError
from winnow.exec.plan import plan_shards
from winnow.exec.shard import STAGE_FORMAT, ShardJob, read_marker, write_file
from winnow.exec.summary import build_manifest, now
from winnow.io.base import Shard
from winnow.io.files import protocol_prefix
from winnow.io.output import OutputFormat, part_files
from winnow.manifest import Manifest, ShardStats
from winnow.recipe import Recipe, recipe_yaml
from winnow.steps.base import GlobalStage, Step


def _segments(steps: list[Step]) -> list[tuple[int, list[Step]]]:
    """Split the pipeline before each global stage: [(offset of first step, steps)]."""
    # A global stage first in the pipeline leaves segment 0 empty: it only reads the input.
    segments: list[tuple[int, list[Step]]] = [(0, [])]
    for i, step in enumerate(steps):
        if isinstance(step, GlobalStage):
            segments.append((i, []))
        segments[-1][1].append(step)
    return segments


class _Progress:
    def __init__(self, enabled: bool, total_shards: int, label: str):
        self.records = 0
        self.start = time.perf_counter()
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total_shards, unit="shard", desc=label, dynamic_ncols=True, file=sys.stderr)

    def __call__(self, records: int, shards: int) -> None:
        self.records += records
        if self.bar is not None:
            if shards:
                self.bar.update(shards)
            rate = self.records / max(time.perf_counter() - self.start, 1e-9)
            self.bar.set_postfix_str(f"{self.records:,} docs, {rate:,.0f} docs/s", refresh=bool(shards))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _make_executor(executor: str, workers: int | None, address: str | None, progress: bool):
    if executor == "local":
        from winnow.exec.local import LocalExecutor

        return LocalExecutor(workers)
    if executor == "ray":
        try:
            from winnow.exec.ray import RayExecutor
        except ImportError:
            raise WinnowError("the ray executor needs Ray: pip install 'winnow[ray]'") from None
        return RayExecutor(workers, address, show_progress=progress)
    raise WinnowError(f"unknown executor {executor!r} (choices: local, ray)")


def _prepare_output(fs, root: str, recipe_yaml: str, resume: bool, overwrite: bool) -> None:
    meta = posixpath.join(root, "_winnow")
    saved = posixpath.join(meta, "recipe.yaml")
    if fs.exists(root) and fs.ls(root):
        if overwrite:
            fs.rm(root, recursive=True)
        elif resume and fs.exists(saved):
            with fs.open(saved, "r") as f:
                if _resumable_form(f.read()) != _resumable_form(recipe_yaml):
                    raise WinnowError(
                        f"{root}: the recipe changed since this run started; use a new output path or --overwrite"
                    )
            return
        elif resume:
            raise WinnowError(f"{root} exists but holds no Winnow run to resume; use --overwrite")
        else:
            raise WinnowError(f"output {root} already exists: use --resume to finish it or --overwrite to start again")
    fs.makedirs(meta, exist_ok=True)
    with fs.open(saved, "w") as f:
        f.write(recipe_yaml)


def _resumable_form(recipe_yaml: str) -> Any:
    """What a resumed run must match: the recipe, less its steps' ``budget`` (raising a spent budget of
    a synthetic-data step and resuming is how a run stopped by its budget goes on)."""
    import yaml

    data = yaml.safe_load(recipe_yaml)
    for item in data.get("steps") or []:
        for params in item.values():
            if isinstance(params, dict):
                params.pop("budget", None)
    return data


def _load_or_plan(fs, root: str, recipe: Recipe, staging: str) -> list[Shard]:
    path = posixpath.join(root, "_winnow", "plan.json")
    if fs.exists(path):
        with fs.open(path, "rb") as f:
            return [Shard(**s) for s in orjson.loads(f.read())]
    shards = plan_shards(recipe.input, staging=staging)
    with fs.open(path, "wb") as f:
        f.write(orjson.dumps([dataclasses.asdict(s) for s in shards]))
    return shards


@dataclasses.dataclass
class _Run:
    """One run's places: the output root on its filesystem, and the paths under it."""

    recipe: Recipe
    fs: Any
    root: str
    protocol: str
    resume: bool

    def at(self, *parts: str) -> str:
        return self.protocol + posixpath.join(self.root, *parts)


def _as_recipe(recipe: Recipe | str | dict) -> Recipe:
    # Validated without building the steps: run builds them, once.
    if isinstance(recipe, str):
        return Recipe.load(recipe, build=False)
    if isinstance(recipe, dict):
        return Recipe.from_dict(recipe, build=False)
    return recipe


def run(
    recipe: Recipe | str | dict,
    executor: str = "local",
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    address: str | None = None,
    progress: bool = False,
) -> Manifest:
    """Run a recipe and return its manifest (also written to ``<output>/_winnow/manifest.json``)."""
    recipe = _as_recipe(recipe)
    steps = recipe.build_steps()
    for step in steps:
        step.check()
    started, wall0 = now(), time.perf_counter()
    out = recipe.output.path.rstrip("/")
    fs, root = url_to_fs(out)
    where = _Run(recipe, fs, root, protocol_prefix(out), resume)
    recipe_dict = recipe.to_dict()  # once: saved as YAML for --resume, and in the manifest
    _prepare_output(fs, root, recipe_yaml(recipe_dict), resume, overwrite)
    staging = where.at("_winnow", "input")  # pieces of large compressed inputs (see plan_shards)
    shards = _load_or_plan(fs, root, recipe, staging=staging)

    engine = _make_executor(executor, workers, address, progress)
    try:
        all_stats, prepared = _run_segments(where, steps, shards, engine, progress)
        manifest = build_manifest(
            recipe, steps, shards, all_stats, engine, started, time.perf_counter() - wall0, prepared, recipe_dict
        )
        for entries in manifest.outputs.values():
            for entry in entries:
                entry.path = posixpath.relpath(entry.path, root)
    finally:
        engine.close()
    write_file(where.at("_winnow", "manifest.json"), manifest.to_json())
    if fs.exists(staging):  # only a resumed run would read the staged pieces again
        fs.rm(staging, recursive=True)
    return manifest


def _run_segments(
    where: _Run, steps: list[Step], shards: list[Shard], engine: Any, progress: bool
) -> tuple[list[ShardStats], dict[int, dict[str, float]]]:
    """Every segment in turn (a global stage's prepare first): the shards' stats, and the time of
    each global stage's prepare by step index."""
    all_stats: list[ShardStats] = []
    prepared: dict[int, dict[str, float]] = {}
    segments = _segments(steps)
    for k, (offset, seg_steps) in enumerate(segments):
        if k > 0:
            parts = part_files(where.at("_winnow", "stages", f"seg-{k - 1}"))
            prepared[offset] = _prepare_stage(where, seg_steps[0], offset, parts, engine)
            shards_k = [Shard(i, 0, p, posixpath.basename(p), format=STAGE_FORMAT) for i, p in enumerate(parts)]
        else:
            shards_k = shards
        jobs, done = _segment_jobs(where, k, offset, seg_steps, shards_k, final=k == len(segments) - 1)
        label = "winnow" if len(segments) == 1 else f"winnow [{k + 1}/{len(segments)}]"
        bar = _Progress(progress, len(shards_k), label)
        bar(0, len(done))
        try:
            all_stats.extend(done + engine.run_shards(jobs, bar))
        finally:
            bar.close()
    return all_stats, prepared


def _prepare_stage(where: _Run, stage: Step, offset: int, parts: list[str], engine: Any) -> dict[str, float]:
    assert isinstance(stage, GlobalStage)
    wall, cpu = time.perf_counter(), _cpu_seconds()
    stage.prepare(parts, where.at("_winnow", "work", f"{offset:02d}-{stage.name}"), engine.runner())
    return {"wall_seconds": time.perf_counter() - wall, "cpu_seconds": _cpu_seconds() - cpu}


def _segment_jobs(
    where: _Run, k: int, offset: int, seg_steps: list[Step], shards: list[Shard], final: bool
) -> tuple[list[ShardJob], list[ShardStats]]:
    """The shards of segment ``k`` still to run, and the stats of those a resumed run finished."""
    recipe = where.recipe
    jobs, done = [], []
    for shard in shards:
        marker = where.at("_winnow", "done", f"seg-{k}", f"shard-{shard.index:05d}.json")
        stats = read_marker(marker) if where.resume else None
        if stats is not None:
            done.append(stats)
            continue
        jobs.append(
            ShardJob(
                segment=k,
                shard=shard,
                spec=recipe.input[shard.input_index] if k == 0 else None,
                steps=seg_steps,
                step_offset=offset,
                data_dir=where.at("data") if final else where.at("_winnow", "stages", f"seg-{k}"),
                rejected_dir=where.at("rejected") if recipe.output.keep_rejected else None,
                quarantine_dir=where.at("quarantine"),
                marker_path=marker,
                output_format=OutputFormat(recipe.output.format, recipe.output.compression),
                on_error=recipe.on_error,
                batch_size=recipe.batch_size,
                final=final,
            )
        )
    return jobs, done


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes (local workers).

    Work done in Ray tasks is not seen here: on Ray a stage's prepare counts the driver only."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
