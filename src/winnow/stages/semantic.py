"""``semantic_dedup``: drop records whose embeddings are near-identical (SemDeDup, Abbas et al. 2023).

Exact and MinHash dedup find copies that share words; this finds records that say the same thing in
other words (paraphrases, translations of a template). Phases, each resumable, with files under the
stage's workdir (``winnow.stages.workfiles``):

``embed``    one task per input part: the unit vector of every record (from ``model``, or read from a
             ``vector_column`` an earlier ``embed`` step wrote) → ``vectors/part-*.npy``, and the
             ``docs/part-*.parquet`` (doc, id, length, priority) that the dedup workflow shares;
``kmeans``   in the driver: seeded k-means (``winnow.models.kmeans``) on an evenly spaced sample of
             at most ``sample`` vectors → ``centroids.npy``;
``assign``   one task per part: each vector's nearest centroid; the part's rows are written sorted by
             k-means cluster with the cluster bounds beside them (the shuffle's sorted run);
``pairs``    one task per group of k-means clusters: the members' slices of every run (memory-mapped),
             cosine similarity in row blocks (bounded memory), and edges joining every pair at or
             above ``threshold`` — a spanning forest of each cluster's groups, not every pair;
``clusters`` connected components over the edges and one representative each — the smallest id, the
             longest text or the smallest (priority, id), as every dedup stage — in ``clusters.parquet``.

``process`` is the dedup workflow's: tags ``semantic_dedup.cluster_id/cluster_size/duplicate_of`` and
drops the non-representatives with reason ``duplicate``. Pairs are only looked for inside a k-means
cluster (SemDeDup's approximation): two near-identical vectors almost always share their nearest
centroid, and the cost is Σ size² instead of n².
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import Field

from winnow.errors import RecipeError
from winnow.models.kmeans import assign, normalize, train_kmeans
from winnow.models.registry import load_embedder
from winnow.stages.dedup import READ_BATCH_ROWS, DedupParams, DedupStage, build_clusters
from winnow.stages.workfiles import Phases, doc_rows, local_path, open_part, part_offsets, save_docs, save_npy
from winnow.steps.base import Resources, StepParams, TaskRunner
from winnow.steps.messages import compared_texts
from winnow.steps.registry import register

# Similarities computed at once: a block has max(1, PAIR_BLOCK_CELLS // cluster size) rows, so the
# block (float32) and, in a cluster of near-copies, its pairs (int64 each) stay ~1 MB and ~25 MB;
# smaller blocks were also faster (fewer pairs left to sort once the groups so far are joined).
PAIR_BLOCK_CELLS = 1 << 18


class SemanticDedupParams(DedupParams):
    model: str | None = Field(None, description="A local embedding model (as for embed); or give vector_column.")
    vector_column: str | None = Field(None, description="Read vectors from this column (e.g. embed.vector).")
    threshold: float = Field(0.95, gt=0.0, le=1.0, description="Cosine similarity from which records are duplicates.")
    clusters: int = Field(0, ge=0, description="k-means clusters; 0: one per ~1,000 records.")
    sample: int = Field(100_000, ge=1, description="At most this many vectors train the k-means.")
    seed: int = Field(0, description="Seed of the k-means (same seed, same clusters).")


@dataclass(frozen=True)
class EmbedTask:
    stage: SemanticDedup
    part_index: int
    part: str
    doc_offset: int
    workdir: str


@register
class SemanticDedup(DedupStage):
    """Drop semantic near-duplicates: embeddings, k-means, cosine ≥ threshold within clusters; one kept per cluster."""

    name = "semantic_dedup"
    Params: ClassVar[type[StepParams]] = SemanticDedupParams
    produces = ("semantic_dedup.cluster_id", "semantic_dedup.cluster_size", "semantic_dedup.duplicate_of")
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=2.0)

    def check(self) -> None:
        super().check()
        if (self.params.model is None) == (self.params.vector_column is None):
            raise RecipeError("step 'semantic_dedup': give one of model or vector_column")
        if self.params.model is not None:
            load_embedder(self.params.model)

    def prepare(self, parts: list[str], workdir: str, runner: TaskRunner) -> None:
        self.workdir = workdir
        root = local_path(workdir)
        phases = Phases(root, self.fingerprint(parts))
        offsets = part_offsets(parts)
        n_parts = len(parts)
        if not phases.done("embed"):
            started = time.perf_counter()
            runner.map(embed_task, [EmbedTask(self, i, p, int(offsets[i]), str(root)) for i, p in enumerate(parts)])
            phases.mark("embed", {"records": int(offsets[-1]), "seconds": round(time.perf_counter() - started, 3)})
        if not phases.done("kmeans"):
            started = time.perf_counter()
            k = self.params.clusters or max(1, -(-int(offsets[-1]) // 1000))
            centroids = train_kmeans(evenly_spaced_sample(root, offsets, self.params.sample), k, self.params.seed)
            save_npy(root / "centroids.npy", centroids.astype(np.float32))
            phases.mark("kmeans", {"clusters": len(centroids), "seconds": round(time.perf_counter() - started, 3)})
        if not phases.done("assign"):
            started = time.perf_counter()
            runner.map(assign_task, [(str(root), i) for i in range(n_parts)])
            phases.mark("assign", {"seconds": round(time.perf_counter() - started, 3)})
        if not phases.done("pairs"):
            started = time.perf_counter()
            k = phases.summary("kmeans")["clusters"]
            groups = max(1, min(k, 4 * max(1, runner.workers)))
            items = [(str(root), n_parts, k, g, groups, self.params.threshold) for g in range(groups)]
            edges = sum(runner.map(pairs_task, items))
            phases.mark("pairs", {"forest_edges": edges, "seconds": round(time.perf_counter() - started, 3)})
        if not phases.done("clusters"):
            started = time.perf_counter()
            summary = build_clusters(root, n_parts, self.params.representative, self.params.priority_column)
            phases.mark("clusters", {**summary, "seconds": round(time.perf_counter() - started, 3)})


# -- phase tasks (module-level so they pickle to worker processes and Ray tasks) -------------------
def _vectors_path(root: Path, part_index: int) -> Path:
    return root / "vectors" / f"part-{part_index:05d}.npy"


def embed_task(task: EmbedTask) -> int:
    root = Path(task.workdir)
    out = _vectors_path(root, task.part_index)
    if out.exists():
        return 0
    params = task.stage.params
    priority = params.ranked_by
    file, columns = open_part(task.part, "semantic_dedup", params.field, priority, params.vector_column)
    model = load_embedder(params.model) if params.model else None
    vectors, docs, start = [], [], task.doc_offset
    for record_batch in file.iter_batches(batch_size=READ_BATCH_ROWS, columns=columns):
        batch = pa.Table.from_batches([record_batch])
        texts = batch.column("text") if params.field == "text" else compared_texts(batch, params.field)
        if model is not None:
            vectors.append(model.encode(pc.fill_null(texts, "").to_pylist()))
        else:
            from winnow.steps.embed import vectors_of  # a step's column format, read only

            vectors.append(normalize(vectors_of(batch.column(params.vector_column))))
        docs.append(doc_rows(batch, start, priority))
        start += len(batch)
    save_docs(root, task.part_index, docs)
    save_npy(out, np.concatenate(vectors).astype(np.float32) if vectors else np.zeros((0, 1), np.float32))
    return start - task.doc_offset


def evenly_spaced_sample(root: Path, offsets: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` vectors at evenly spaced global positions (independent of how parts were cut)."""
    total = int(offsets[-1])
    if total == 0:
        return np.zeros((1, 1), dtype=np.float32)
    wanted = np.unique(np.linspace(0, total - 1, min(limit, total)).astype(np.int64))
    rows = []
    for i in range(len(offsets) - 1):
        inside = wanted[(wanted >= offsets[i]) & (wanted < offsets[i + 1])] - offsets[i]
        if len(inside):
            rows.append(np.asarray(np.load(_vectors_path(root, i), mmap_mode="r")[inside]))
    return np.concatenate(rows)


