"""Functions the engine tests name in `python` steps (importable by worker processes)."""

from __future__ import annotations

import time

import pyarrow as pa


def slow_batch(batch: pa.Table) -> pa.Table:
    """Pass a batch through, slowly: widens the window in which a test kills a run."""
    time.sleep(0.1)
    return batch


def drop_odd_length(record: dict) -> bool | str:
    return True if len(record["text"]) % 2 == 0 else "odd_length"


def add_first_word(record: dict) -> dict:
    words = record["text"].split()
    record["first_word"] = words[0] if words else ""
    return record


# A global stage for the engine tests: keep the `keep` longest documents of the whole
# dataset (ties broken by id). It needs every record before it can judge any batch.
import posixpath  # noqa: E402

import orjson  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from pydantic import Field  # noqa: E402

from winnow.steps.base import GlobalStage, StepParams, TaskRunner  # noqa: E402
from winnow.steps.registry import register  # noqa: E402

PREPARE_CPU_PER_PART = 0.05  # seconds of CPU each part's prepare task burns (the manifest must count it)


def _lengths(path: str) -> list[tuple[int, str]]:
    deadline = time.process_time() + PREPARE_CPU_PER_PART
    while time.process_time() < deadline:
        pass
    table = pq.read_table(path, columns=["id", "text"])
    return list(zip(pc.utf8_length(table.column("text")).to_pylist(), table.column("id").to_pylist(), strict=True))


@register
class KeepLongest(GlobalStage):
    """Keep the N longest documents of the whole dataset (a test of the global-stage machinery)."""

    name = "test_keep_longest"

    class Params(StepParams):
        keep: int = Field(10, description="documents kept")

    def prepare(self, parts: list[str], workdir: str, runner: TaskRunner) -> None:
        super().prepare(parts, workdir, runner)
        lengths = [pair for part in runner.map(_lengths, parts) for pair in part]
        chosen = sorted(lengths, key=lambda p: (-p[0], p[1]))[: self.params.keep]
        import os

        os.makedirs(workdir, exist_ok=True)
        with open(posixpath.join(workdir, "chosen.json"), "wb") as f:
            f.write(orjson.dumps([i for _, i in chosen]))

    def reasons(self, batch):
        if getattr(self, "_lazy_chosen", None) is None:
            with open(posixpath.join(self.workdir, "chosen.json"), "rb") as f:
                self._lazy_chosen = set(orjson.loads(f.read()))
        return [None if i in self._lazy_chosen else "not_longest" for i in batch.column("id").to_pylist()]


class NeedsTwoArguments(Exception):
    """An exception class that pickle cannot rebuild (its __init__ takes more than the message)."""

    def __init__(self, what: str, why: str):
        super().__init__(f"{what}: {why}")


def fail_on_a_long_text(batch: pa.Table) -> pa.Table:
    if max(len(t) for t in batch.column("text").to_pylist()) > 50_000:
        raise NeedsTwoArguments("a long text", "this step refuses it")
    return batch


# -- killing a run mid-way and resuming it (the SIGKILL tests of the local executor) --------------------
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

TESTS = Path(__file__).resolve().parent


def cli_run(recipe_path: Path, *flags: str) -> subprocess.Popen:
    """``winnow run RECIPE --workers 2`` in a process of its own, with these helpers importable."""
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    command = [sys.executable, "-m", "winnow.cli", "run", str(recipe_path), "--workers", "2", "--quiet", *flags]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def shards_done(out: Path) -> int:
    """The shard completion markers a run has written so far (every segment)."""
    return sum(1 for _ in (out / "_winnow" / "done").rglob("shard-*.json"))


def kill_and_resume(recipe_path: Path, out: Path, shards: int, shares: Sequence[float]) -> int:
    """Run the recipe, SIGKILL it once ``share`` of its ``shards`` are done, run it again with
    ``--resume``, and so on for each share (rising); returns how many runs were killed. The kills
    wait for the run's own progress, not for a clock, so they land mid-run however loaded the
    machine is: with two workers, one shard has just been committed and the other is half done.
    The caller finishes the run with a last ``--resume``."""
    kills = 0
    for share in shares:
        process = cli_run(recipe_path, *(["--resume"] if kills else []))
        target = max(1, int(share * shards))
        while process.poll() is None and shards_done(out) < target:
            time.sleep(0.005)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
    return kills
