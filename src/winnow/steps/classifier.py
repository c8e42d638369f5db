"""``classifier``: score every text with a local fastText classifier, and optionally drop low scores.

Tags before verdicts: ``<name>.score`` (the probability of the scored label) and ``<name>.label``
(the most probable label) are added to every record; with ``threshold`` the records scoring below it
are dropped with reason ``below_threshold``. To keep the best k% of a corpus instead of a fixed
threshold, follow this step with the ``keep_top`` stage on ``<name>.score`` (a fraction needs the
whole corpus's scores, so it is a global stage).

The model is any fastText supervised ``.bin``: one trained by ``winnow train-classifier`` (its model
card names the label to score) or one a user has on disk (DCLM's ``hq``/``cc`` model: ``label: hq``);
or a linear head directory (``train-classifier --embeddings``: softmax over a local embedding model's
vectors, the FineWeb-Edu recipe).
"""

from __future__ import annotations

import json
from typing import ClassVar

import numpy as np
import pyarrow as pa
from pydantic import Field

from winnow.errors import RecipeError
from winnow.models.card import card_path
from winnow.models.classifier import FastTextClassifier
from winnow.models.linear_head import LinearHead, is_head_dir
from winnow.records import with_column
from winnow.steps.base import Resources, Step, StepParams, StepResult
from winnow.steps.registry import register


class ClassifierParams(StepParams):
    model: str = Field(description="A fastText supervised model (.bin) or a linear head directory, on local disk.")
    name: str = Field("classifier", min_length=1, description="Prefix of the tags: <name>.score, <name>.label.")
    label: str | None = Field(
        None,
        description="The label whose probability is the score (without __label__); default: the model card's "
        "positive label, else '1' when the model has it.",
    )
    threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Drop records whose score is below this (reason below_threshold)."
    )


@register
class Classifier(Step):
    """Score texts with a local fastText classifier or linear head (tags <name>.score, <name>.label); optional threshold."""

    name = "classifier"
    Params: ClassVar[type[StepParams]] = ClassifierParams
    produces = ("classifier.score", "classifier.label")
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)
    on_conversations = "text"

    def _model(self) -> FastTextClassifier | LinearHead:
        model = getattr(self, "_lazy_model", None)
        if model is None:
            path = self.params.model
            model = self._lazy_model = LinearHead(path) if is_head_dir(path) else FastTextClassifier(path)
        return model

    def scored_label(self) -> str:
        model = self._model()
        if self.params.label is not None:
            model.label_index(self.params.label)  # names the model's labels when it has no such label
            return self.params.label
        card = card_path(model.path)
        if card.is_file():
            positive = json.loads(card.read_text()).get("positive_label")
            if positive in model.labels:
                return positive
        if "1" in model.labels:
            return "1"
        raise RecipeError(
            f"step 'classifier': model {self.params.model} has labels {', '.join(model.labels)}: "
            "say which one to score with label:"
        )

    def check(self) -> None:
        self.scored_label()

    def process(self, batch: pa.Table) -> StepResult:
        if batch.num_rows == 0:
            return StepResult(batch)
        model = self._model()
        probabilities = model.probabilities(batch.column("text").to_pylist())
        score = probabilities[:, model.label_index(self.scored_label())]
        best = np.asarray(model.labels, dtype=object)[probabilities.argmax(axis=1)]
        batch = with_column(batch, f"{self.params.name}.score", pa.array(score, pa.float64()))
        batch = with_column(batch, f"{self.params.name}.label", pa.array(best.tolist(), pa.string()))
        if self.params.threshold is None:
            return StepResult(batch)
        below = score < self.params.threshold
        self.counters["dropped.below_threshold"] += int(below.sum())
        return self.split(batch, pa.array(np.where(below, "below_threshold", None).tolist(), pa.string()))