def assign_task(item: tuple[str, int]) -> int:
    """Write the part's (doc, vector) rows sorted by nearest centroid, and the cluster bounds."""
    workdir, part_index = item
    root = Path(workdir)
    out = root / "assigned" / f"part-{part_index:05d}.npy"
    if out.exists():
        return 0
    vectors = np.load(_vectors_path(root, part_index))
    centroids = np.load(root / "centroids.npy")
    docs = pq.read_table(root / "docs" / f"part-{part_index:05d}.parquet", columns=["doc"]).column("doc").to_numpy()
    cluster = assign(vectors, centroids) if len(vectors) else np.zeros(0, dtype=np.int32)
    order = np.argsort(cluster, kind="stable")
    bounds = np.searchsorted(cluster[order], np.arange(len(centroids) + 1))
    save_npy(out.with_suffix(".docs.npy"), docs[order].astype(np.uint64))
    save_npy(out.with_suffix(".bounds.npy"), bounds.astype(np.int64))
    save_npy(out, vectors[order])  # written last: its existence marks the part as done
    return len(order)


def pairs_task(item: tuple[str, int, int, int, int, float]) -> int:
    """Edges between members of the same k-means cluster whose cosine is ≥ threshold (clusters c with
    c % groups == group), as a spanning forest of each cluster's groups (``similar_pairs``)."""
    workdir, n_parts, k, group, groups, threshold = item
    root = Path(workdir)
    out = root / "edges" / f"part-{group:05d}.npy"
    if out.exists():
        return 0
    runs = []
    for i in range(n_parts):
        path = root / "assigned" / f"part-{i:05d}.npy"
        runs.append(
            (
                np.load(path, mmap_mode="r"),
                np.load(path.with_suffix(".docs.npy")),
                np.load(path.with_suffix(".bounds.npy")),
            )
        )
    found = []
    for c in range(group, k, groups):
        vectors = np.concatenate([np.asarray(v[b[c] : b[c + 1]]) for v, _, b in runs])
        docs = np.concatenate([d[b[c] : b[c + 1]] for _, d, b in runs])
        found.append(similar_pairs(vectors, docs, threshold))
    edges = np.concatenate(found) if found else np.empty((0, 2), dtype=np.uint64)
    save_npy(out, edges)
    return len(edges)


