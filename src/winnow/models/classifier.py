"""A fastText text classifier loaded from a local ``.bin`` (trained here or brought by the user).

Inference runs on ``fasttext-predict`` (a core dependency); a document is one line to fastText, so
newlines become spaces, as DataTrove's ``FastTextClassifierFilter`` does, and the scores are the
probabilities fastText gives each label (``predict(k=-1)``): the same model file gives the same
scores in both. A whole batch goes to fastText in one call (its C++ loop), not one call per text."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from winnow.errors import RecipeError

LABEL_PREFIX = "__label__"


def one_line(text: str) -> str:
    """The form fastText reads: one line (its predict refuses a newline)."""
    return text.replace("\n", " ")


class FastTextClassifier:
    """Label probabilities from a fastText supervised model."""

    def __init__(self, path: str | Path):
        import fasttext

        self.path = Path(path)
        if not self.path.is_file():
            raise RecipeError(f"{self.path}: no such fastText model file")
        try:
            self.model = fasttext.load_model(str(self.path))
        except ValueError as error:
            raise RecipeError(f"{self.path}: not a fastText model ({error})") from None
        self.labels = [label.removeprefix(LABEL_PREFIX) for label in self.model.get_labels()]
        if not self.labels:
            raise RecipeError(f"{self.path}: a fastText model without labels (an embedding model, not a classifier)")
        self._column = {label: i for i, label in enumerate(self.labels)}

    def label_index(self, label: str) -> int:
        if label not in self._column:
            raise RecipeError(f"{self.path}: no label {label!r} (labels: {', '.join(self.labels)})")
        return self._column[label]

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), len(labels))`` float64: each label's probability, columns in ``labels`` order."""
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float64)
        if not texts:
            return out
        predicted, scores = self.model.predict([one_line(t) for t in texts], k=-1, threshold=0.0)
        for row, (labels, values) in enumerate(zip(predicted, scores, strict=True)):
            for label, value in zip(labels, values, strict=True):
                out[row, self._column[label.removeprefix(LABEL_PREFIX)]] = value
        return out

    def scores(self, texts: list[str], label: str) -> np.ndarray:
        """The probability of one label for every text."""
        return self.probabilities(texts)[:, self.label_index(label)]
