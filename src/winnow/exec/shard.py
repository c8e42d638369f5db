"""Running one shard through the streaming steps of one segment — the unit every executor runs.

A *segment* is the run of streaming steps between two global stages (a pipeline without
global stages is one segment). ``run_shard`` reads one shard, streams it batch by batch
through the segment's steps, writes kept, rejected and quarantined records as part files,
commits them and writes the shard's completion marker with its counts. The same function
runs in-process, in a local worker process and in a Ray task; that is why the executors
give the same result.
"""

from __future__ import annotations

import posixpath
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from fsspec.core import url_to_fs

from winnow.errors import WinnowError
from winnow.io.base import DEFAULT_BATCH_SIZE, ErrorSink, InputSpec, Shard, readers
from winnow.io.output import OutputFormat, PartWriter, SplitWriter
from winnow.io.parquet import read_records
from winnow.manifest import OutputFile, ShardStats, StepStats
from winnow.records import REASON
from winnow.steps.base import Step, StepResult

STAGE_FORMAT = "winnow-parquet"  # a part written by an earlier segment of the same run


@dataclass
class ShardJob:
    """Everything a worker needs to run one shard (pickled to worker processes and Ray tasks)."""

    segment: int
    shard: Shard
    spec: InputSpec | None  # the recipe input for segment 0; None for a stage part
    steps: list[Step]
    step_offset: int  # index in the whole pipeline of this segment's first step
    data_dir: str  # where kept records go (the run's data/, or a stage directory)
    rejected_dir: str | None  # None when the recipe does not keep rejected records
    quarantine_dir: str
    marker_path: str
    output_format: OutputFormat = field(default_factory=OutputFormat)
    on_error: str = "fail"
    batch_size: int = DEFAULT_BATCH_SIZE
    final: bool = True  # writes the run's data/ (splits apply there)

    @property
    def part_name(self) -> str:
        index = f"{self.shard.index:05d}"
        return f"part-{index}" if self.segment == 0 else f"part-s{self.segment}-{index}"


def _batches(job: ShardJob, errors: ErrorSink):
    if job.shard.format == STAGE_FORMAT:
        yield from read_records(job.shard.file, job.batch_size)
        return
    reader = readers()[job.shard.format]()
    records = 0
    try:
        for batch in reader.read(job.shard, job.spec, errors, job.batch_size):
            records += batch.num_rows
            yield batch
    except WinnowError:
        raise
    except Exception as error:  # a corrupt or truncated file: decompression, I/O, parse errors
        where = f"after record {records}" if records else "start of file"
        # With on_error: skip the rest of the file is quarantined as one entry; the records
        # read before the damage are kept.
        errors.bad(job.shard.describe(), where, f"unreadable file: {type(error).__name__}: {error}")


def _tally(table: pa.Table, into: dict[str, Counter], prefix: str) -> None:
    """Docs and characters by source and by licence."""
    if table.num_rows == 0:
        return
    chars = pc.utf8_length(table.column("text"))
    for column in ("source", "license"):
        grouped = (
            pa.table({"key": table.column(column), "chars": chars})
            .group_by("key")
            .aggregate([("chars", "sum"), ("chars", "count")])
        )
        for key, total, count in zip(
            grouped.column("key").to_pylist(),
            grouped.column("chars_sum").to_pylist(),
            grouped.column("chars_count").to_pylist(),
            strict=True,
        ):
            into[f"{column}\t{key}"][f"{prefix}_docs"] += count
            into[f"{column}\t{key}"][f"{prefix}_chars"] += total or 0


def _chars(batch: pa.Table) -> int:
    if batch.num_rows == 0:
        return 0
    return pc.sum(pc.utf8_length(batch.column("text"))).as_py() or 0


def _remove_stale(directory: str, name: str) -> None:
    """Delete what a killed earlier attempt at this shard left (renamed or temporary parts)."""
    fs, root = url_to_fs(directory)
    if not fs.isdir(root):
        return
    pattern = re.compile(rf"^(\.tmp-)?{re.escape(name)}(\.\d+)?\.(parquet|jsonl)")
    for path in fs.find(root):
        if pattern.match(posixpath.basename(path)):
            fs.rm(path)


def _quarantine_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("id", pa.string()),
                ("file", pa.string()),
                ("location", pa.string()),
                (REASON, pa.string()),
                ("raw", pa.string()),
            ]
        ),
    )


