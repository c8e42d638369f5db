"""The local executor (the default): shards run in N worker processes on this machine.

One worker runs shards in-process (no pickling, easy to profile). More workers are forked
processes that each take whole shards; they report progress through a queue, and die with
the driver (so a killed run leaves no orphan writing files behind a resumed one).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from winnow.errors import WinnowError
from winnow.exec.shard import ShardJob, run_shard
from winnow.manifest import ShardStats
from winnow.steps.base import TaskRunner

_progress_queue = None


def _load_prctl() -> Callable[..., int] | None:
    """libc's prctl, loaded once in the driver so that forked workers do not each load it."""
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None  # not Linux: an orphan finishes its shard and exits


_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _init_worker(queue: Any) -> None:
    global _progress_queue
    _progress_queue = queue
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle


def _report(n: int) -> None:
    _progress_queue.put(n)


def _run_in_worker(job: ShardJob) -> ShardStats:
    with _picklable_errors(job.shard.describe()):
        return run_shard(job, _report)


def _call(payload: tuple[Callable[[Any], Any], Any]) -> Any:
    fn, item = payload
    with _picklable_errors(repr(item)[:200]):
        return fn(item)


@contextmanager
def _picklable_errors(where: str) -> Iterator[None]:
    """A worker's error reaches the driver pickled. One that cannot be rebuilt from its pickle (an
    exception class whose __init__ takes other arguments, from a user's step, say) would kill the
    pool's result thread and hang the run: send a WinnowError with its type and message instead."""
    try:
        yield
    except Exception as error:
        try:
            pickle.loads(pickle.dumps(error))
        except Exception:
            raise WinnowError(f"{where}: {type(error).__name__}: {error}") from None
        raise


class LocalTaskRunner(TaskRunner):
    def __init__(self, workers: int):
        self.workers = max(1, workers)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        items = list(items)
        if self.workers == 1 or len(items) <= 1:
            return [fn(item) for item in items]
        ctx = mp.get_context("fork")
        with ctx.Pool(min(self.workers, len(items)), initializer=_init_worker, initargs=(ctx.SimpleQueue(),)) as pool:
            return pool.map(_call, [(fn, item) for item in items], chunksize=1)


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)

    def runner(self) -> TaskRunner:
        return LocalTaskRunner(self.workers)

    def run_shards(self, jobs: list[ShardJob], progress: Callable[[int, int], None]) -> list[ShardStats]:
        """Run the jobs; ``progress(records, shards_done)`` is called as work advances."""
        if self.workers == 1 or len(jobs) <= 1:
            results = []
            for job in jobs:
                results.append(run_shard(job, lambda n: progress(n, 0)))
                progress(0, 1)
            return results
        ctx = mp.get_context("fork")
        queue = ctx.SimpleQueue()
        finished = threading.Event()  # set by the pool's result thread when any shard ends

        def wake(_: Any) -> None:
            finished.set()

        with ctx.Pool(min(self.workers, len(jobs)), initializer=_init_worker, initargs=(queue,)) as pool:
            pending = [pool.apply_async(_run_in_worker, (job,), callback=wake, error_callback=wake) for job in jobs]
            results: list[ShardStats | None] = [None] * len(jobs)
            remaining = set(range(len(jobs)))
            while remaining:
                finished.wait(0.1)  # progress is shown at least every 0.1 s
                finished.clear()
                while not queue.empty():
                    progress(queue.get(), 0)
                for i in list(remaining):
                    if pending[i].ready():
                        results[i] = pending[i].get()  # re-raises a worker's error; the pool is terminated
                        remaining.discard(i)
                        progress(0, 1)
            while not queue.empty():
                progress(queue.get(), 0)
            # Let the workers exit on their own: terminate() (the with block's exit) is slower.
            pool.close()
            pool.join()
        return results  # type: ignore[return-value]

    def close(self) -> None:
        pass
