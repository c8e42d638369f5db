"""Fuzzy deduplication: word n-gram MinHash, LSH bands, connected components, optional verification."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, model_validator

from winnow.stages.dedup import DedupParams, DedupStage, load_edges
from winnow.stages.workfiles import compared_columns, local_path, save_npy
from winnow.steps.base import TaskRunner
from winnow.steps.messages import compared_texts
from winnow.steps.registry import register
from winnow.text import shingles

# Bands × rows are chosen so that a pair at the threshold is found with at least this probability.
TARGET_RECALL_AT_THRESHOLD = 0.9


def candidate_probability(similarity: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """Probability that LSH makes a pair of this Jaccard similarity a candidate."""
    return 1.0 - (1.0 - np.power(similarity, rows)) ** bands


def choose_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) using at most ``num_perm`` hashes: among those finding a pair at ``threshold``
    with probability ≥ 0.9, the one with the least false-positive mass below the threshold."""
    x = np.linspace(0.0, threshold, 400)
    best: tuple[float, int, int] | None = None
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) < TARGET_RECALL_AT_THRESHOLD:
            continue
        false_positive_mass = float(np.trapezoid(candidate_probability(x, bands, rows), x))
        if best is None or false_positive_mass < best[0]:
            best = (false_positive_mass, bands, rows)
    if best is None:  # too few hashes to reach the target: take the most sensitive split
        return num_perm, 1
    return best[1], best[2]