class _ShardWriters:
    """The part writers of one shard: kept records, rejected records (when kept), quarantined rows."""

    def __init__(self, job: ShardJob):
        for directory in (job.data_dir, job.quarantine_dir, job.rejected_dir):
            if directory:
                _remove_stale(directory, job.part_name)
        self.kept = (
            SplitWriter(job.data_dir, job.part_name, job.output_format)
            if job.final
            else PartWriter(job.data_dir, job.part_name, OutputFormat("parquet"))
        )
        self.rejected = (
            PartWriter(job.rejected_dir, job.part_name, OutputFormat("parquet")) if job.rejected_dir else None
        )
        self.quarantine = PartWriter(job.quarantine_dir, job.part_name, OutputFormat("parquet"))
        self.all = [w for w in (self.kept, self.rejected, self.quarantine) if w is not None]

    def close(self) -> None:
        for writer in self.all:
            writer.close()

    def abort(self) -> None:
        for writer in self.all:
            writer.abort()

    def commit(self) -> dict[str, list[OutputFile]]:
        committed = {
            "data": self.kept.commit(),
            "rejected": self.rejected.commit() if self.rejected else [],
            "quarantine": self.quarantine.commit(),
        }
        return {kind: [OutputFile(**entry) for entry in entries] for kind, entries in committed.items()}


def _run_step(step: Step, batch: pa.Table, job: ShardJob) -> StepResult:
    try:
        return step.apply(batch)
    except WinnowError:
        raise
    except Exception as error:  # a step bug: name the step and the shard
        raise WinnowError(
            f"step {step.name!r} failed on {job.shard.describe()}: {type(error).__name__}: {error}"
        ) from error


def _through_steps(job: ShardJob, batch: pa.Table, stats: ShardStats, writers: _ShardWriters) -> pa.Table:
    """Stream one batch through the segment's steps, counting into ``stats``; returns what is kept."""
    chars = _chars(batch) if job.steps else 0
    for step_stats, step in zip(stats.steps, job.steps, strict=True):
        if batch.num_rows == 0:
            break
        t0, c0 = time.perf_counter(), time.process_time()
        result = _run_step(step, batch, job)
        step_stats.wall_seconds += time.perf_counter() - t0
        step_stats.cpu_seconds += time.process_time() - c0
        step_stats.records_in += batch.num_rows
        step_stats.out += result.kept.num_rows
        step_stats.chars_in += chars
        chars = _chars(result.kept)  # after the step: rewriting steps change it too
        step_stats.chars_out += chars
        if step.counters:
            step_stats.counters = _merged(step_stats.counters, step.counters)
            step.counters.clear()
        if result.rejected is not None and result.rejected.num_rows:
            stats.rejected += result.rejected.num_rows
            step_stats.count_dropped(result.rejected.column(REASON).to_pylist(), f"{step.name}: ")
            if writers.rejected is not None:
                writers.rejected.write(result.rejected)
        batch = result.kept
    return batch


def _merged(into: dict, counters: Counter) -> dict:
    for key, value in counters.items():
        into[key] = into.get(key, 0) + value
    return into


def run_shard(job: ShardJob, progress: Callable[[int], None] | None = None) -> ShardStats:
    """Run one shard; returns (and writes to its marker) the shard's counts."""
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    errors = ErrorSink(job.on_error)
    writers = _ShardWriters(job)
    stats = ShardStats(
        segment=job.segment,
        shard=job.shard.index,
        file=job.shard.describe(),
        steps=[StepStats(index=job.step_offset + i) for i in range(len(job.steps))],
    )
    tallies: dict[str, Counter] = defaultdict(Counter)

    def quarantine() -> int:
        bad = errors.take()
        if bad:
            stats.quarantined += len(bad)
            writers.quarantine.write(_quarantine_table(bad))
        return len(bad)

    try:
        for batch in _batches(job, errors):
            batch_records = batch.num_rows + quarantine()
            stats.read += batch.num_rows
            if job.segment == 0:
                _tally(batch, tallies, "input")
            batch = _through_steps(job, batch, stats, writers)
            stats.kept += batch.num_rows
            if job.final:
                _tally(batch, tallies, "kept")
            writers.kept.write(batch)
            if progress is not None:
                progress(batch_records)
        quarantine()  # rows reported after the last batch
        writers.close()
    except BaseException:
        writers.abort()
        raise
    stats.outputs = writers.commit()
    stats.tallies = {key: dict(counter) for key, counter in tallies.items()}
    stats.wall_seconds = time.perf_counter() - wall_start
    stats.cpu_seconds = time.process_time() - cpu_start
    write_marker(job.marker_path, stats)
    return stats


def write_file(path: str, data: bytes) -> None:
    """Write a file atomically (a temporary name, then a rename): it exists whole or not at all."""
    fs, p = url_to_fs(path)
    fs.makedirs(posixpath.dirname(p), exist_ok=True)
    tmp = posixpath.join(posixpath.dirname(p), ".tmp-" + posixpath.basename(p))
    with fs.open(tmp, "wb") as f:
        f.write(data)
    fs.mv(tmp, p)


def write_marker(path: str, stats: ShardStats) -> None:
    """Write a shard's completion marker atomically."""
    write_file(path, stats.to_json())


def read_marker(path: str) -> ShardStats | None:
    fs, p = url_to_fs(path)
    if not fs.exists(p):
        return None
    with fs.open(p, "rb") as f:
        return ShardStats.from_json(f.read())
