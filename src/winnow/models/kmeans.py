"""Seeded spherical k-means on unit vectors, for semantic dedup and topic clusters.

Trained on a sample (scipy's ``kmeans2``, k-means++ seeding, a fixed seed: the same vectors and seed
give the same centroids), then every vector is assigned to its nearest centroid by cosine."""

from __future__ import annotations

import numpy as np


def normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def train_kmeans(sample: np.ndarray, k: int, seed: int, iterations: int = 20) -> np.ndarray:
    """``(k', dim)`` unit centroids, k' = min(k, distinct sample rows) (empty clusters dropped)."""
    from scipy.cluster.vq import kmeans2  # imported here: scipy.cluster costs ~0.5 s at every CLI start

    sample = normalize(sample).astype(np.float64)
    k = max(1, min(k, len(np.unique(sample, axis=0))))
    if k == 1:
        return normalize(sample.mean(axis=0, keepdims=True))
    centroids, labels = kmeans2(sample, k, iter=iterations, minit="++", seed=np.random.default_rng(seed))
    used = np.unique(labels)
    return normalize(centroids[used])


def assign(vectors: np.ndarray, centroids: np.ndarray, block: int = 8192) -> np.ndarray:
    """The nearest centroid (largest cosine; ties: the smaller index) of every unit vector."""
    out = np.zeros(len(vectors), dtype=np.int32)
    for start in range(0, len(vectors), block):
        out[start : start + block] = np.argmax(vectors[start : start + block] @ centroids.T, axis=1)
    return out
