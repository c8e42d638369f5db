"""Fuzzy deduplication: word n-gram MinHash, LSH bands, connected components, optional verification."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, model_validator

from winnow.dedup import shingles
from winnow.dedup.phases import local_path, save_npy
from winnow.dedup.stage import DedupParams, DedupStage, load_edges
from winnow.registry import register
from winnow.steps.base import TaskRunner

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
            0.8, gt=0.0, le=1.0, description="Jaccard similarity from which records are duplicates; "
            "chooses bands × rows when they are not given, and is the cut-off of verify.",
        )
        bands: int | None = Field(None, ge=1, description="LSH bands (default: chosen from threshold).")
        rows: int | None = Field(None, ge=1, description="Hashes per band (default: chosen from threshold).")
        verify: bool = Field(
            False, description="Check each candidate pair by the exact Jaccard of its shingles (drops LSH false "
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
        if not self.params.verify:
            return
        edges = load_edges(workdir / "edges")
        part_a = np.searchsorted(offsets, edges[:, 0], side="right") - 1
        part_b = np.searchsorted(offsets, edges[:, 1], side="right") - 1
        order = np.lexsort((part_b, part_a))
        edges, part_a, part_b = edges[order], part_a[order], part_b[order]
        change = np.nonzero((np.diff(part_a) != 0) | (np.diff(part_b) != 0))[0] + 1
        tasks = []
        for start, end in zip(np.concatenate([[0], change]), np.concatenate([change, [len(edges)]]), strict=True):
            if end <= start:
                continue
            i, j = int(part_a[start]), int(part_b[start])
            path = workdir / "candidates" / f"pair-{i:05d}-{j:05d}.npy"
            if not path.exists():
                save_npy(path, edges[start:end])
            tasks.append((str(workdir), parts[i], parts[j], int(offsets[i]), int(offsets[j]), str(path),
                          self.params.ngram, self.params.threshold))
        (workdir / "verified").mkdir(exist_ok=True)
        runner.map(verify_task, tasks)


def _part_shingles(part: str, rows: np.ndarray, ngram: int) -> dict[int, np.ndarray]:
    texts = pq.read_table(str(local_path(part)), columns=["text"]).column("text").take(pa.array(rows))
    words, offsets = shingles.word_hashes(texts)
    values, value_offsets = shingles.shingle_hashes(words, offsets, ngram)
    return {int(r): np.unique(values[value_offsets[k] : value_offsets[k + 1]]) for k, r in enumerate(rows)}


def verify_task(item: tuple) -> int:
    """Keep the candidate edges of one pair of parts whose exact shingle Jaccard reaches the threshold."""
    workdir, part_i, part_j, offset_i, offset_j, candidates, ngram, threshold = item
    out = Path(workdir) / "verified" / Path(candidates).name
    if out.exists():
        return 0
    edges = np.load(candidates)
    rows_i = np.unique(edges[:, 0].astype(np.int64) - offset_i)
    rows_j = np.unique(edges[:, 1].astype(np.int64) - offset_j)
    sets_i = _part_shingles(part_i, rows_i, ngram)
    sets_j = sets_i if part_i == part_j else _part_shingles(part_j, rows_j, ngram)
    if part_i == part_j:
        missing = np.setdiff1d(rows_j, rows_i)
        if len(missing):
            sets_j = {**sets_i, **_part_shingles(part_j, missing, ngram)}
    keep = np.zeros(len(edges), dtype=bool)
    for k, (a, b) in enumerate(edges.astype(np.int64)):
        x, y = sets_i[a - offset_i], sets_j[b - offset_j]
        inter = len(np.intersect1d(x, y, assume_unique=True))
        union = len(x) + len(y) - inter
        keep[k] = union > 0 and inter / union >= threshold
    save_npy(out, edges[keep])
    return int(keep.sum())
