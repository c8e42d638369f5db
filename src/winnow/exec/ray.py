"""The Ray executor: the same shards and the same ``run_shard`` as the local executor, on Ray.

Streaming segments go through Ray Data (one row per shard job, ``map`` runs ``run_shard``
in Ray tasks with the steps' declared CPUs, GPUs and memory); global stages' phases run as Ray tasks through
:class:`RayTaskRunner`. It connects to ``address`` (or ``RAY_ADDRESS``) when given, and
otherwise starts a local cluster with ``workers`` CPUs. On a multi-node cluster the run's
output path must be storage every node sees (a shared file system or s3://…).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from winnow.exec.shard import ShardJob, run_shard
from winnow.manifest import ShardStats
from winnow.steps.base import Resources, Step, TaskRunner


def _run_job_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"stats": run_shard(row["job"]).to_json().decode()}


def segment_resources(steps: Sequence[Step]) -> dict[str, float]:
    """What one task running a segment asks of Ray: its steps run one after another in the task,
    so the most any of them declares (``Step.resources``)."""
    resources = [step.resources for step in steps] or [Resources()]
    options = {"num_cpus": max(r.cpus for r in resources)}
    gpus = max(r.gpus for r in resources)
    if gpus:
        options["num_gpus"] = gpus
    options["memory"] = max(r.memory_gb for r in resources) * 2**30
    return options


class RayTaskRunner(TaskRunner):
    def __init__(self, workers: int):
        self.workers = workers

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        import ray

        remote = ray.remote(num_cpus=1)(fn)
        return ray.get([remote.remote(item) for item in items])


class RayExecutor:
    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None, show_progress: bool = True):
        import ray

        address = address or os.environ.get("RAY_ADDRESS")
        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                # Workers of a cluster started here see the driver's import path, so user
                # functions named in `python` steps import there as they do locally.
                path = os.pathsep.join(p for p in sys.path if p)
                ray.init(
                    num_cpus=workers or os.cpu_count(),
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                    runtime_env={"env_vars": {"PYTHONPATH": path}},
                )
        self.workers = int(ray.cluster_resources().get("CPU", 1))
        self.started_here = not address
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = show_progress
        ctx.execution_options.verbose_progress = False
        if not show_progress:  # --quiet: Ray Data's plan and progress messages too (it set its loggers up above)
            for name in ("ray", "ray.data"):
                logging.getLogger(name).setLevel(logging.ERROR)

    def runner(self) -> TaskRunner:
        return RayTaskRunner(self.workers)

    def run_shards(self, jobs: list[ShardJob], progress: Callable[[int, int], None]) -> list[ShardStats]:
        import ray

        if not jobs:
            return []
        dataset = ray.data.from_items([{"job": job} for job in jobs], override_num_blocks=len(jobs))
        rows = dataset.map(_run_job_row, **segment_resources(jobs[0].steps)).take_all()
        results = [ShardStats.from_json(row["stats"]) for row in rows]
        for stats in results:
            progress(stats.read, 1)
        # Ray Data does not promise order; the plan does.
        return sorted(results, key=lambda s: s.shard)

    def close(self) -> None:
        import ray

        if self.started_here and ray.is_initialized():
            ray.shutdown()
