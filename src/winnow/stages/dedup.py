"""The workflow shared by exact and fuzzy dedup: keys → buckets → (verify) → clusters → tag.

Phases, each resumable, with files under the stage's workdir:

``keys``     one task per input part: every document gives one or more 64-bit bucket keys
             (exact: a hash of its normalised text; MinHash: one key per LSH band). The entries
             ``(key, key2, idkey, doc)`` are written sorted by *partition* (``key % partitions``)
             with the partition offsets beside them: one sorted run per part, read back by
             memory-mapped slices. ``doc`` is the record's global index (part offset + row);
             ``idkey`` a hash of its id, so that anchors do not depend on how parts were cut.
             A small ``docs/part-*.parquet`` keeps ``doc, id`` and the ranking columns.
``buckets``  one task per partition (the shuffle): the partition's slice of every run is
             sorted by key; each group of equal keys becomes edges from its anchor (the smallest
             ``idkey``) to its other members, written per partition.
``verify``   (MinHash with ``verify: true``) one task per pair of parts: the candidate edges
             are checked against the exact Jaccard of the two texts' shingles.
``clusters`` in the driver: connected components over the edges (scipy), the representative of
             each component (smallest id, longest text, or smallest (priority, id)), written to
             ``clusters.parquet`` (only records that have a duplicate appear there).

``process`` then tags each batch from ``clusters.parquet`` (loaded once per worker) and drops
the records that are not their cluster's representative, with reason ``duplicate``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash
from pydantic import Field

from winnow.errors import RecipeError
from winnow.manifest import Section
from winnow.records import with_column
from winnow.stages.workfiles import (
    Phases,
    doc_rows,
    local_path,
    open_part,
    part_offsets,
    save_docs,
    save_json,
    save_npy,
    save_parquet,
)
from winnow.steps.base import GlobalStage, Resources, StepParams, StepResult, TaskRunner
from winnow.steps.messages import compared_texts

ENTRY_DTYPE = np.dtype([("key", "<u8"), ("key2", "<u8"), ("idkey", "<u8"), ("doc", "<u8")])
READ_BATCH_ROWS = 2048
# Aim for partitions of about this many entries: a bucket task then holds ~100 MB.
ENTRIES_PER_PARTITION = 4_000_000


class DedupParams(StepParams):
    representative: Literal["smallest_id", "longest", "priority"] = Field(
        "smallest_id",
        description="Which record of a cluster is kept: the smallest id, the longest text (ties: smallest id), "
        "or the smallest (priority_column, id).",
    )
    priority_column: str | None = Field(
        None, description="Column ranking records when representative is 'priority' (smaller is kept first)."
    )
    partitions: int = Field(
        0, ge=0, description="Number of bucket partitions (the shuffle width); 0 chooses from the number of records."
    )
    field: Literal["text", "prompt", "conversation"] = Field(
        "text",
        description="What is compared: 'text' (the text column), 'prompt' (the user turns of a conversation or "
        "of a preference's prompt) or 'conversation' (every turn, rendered from the messages). Records that are "
        "not conversations are compared by their text; with prompt or conversation, an empty one is never a "
        "duplicate.",
    )

    @property
    def ranked_by(self) -> str | None:
        """The column that ranks records when representatives are chosen by priority, else None."""
        return self.priority_column if self.representative == "priority" else None


@dataclass(frozen=True)
class KeysTask:
    stage: DedupStage
    part_index: int
    part: str
    doc_offset: int
    workdir: str
    partitions: int


class DedupStage(GlobalStage):
    """Common machinery; subclasses define ``entries`` (the bucket keys of a batch)."""

    Params: ClassVar[type[StepParams]] = DedupParams
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)
    keys_per_record: ClassVar[int] = 1
    report_section: ClassVar[str | None] = Section.DEDUP
    needs: ClassVar[tuple[str, ...]] = ("scipy",)  # connected components of the duplicate graph
    extra: ClassVar[str | None] = "dedup"

    def check(self) -> None:
        if self.params.representative == "priority" and not self.params.priority_column:
            raise RecipeError(f"step {self.name!r}: representative 'priority' needs priority_column")

    # -- what subclasses define --------------------------------------------------------------
    def entries(self, batch: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(row, key, key2)`` arrays: the bucket keys of the batch's records (row = position in batch)."""
        raise NotImplementedError

    def verify_edges(self, workdir: Path, parts: list[str], offsets: np.ndarray, runner: TaskRunner) -> None:
        """Optionally filter candidate edges (MinHash verification); default: none."""

    # -- prepare: the phases ---------------------------------------------------------------------
    def fingerprint(self, parts: list[str]) -> str:
        files = [(Path(p).name, local_path(p).stat().st_size) for p in parts]
        blob = json.dumps([self.name, self.params.model_dump(mode="json"), files], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def prepare(self, parts: list[str], workdir: str, runner: TaskRunner) -> None:
        self.workdir = workdir
        root = local_path(workdir)
        phases = Phases(root, self.fingerprint(parts))
        offsets = part_offsets(parts)
        partitions = self.params.partitions or max(
            1, min(4096, -(-int(offsets[-1]) * self.keys_per_record // ENTRIES_PER_PARTITION))
        )
        if not phases.done("keys"):
            started = time.perf_counter()
            tasks = [KeysTask(self, i, p, int(offsets[i]), str(root), partitions) for i, p in enumerate(parts)]
            entries = sum(runner.map(keys_task, tasks))
            phases.mark(
                "keys",
                {
                    "parts": len(parts),
                    "partitions": partitions,
                    "entries": entries,
                    "seconds": round(time.perf_counter() - started, 3),
                },
            )
        partitions = phases.summary("keys")["partitions"]
        if not phases.done("buckets"):
            started = time.perf_counter()
            edges = sum(runner.map(bucket_task, [(str(root), len(parts), q) for q in range(partitions)]))
            phases.mark("buckets", {"edges": edges, "seconds": round(time.perf_counter() - started, 3)})
        if not phases.done("verify"):
            started = time.perf_counter()
            self.verify_edges(root, parts, offsets, runner)
            phases.mark("verify", {"seconds": round(time.perf_counter() - started, 3)})
        if not phases.done("clusters"):
            started = time.perf_counter()
            summary = build_clusters(root, len(parts), self.params.representative, self.params.priority_column)
            phases.mark("clusters", {**summary, "seconds": round(time.perf_counter() - started, 3)})

    # -- process: tag and drop ---------------------------------------------------------------
    def _clusters(self) -> tuple[pa.Table, np.ndarray]:
        """The cluster table (sorted by ``idkey``) and its ``idkey`` column, loaded once per worker."""
        loaded = getattr(self, "_lazy_clusters", None)
        if loaded is None:
            if self.workdir is None:
                raise RuntimeError(f"{self.name}: process() called before prepare()")
            table = pq.read_table(local_path(self.workdir) / "clusters.parquet")
            loaded = (table, table.column("idkey").to_numpy())
            self._lazy_clusters = loaded
        return loaded

    def process(self, batch: pa.Table) -> StepResult:
        clusters, idkeys = self._clusters()
        ids = batch.column("id")
        # Look ids up by their 64-bit hash in the sorted idkey column (a binary search per batch:
        # pc.index_in would rebuild a hash set of the whole cluster table for every batch), then
        # confirm the id itself, so a hash collision can never tag the wrong record.
        taken = found = None
        if len(idkeys):
            keys = id_keys(ids.to_pylist())
            index = np.minimum(np.searchsorted(idkeys, keys), len(idkeys) - 1)
            while True:
                taken = clusters.take(pa.array(index))
                found = pc.equal(taken.column("id"), ids)
                # Two ids with one hash sit side by side: step to the next entry of the same hash.
                again = ~found.to_numpy(zero_copy_only=False) & (index + 1 < len(idkeys))
                again &= idkeys[np.minimum(index + 1, len(idkeys) - 1)] == keys
                if not again.any():
                    break
                index = np.where(again, index + 1, index)

        def pick(column: str, default: Any) -> Any:
            if taken is None:
                return default
            return pc.if_else(found, taken.column(column), default)

        cluster_id = pick("cluster_id", ids)
        cluster_size = pick("cluster_size", pa.scalar(1, pa.int64()))
        if taken is None:
            cluster_size = pa.array(np.ones(len(batch), dtype=np.int64))
        duplicate_of = pick("duplicate_of", pa.scalar(None, pa.string()))
        if taken is None:
            duplicate_of = pa.nulls(len(batch), pa.string())
        batch = with_column(batch, self.tag("cluster_id"), cluster_id)
        batch = with_column(batch, self.tag("cluster_size"), cluster_size)
        batch = with_column(batch, self.tag("duplicate_of"), duplicate_of)
        is_duplicate = pc.is_valid(duplicate_of)
        # Each cluster has one representative in the whole dataset, so summed over batches
        # this counts the clusters that had duplicates.
        representatives = pc.and_(pc.greater(cluster_size, 1), pc.invert(is_duplicate))
        self.counters["clusters"] += pc.sum(representatives).as_py() or 0
        self.counters["duplicates"] += pc.sum(is_duplicate).as_py() or 0
        reasons = pc.if_else(is_duplicate, pa.scalar("duplicate"), pa.scalar(None, pa.string()))
        return self.split(batch, reasons)


# -- phase tasks (module-level so they pickle to worker processes and Ray tasks) -------------------
def id_keys(ids: list[str]) -> np.ndarray:
    """64-bit hashes of record ids (xxh64)."""
    return np.fromiter((xxhash.xxh64_intdigest(i.encode()) for i in ids), dtype=np.uint64, count=len(ids))


def keys_path(root: Path, part_index: int) -> Path:
    return root / "keys" / f"part-{part_index:05d}.npy"


def keys_task(task: KeysTask) -> int:
    root = Path(task.workdir)
    out = keys_path(root, task.part_index)
    if out.exists():
        return 0
    stage = task.stage
    priority = stage.params.ranked_by
    file, columns = open_part(task.part, stage.name, stage.params.field, priority)
    chunks: list[np.ndarray] = []
    docs: list[pa.Table] = []
    start = task.doc_offset
    for record_batch in file.iter_batches(batch_size=READ_BATCH_ROWS, columns=columns):
        batch = pa.Table.from_batches([record_batch])
        rows, key, key2 = compared_entries(stage, batch)
        idkeys = id_keys(batch.column("id").to_pylist())
        entries = np.empty(len(rows), dtype=ENTRY_DTYPE)
        entries["key"], entries["key2"] = key, key2
        entries["idkey"] = idkeys[rows]
        entries["doc"] = rows.astype(np.uint64) + np.uint64(start)
        chunks.append(entries)
        docs.append(doc_rows(batch, start, priority))
        start += len(batch)
    entries = np.concatenate(chunks) if chunks else np.empty(0, dtype=ENTRY_DTYPE)
    partition = entries["key"] % np.uint64(task.partitions)
    order = np.argsort(partition, kind="stable")
    entries = entries[order]
    bounds = np.searchsorted(partition[order], np.arange(task.partitions + 1, dtype=np.uint64))
    save_docs(root, task.part_index, docs)
    save_npy(out.with_suffix(".offsets.npy"), bounds.astype(np.int64))
    save_npy(out, entries)  # written last: its existence marks the part as done
    return len(entries)


def compared_entries(stage: DedupStage, batch: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``stage.entries`` on the text its ``field`` compares; empty prompts or conversations get no entry."""
    field = stage.params.field
    if field == "text":
        return stage.entries(batch)
    compared = compared_texts(batch, field)
    rows, key, key2 = stage.entries(with_column(batch.select(["id"]), "text", compared))
    keep = pc.greater(pc.utf8_length(compared), 0).to_numpy(zero_copy_only=False)[rows]
    return rows[keep], key[keep], key2[keep]


def bucket_task(item: tuple[str, int, int]) -> int:
    """Group equal keys of one partition across all parts into edges anchor → member."""
    workdir, n_parts, q = item
    root = Path(workdir)
    out = root / "edges" / f"part-{q:05d}.npy"
    if out.exists():
        return 0
    slices = []
    for i in range(n_parts):
        path = keys_path(root, i)
        bounds = np.load(path.with_suffix(".offsets.npy"))
        run = np.load(path, mmap_mode="r")
        slices.append(np.array(run[bounds[q] : bounds[q + 1]]))
    entries = np.concatenate(slices) if slices else np.empty(0, dtype=ENTRY_DTYPE)
    del slices
    edges = group_edges(entries)
    save_npy(out, edges)
    return len(edges)


def group_edges(entries: np.ndarray) -> np.ndarray:
    """Edges (anchor doc, member doc) for every group of entries with equal (key, key2), unique."""
    if len(entries) < 2:
        return np.empty((0, 2), dtype=np.uint64)
    order = np.lexsort((entries["doc"], entries["idkey"], entries["key2"], entries["key"]))
    entries = entries[order]
    same = (entries["key"][1:] == entries["key"][:-1]) & (entries["key2"][1:] == entries["key2"][:-1])
    starts = np.concatenate([[True], ~same])
    anchor_index = np.maximum.accumulate(np.where(starts, np.arange(len(entries)), 0))
    members = np.nonzero(~starts)[0]
    edges = np.stack([entries["doc"][anchor_index[members]], entries["doc"][members]], axis=1)
    edges = edges[edges[:, 0] != edges[:, 1]]
    return np.unique(edges, axis=0) if len(edges) else np.empty((0, 2), dtype=np.uint64)


def load_edges(directory: Path) -> np.ndarray:
    files = sorted(directory.glob("*.npy"))
    edges = [np.load(f) for f in files]
    edges = [e for e in edges if len(e)]
    return np.concatenate(edges) if edges else np.empty((0, 2), dtype=np.uint64)


def _components(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """The connected component of each of ``n`` nodes joined by the edges ``u[i] - v[i]`` (scipy)."""
    from scipy.sparse import coo_matrix  # the dedup extra
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def build_clusters(root: Path, n_parts: int, representative: str, priority: str | None) -> dict[str, Any]:
    """Connected components over the edges, one representative each; writes clusters.parquet."""
    edge_dir = root / "verified" if (root / "verified").is_dir() else root / "edges"
    edges = load_edges(edge_dir)
    nodes = np.unique(edges) if len(edges) else np.empty(0, dtype=np.uint64)
    n = len(nodes)
    if n:
        labels = _components(np.searchsorted(nodes, edges[:, 0]), np.searchsorted(nodes, edges[:, 1]), n)
    else:
        labels = np.empty(0, dtype=np.int32)
    del edges
    members = []
    for i in range(n_parts):
        path = root / "docs" / f"part-{i:05d}.parquet"
        if not path.exists() or n == 0:
            continue
        docs = pq.read_table(path)
        doc = docs.column("doc").to_numpy()
        keep = np.isin(doc.astype(np.uint64), nodes)
        if keep.any():
            docs = docs.filter(pa.array(keep))
            label = labels[np.searchsorted(nodes, docs.column("doc").to_numpy().astype(np.uint64))]
            members.append(docs.append_column("label", pa.array(label.astype(np.int64))))
    if members:
        table = pa.concat_tables(members, promote_options="permissive")
        sort_keys = [("label", "ascending")]
        if representative == "longest":
            table = table.append_column("neg_length", pc.negate(table.column("length")))
            sort_keys.append(("neg_length", "ascending"))
        elif representative == "priority":
            sort_keys.append(("priority", "ascending", "at_end"))
        sort_keys.append(("id", "ascending"))
        table = table.take(pc.sort_indices(table, sort_keys=sort_keys))
        label = table.column("label").to_numpy()
        first = np.concatenate([[True], label[1:] != label[:-1]])
        first_index = np.maximum.accumulate(np.where(first, np.arange(len(label)), 0))
        sizes = np.bincount(label)[label]
        rep_ids = table.column("id").take(pa.array(first_index))
        clusters = pa.table(
            {
                "idkey": pa.array(id_keys(table.column("id").to_pylist())),
                "id": table.column("id"),
                "cluster_id": rep_ids,
                "cluster_size": pa.array(sizes.astype(np.int64)),
                "duplicate_of": pc.if_else(pa.array(first), pa.scalar(None, pa.string()), rep_ids),
            }
        )
    else:
        clusters = pa.table(
            {
                "idkey": pa.array([], pa.uint64()),
                "id": pa.array([], pa.string()),
                "cluster_id": pa.array([], pa.string()),
                "cluster_size": pa.array([], pa.int64()),
                "duplicate_of": pa.array([], pa.string()),
            }
        )
    clusters = clusters.sort_by([("idkey", "ascending"), ("id", "ascending")])
    save_parquet(root / "clusters.parquet", clusters)
    n_clusters = int(pc.sum(pc.is_null(clusters.column("duplicate_of"))).as_py() or 0)
    summary = {"clusters": n_clusters, "records_in_clusters": len(clusters), "duplicates": len(clusters) - n_clusters}
    save_json(root / "clusters.json", summary)
    return summary
