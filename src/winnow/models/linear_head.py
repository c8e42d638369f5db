"""A linear head on text embeddings (the FineWeb-Edu recipe): softmax logistic regression over the
vectors of a local embedding model, trained with L-BFGS.

A head is a directory: ``head.json`` (its labels and the embedding model's path), ``head.npz`` (the
weights, ``dim × labels``, and the bias) and ``card.json``/``card.md``. Inference needs numpy and the
embedding model's own loader (core dependencies for a model2vec directory); training needs scipy
(``winnow[models]``). Deterministic: the optimiser starts from zeros, so the same vectors and labels
give the same head."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from winnow.errors import RecipeError, WinnowError
from winnow.models.registry import Embedder, load_embedder

HEAD_FILE = "head.json"
WEIGHTS_FILE = "head.npz"


def is_head_dir(path: str | Path) -> bool:
    return Path(path).is_dir() and (Path(path) / HEAD_FILE).is_file()


@dataclass(frozen=True)
class HeadParams:
    """``l2``: the weight of the squared-weights penalty on the mean cross-entropy; ``max_iter``: L-BFGS
    iterations. The default ``l2`` was chosen by cross-validation on DCLM's 499 human labels
    (benchmarks/classifier_vs_heuristics.py --head)."""

    l2: float = 1e-3
    max_iter: int = 500


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def fit_softmax(vectors: np.ndarray, targets: np.ndarray, classes: int, params: HeadParams) -> np.ndarray:
    """The ``(dim + 1) × classes`` weights (the last row is the bias) minimising the mean cross-entropy
    plus ``l2/2 · |W|²`` (the bias is not penalised)."""
    try:
        from scipy.optimize import minimize
    except ImportError:
        raise WinnowError("training a linear head needs scipy: pip install 'winnow[models]'") from None
    x = np.hstack([vectors.astype(np.float64), np.ones((len(vectors), 1))])
    onehot = np.zeros((len(x), classes))
    onehot[np.arange(len(x)), targets] = 1.0
    penalty = np.ones((x.shape[1], classes))
    penalty[-1] = 0.0

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = flat.reshape(x.shape[1], classes)
        logits = x @ w
        logits -= logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1, keepdims=True))
        value = -(onehot * (logits - log_norm)).sum() / len(x) + 0.5 * params.l2 * (penalty * w * w).sum()
        gradient = x.T @ (np.exp(logits - log_norm) - onehot) / len(x) + params.l2 * penalty * w
        return float(value), gradient.ravel()

    start = np.zeros(x.shape[1] * classes)
    found = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": params.max_iter})
    return found.x.reshape(x.shape[1], classes)


def save_head(out: Path, weights: np.ndarray, labels: list[str], embeddings: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    staged = out / (WEIGHTS_FILE + ".partial.npz")
    np.savez(staged, weights=weights[:-1].astype(np.float32), bias=weights[-1].astype(np.float32))
    os.replace(staged, out / WEIGHTS_FILE)
    meta = {"kind": "linear-head", "labels": labels, "embeddings": str(Path(embeddings).resolve())}
    (out / HEAD_FILE).write_text(json.dumps(meta, indent=1) + "\n")


class LinearHead:
    """Label probabilities from a linear head directory: softmax(embedding · W + b)."""

    def __init__(self, path: str | Path, embedder: Embedder | None = None):
        self.path = Path(path)
        if not is_head_dir(self.path):
            raise RecipeError(f"{self.path}: not a linear head directory (no {HEAD_FILE})")
        meta = json.loads((self.path / HEAD_FILE).read_text())
        self.labels: list[str] = list(meta["labels"])
        self.embeddings = meta["embeddings"]
        stored = np.load(self.path / WEIGHTS_FILE)
        self.weights, self.bias = stored["weights"].astype(np.float64), stored["bias"].astype(np.float64)
        self._embedder = embedder
        self._column = {label: i for i, label in enumerate(self.labels)}

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            if not Path(self.embeddings).exists():
                raise RecipeError(f"{self.path}: its embedding model {self.embeddings} is not on this disk")
            self._embedder = load_embedder(self.embeddings)
        return self._embedder

    def label_index(self, label: str) -> int:
        if label not in self._column:
            raise RecipeError(f"{self.path}: no label {label!r} (labels: {', '.join(self.labels)})")
        return self._column[label]

    def probabilities_of_vectors(self, vectors: np.ndarray) -> np.ndarray:
        return softmax(vectors.astype(np.float64) @ self.weights + self.bias)

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), len(labels))`` float64, columns in ``labels`` order."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        return self.probabilities_of_vectors(self.embedder.encode(texts))

    def scores(self, texts: list[str], label: str) -> np.ndarray:
        return self.probabilities(texts)[:, self.label_index(label)]
