"""``embed``: add a vector column (``<name>.vector``, fixed_size_list<float32>) from a local embedding model.

The model is a local path (``winnow.models.registry``): a model2vec directory (numpy only — what
``winnow train-embeddings`` writes), a sentence-transformers directory (``winnow[sentence-transformers]``)
or an unsupervised fastText ``.bin`` (sentence vectors). Vectors are L2-normalised, so a dot product
is the cosine. ``semantic_dedup`` and ``domain`` read this column."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pyarrow as pa
from pydantic import Field

from winnow.models.registry import Embedder, load_embedder
from winnow.records import with_column
from winnow.steps.base import Resources, Step, StepParams, StepResult
from winnow.steps.registry import register


class EmbedParams(StepParams):
    model: str = Field(description="A local model: a model2vec or sentence-transformers directory, or a fastText .bin.")
    name: str = Field("embed", min_length=1, description="Prefix of the column: <name>.vector.")


def vector_array(vectors: np.ndarray) -> pa.FixedSizeListArray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), vectors.shape[1])


def vectors_of(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """``(rows, dim)`` float32 from a fixed_size_list<float32> column (no copy when it can)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    dim = array.type.list_size
    flat = array.flatten()  # honours the array's offset
    return np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.float32).reshape(len(array), dim)


@register
class Embed(Step):
    """Add <name>.vector: the text's embedding from a local model (model2vec, sentence-transformers, fastText)."""

    name = "embed"
    Params: ClassVar[type[StepParams]] = EmbedParams
    produces = ("embed.vector",)
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)
    on_conversations = "text"

    def _model(self) -> Embedder:
        model = getattr(self, "_lazy_model", None)
        if model is None:
            model = self._lazy_model = load_embedder(self.params.model)
        return model

    def check(self) -> None:
        self._model()

    def process(self, batch: pa.Table) -> StepResult:
        model = self._model()
        vectors = model.encode(batch.column("text").to_pylist()) if batch.num_rows else np.zeros((0, model.dim))
        return StepResult(with_column(batch, f"{self.params.name}.vector", vector_array(vectors)))
