"""Binary classification metrics from scores and labels (numpy only)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class BinaryMetrics:
    """How well scores (higher = positive) separate labels (1 = positive)."""

    n: int
    positives: int
    threshold: float  # the threshold the decision metrics below use (score >= threshold is positive)
    precision: float
    recall: float
    f1: float
    accuracy: float
    roc_auc: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve: the probability that a random positive outscores a random negative
    (ties count one half), by the Mann-Whitney rank sum."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    # Average ranks over ties.
    starts = np.concatenate([[True], sorted_scores[1:] != sorted_scores[:-1]])
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.concatenate([first[1:], [len(scores)]]) - 1
    ranks[order] = (first[group] + last[group]) / 2.0 + 1.0
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def at_threshold(scores: np.ndarray, labels: np.ndarray, threshold: float) -> BinaryMetrics:
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool)
    predicted = scores >= threshold
    tp = int((predicted & labels).sum())
    fp = int((predicted & ~labels).sum())
    fn = int((~predicted & labels).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = float((predicted == labels).mean()) if len(labels) else float("nan")
    return BinaryMetrics(
        n=len(labels),
        positives=int(labels.sum()),
        threshold=float(threshold),
        precision=precision,
        recall=recall,
        f1=f1,
        accuracy=accuracy,
        roc_auc=roc_auc(scores, labels),
    )


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> BinaryMetrics:
    """The metrics at the threshold (one of the scores) with the highest F1; ties: the lower threshold."""
    scores = np.asarray(scores, dtype=np.float64)
    best: BinaryMetrics | None = None
    for threshold in np.unique(scores):
        metrics = at_threshold(scores, labels, float(threshold))
        if best is None or metrics.f1 > best.f1:
            best = metrics
    if best is None:
        raise ValueError("no scores to choose a threshold from")
    return best
