"""Which loader reads a model path: the model kinds Winnow knows, told apart by what is on disk.

* a directory with ``tokenizer.json`` + ``model.safetensors``: a static (model2vec) embedding model;
* a directory with ``modules.json`` or ``config_sentence_transformers.json``: a sentence-transformers
  model (``pip install 'winnow[sentence-transformers]'``; it is run on CPU, offline);
* a ``.bin`` / ``.ftz`` file: fastText — a supervised model is a classifier, an unsupervised one gives
  sentence vectors (``get_sentence_vector``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from winnow.errors import RecipeError, WinnowError
from winnow.models.classifier import one_line
from winnow.models.static import StaticEmbeddings, is_static_model


class Embedder(Protocol):
    path: Path

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


class FastTextSentenceVectors:
    """fastText's sentence vector (mean of normalised word vectors) of an unsupervised model."""

    def __init__(self, path: Path):
        import fasttext

        self.path = path
        self.model = fasttext.load_model(str(path))

    @property
    def dim(self) -> int:
        return int(self.model.get_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self.model.get_sentence_vector(one_line(text))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


class SentenceTransformerVectors:
    """A local sentence-transformers directory, on CPU, with the hub switched off."""

    def __init__(self, path: Path):
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        # transformers 5 loads "hub kernels" by default (code fetched from the hub, and an error where
        # the `kernels` package is missing): off, as everything is offline here
        os.environ.setdefault("USE_HUB_KERNELS", "0")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise WinnowError(
                f"{path}: a sentence-transformers model needs pip install 'winnow[sentence-transformers]'"
            ) from None
        self.path = path
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    @property
    def dim(self) -> int:
        # sentence-transformers 6 renamed it; the old name still works there, with a warning
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


def model_kind(path: Path) -> str:
    if path.is_dir():
        if is_static_model(path):
            return "static"
        if (path / "modules.json").is_file() or (path / "config_sentence_transformers.json").is_file():
            return "sentence-transformers"
        raise RecipeError(f"{path}: a directory, but neither a model2vec nor a sentence-transformers model")
    if path.is_file() and path.suffix in (".bin", ".ftz"):
        return "fasttext"
    raise RecipeError(f"{path}: no such model (a model2vec or sentence-transformers directory, or a fastText .bin)")


def load_embedder(path: str | Path) -> Embedder:
    """The embedding model at ``path``, of whichever kind it is."""
    where = Path(path)
    kind = model_kind(where)
    if kind == "static":
        return StaticEmbeddings(where)
    if kind == "sentence-transformers":
        return SentenceTransformerVectors(where)
    vectors = FastTextSentenceVectors(where)
    if vectors.model.get_labels() and vectors.model.get_labels()[0].startswith("__label__"):
        raise RecipeError(f"{where}: a fastText classifier; embed needs an unsupervised (skipgram/cbow) model")
    return vectors