@register
class MinHashDedup(DedupStage):
    """Drop near-duplicates (MinHash-LSH over word n-grams); keep one representative per cluster."""

    name = "minhash_dedup"
    produces = ("minhash_dedup.cluster_id", "minhash_dedup.cluster_size", "minhash_dedup.duplicate_of")

    class Params(DedupParams):
        ngram: int = Field(5, ge=1, le=32, description="Words per shingle (lower-cased Unicode \\w+ words).")
        num_perm: int = Field(112, ge=2, le=1024, description="Number of MinHash hash functions.")
        threshold: float = Field(
            0.8,
            gt=0.0,
            le=1.0,
            description="Jaccard similarity from which records are duplicates; "
            "chooses bands × rows when they are not given, and is the cut-off of verify.",
        )
        bands: int | None = Field(None, ge=1, description="LSH bands (default: chosen from threshold).")
        rows: int | None = Field(None, ge=1, description="Hashes per band (default: chosen from threshold).")
        verify: bool = Field(
            False,
            description="Check each candidate pair by the exact Jaccard of its shingles (drops LSH false "
            "positives, so they cannot merge clusters); slower.",
        )
        seed: int = Field(1, description="Seed of the hash functions (same seed, same signatures).")

        @model_validator(mode="after")
        def _bands_fit(self) -> MinHashDedup.Params:
            if (self.bands is None) != (self.rows is None):
                raise ValueError("give both bands and rows, or neither (then threshold chooses them)")
            if self.bands is not None and self.bands * self.rows > self.num_perm:
                raise ValueError(f"bands × rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
            return self

    def __init__(self, **params):
        super().__init__(**params)
        p = self.params
        self.bands, self.rows = (p.bands, p.rows) if p.bands else choose_bands(p.threshold, p.num_perm)
        self.keys_per_record = self.bands

    def entries(self, batch: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        words, offsets = shingles.word_hashes(batch.column("text"))
        values, value_offsets = shingles.shingle_hashes(words, offsets, self.params.ngram)
        a, b = shingles.permutations(self.bands * self.rows, self.params.seed)
        signatures = shingles.minhash(values, value_offsets, a, b)
        has_shingles = np.nonzero(np.diff(value_offsets) > 0)[0]
        keys = shingles.band_keys(signatures[has_shingles], self.bands, self.rows)
        rows = np.repeat(has_shingles, self.bands)
        return rows, keys.ravel(), np.zeros(len(rows), dtype=np.uint64)

    def verify_edges(self, workdir: Path, parts: list[str], offsets: np.ndarray, runner: TaskRunner) -> None:
        """Two parallel sub-phases: the shingle sets of every record in a candidate edge, written per
        part (one task per part); then the edges of each bucket partition checked by exact Jaccard
        against those sets, read back memory-mapped (one task per partition)."""
        if not self.params.verify:
            return
        edge_files = sorted((workdir / "edges").glob("part-*.npy"))
        candidates = np.unique(load_edges(workdir / "edges"))
        owner = np.searchsorted(offsets, candidates, side="right") - 1
        tasks = []
        for i, part in enumerate(parts):
            rows = (candidates[owner == i] - np.uint64(offsets[i])).astype(np.int64)
            tasks.append((str(workdir), i, part, rows, self.params.ngram, self.params.field))
        del candidates, owner
        runner.map(shingle_sets_task, tasks)
        (workdir / "verified").mkdir(exist_ok=True)
        runner.map(verify_task, [(str(workdir), str(f), offsets, self.params.threshold) for f in edge_files])


def _sets_path(workdir: Path, part_index: int) -> Path:
    return workdir / "shingles" / f"part-{part_index:05d}.npy"


def shingle_sets_task(item: tuple) -> int:
    """The sorted, distinct shingle hashes of the given rows of one part, concatenated, with an index
    ``(row, start, end)`` beside them."""
    workdir, part_index, part, rows, ngram, field = item
    out = _sets_path(Path(workdir), part_index)
    if out.exists():
        return 0
    values_out, index = [], np.zeros((len(rows), 3), dtype=np.int64)
    position = 0
    column = None
    if len(rows):
        path = str(local_path(part))
        columns = compared_columns(pq.ParquetFile(path).schema_arrow.names, field)
        column = compared_texts(pq.read_table(path, columns=columns), field)
    # Shingle in slices so the shingle arrays stay small whatever the size of the part.
    for first in range(0, len(rows), 2048):
        chunk = rows[first : first + 2048]
        texts = column.take(pa.array(chunk))
        words, offsets = shingles.word_hashes(texts)
        values, value_offsets = shingles.shingle_hashes(words, offsets, ngram)
        for k, row in enumerate(chunk):
            distinct = np.unique(values[value_offsets[k] : value_offsets[k + 1]])
            index[first + k] = (row, position, position + len(distinct))
            values_out.append(distinct)
            position += len(distinct)
    save_npy(out.with_suffix(".index.npy"), index)
    save_npy(out, np.concatenate(values_out) if values_out else np.zeros(0, dtype=np.uint64))
    return len(rows)


def verify_task(item: tuple) -> int:
    """Keep the candidate edges of one bucket partition whose exact shingle Jaccard reaches the threshold."""
    workdir, edge_file, offsets, threshold = item
    root = Path(workdir)
    out = root / "verified" / Path(edge_file).name
    if out.exists():
        return 0
    edges = np.load(edge_file)
    keep = np.zeros(len(edges), dtype=bool)
    if len(edges):
        docs = edges.astype(np.int64)
        owners = np.searchsorted(offsets, docs, side="right") - 1
        sets, index = {}, {}
        for i in np.unique(owners):
            path = _sets_path(root, int(i))
            sets[i] = np.load(path, mmap_mode="r")
            index[i] = np.load(path.with_suffix(".index.npy"))

        def members(doc: int, part: int) -> np.ndarray:
            rows = index[part]
            k = np.searchsorted(rows[:, 0], doc - offsets[part])
            return np.asarray(sets[part][rows[k, 1] : rows[k, 2]])

        for k in range(len(edges)):
            x = members(docs[k, 0], owners[k, 0])
            y = members(docs[k, 1], owners[k, 1])
            inter = len(np.intersect1d(x, y, assume_unique=True))
            union = len(x) + len(y) - inter
            keep[k] = union > 0 and inter / union >= threshold
    save_npy(out, edges[keep])
    return int(keep.sum())