def similar_pairs(vectors: np.ndarray, docs: np.ndarray, threshold: float) -> np.ndarray:
    """Edges that connect the same groups as every pair i < j with cosine ≥ threshold: a spanning
    forest (each member of a group → the group's first row), built block by block.

    Only the groups matter downstream (``build_clusters`` takes connected components, and every pair
    lies inside one k-means cluster, so a cluster's own components are the final ones). The pairs of
    a dense cluster grow with its size squared — 858 million of them on 1,000,000 scaled documents,
    13 GB of edges that the components phase could not hold — the forest only with its size."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(vectors)
    rows = np.arange(n)
    root = rows.copy()  # the forest so far: row → the first row of its group
    step = max(1, PAIR_BLOCK_CELLS // max(n, 1))
    for start in range(0, n, step):
        block = vectors[start : start + step] @ vectors[start:].T
        i, j = np.nonzero(block >= threshold)
        del block
        keep = j > i  # the block's column 0 is row `start`: the upper triangle, no self-pairs
        # Only pairs that join two groups not joined yet matter: in a cluster of near-copies that is
        # a handful, where the pairs themselves are millions.
        a, b = root[start + i[keep]], root[start + j[keep]]
        del i, j, keep
        apart = a != b
        joins = np.unique(a[apart] * n + b[apart])  # one int64 per (group, group): n² < 2⁶³
        if not len(joins):
            continue
        left, right = np.concatenate([rows, joins // n]), np.concatenate([root, joins % n])
        graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        first = np.full(labels.max() + 1, n)
        np.minimum.at(first, labels, rows)
        root = first[labels]
    linked = root != rows
    if not linked.any():
        return np.empty((0, 2), dtype=np.uint64)
    return np.stack([docs[rows[linked]], docs[root[linked]]], axis=1).astype(np.uint64)
