"""``domain``: tag each text with its nearest topic cluster (``winnow train-topics`` builds them).

Tags ``<name>.topic`` (the cluster's index), ``<name>.domain`` (its name: its top terms) and
``<name>.similarity`` (the cosine to its centroid), and counts its records per domain in the manifest's
step counters (``domain.<name>``); ``mix`` with ``column: domain.domain`` balances by it."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pyarrow as pa
from pydantic import Field

from winnow.models.kmeans import assign
from winnow.models.registry import Embedder, load_embedder
from winnow.models.topics import Topics
from winnow.records import with_column
from winnow.steps.base import Resources, Step, StepParams, StepResult
from winnow.steps.registry import register


class DomainParams(StepParams):
    topics: str = Field(description="A topics directory written by winnow train-topics.")
    name: str = Field("domain", min_length=1, description="Prefix of the tags: <name>.topic, .domain, .similarity.")


@register
class Domain(Step):
    """Tag the nearest topic cluster: <name>.topic, <name>.domain (named by top terms), <name>.similarity."""

    name = "domain"
    Params: ClassVar[type[StepParams]] = DomainParams
    produces = ("domain.topic", "domain.domain", "domain.similarity")
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)
    on_conversations = "text"

    def _loaded(self) -> tuple[Topics, Embedder]:
        loaded = getattr(self, "_lazy_loaded", None)
        if loaded is None:
            topics = Topics.load(self.params.topics)
            loaded = self._lazy_loaded = (topics, load_embedder(topics.model))
        return loaded

    def check(self) -> None:
        self._loaded()

    def process(self, batch: pa.Table) -> StepResult:
        topics, embedder = self._loaded()
        vectors = embedder.encode(batch.column("text").to_pylist())
        nearest = assign(vectors, topics.centroids) if len(vectors) else np.zeros(0, dtype=np.int32)
        similarity = (vectors * topics.centroids[nearest]).sum(axis=1) if len(vectors) else np.zeros(0)
        names = [topics.topics[i].name for i in nearest]
        for name in names:
            self.counters[f"domain.{name}"] += 1
        prefix = self.params.name
        batch = with_column(batch, f"{prefix}.topic", pa.array(nearest.astype(np.int32)))
        batch = with_column(batch, f"{prefix}.domain", pa.array(names, pa.string()))
        batch = with_column(batch, f"{prefix}.similarity", pa.array(similarity.astype(np.float64)))
        return StepResult(batch)
