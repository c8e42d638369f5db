"""The task types: what an answer looks like, how it is checked, which keys answer it, and the level
of measurement its agreement is computed at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from winnow.feedback.service.errors import FeedbackError

TASKS = ("pairwise", "rating", "label", "ranking", "correction")
DEFAULT_POINTS = ["Very bad", "Bad", "Acceptable", "Good", "Very good"]
PAIRWISE = {"A": 0, "tie": 1, "B": 2}  # ordinal: A < tie < B


@dataclass(frozen=True)
class Question:
    task: str
    settings: dict[str, Any]

    @property
    def level(self) -> str | None:
        """Krippendorff's level of measurement, None where α does not apply (free-text corrections)."""
        default = {"pairwise": "ordinal", "rating": "ordinal", "label": "nominal", "ranking": "ordinal"}
        return self.settings.get("level", default.get(self.task))

    @property
    def labels(self) -> list[str]:
        return list(self.settings.get("labels") or [])

    @property
    def points(self) -> list[str]:
        return list(self.settings.get("points") or [])

    def check(self, value: Any, candidates: int) -> dict[str, Any]:
        """The answer ``value`` normalised, or FeedbackError saying what is wrong with it."""
        if not isinstance(value, dict):
            raise FeedbackError("an answer is a JSON object")
        if self.task == "pairwise":
            choice = value.get("choice")
            allowed = ("A", "B", "tie") if self.settings.get("tie", True) else ("A", "B")
            if choice not in allowed:
                raise FeedbackError(f"pairwise: choice must be one of {', '.join(allowed)}")
            return {"choice": choice}
        if self.task == "rating":
            rating = value.get("rating")
            if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= len(self.points):
                raise FeedbackError(f"rating: a whole number from 1 to {len(self.points)}")
            return {"rating": rating}
        if self.task == "label":
            chosen = value.get("labels", [value["label"]] if "label" in value else None)
            multi = self.settings.get("multi", False)
            if not isinstance(chosen, list) or not chosen or any(x not in self.labels for x in chosen):
                raise FeedbackError(f"label: one of {', '.join(self.labels)}")
            if not multi and len(chosen) != 1:
                raise FeedbackError("label: exactly one label (the question is single-choice)")
            return {"labels": sorted(set(chosen), key=self.labels.index)}
        if self.task == "ranking":
            order = value.get("order")
            if not isinstance(order, list) or sorted(order) != list(range(candidates)):
                raise FeedbackError(f"ranking: order is a permutation of 0..{candidates - 1}, best first")
            return {"order": [int(x) for x in order]}
        text = value.get("text")
        if not isinstance(text, str) or not text.strip():
            raise FeedbackError("correction: text is the corrected response, not empty")
        return {"text": text}

    def numeric(self, value: dict[str, Any]) -> dict[int, float]:
        """The answer as numbers for α: unit offset → value (a ranking has one unit per response)."""
        if self.task == "pairwise":
            return {0: float(PAIRWISE[value["choice"]])}
        if self.task == "rating":
            return {0: float(value["rating"])}
        if self.task == "label":  # multi-label: one unit per label (present or not)
            if self.settings.get("multi", False):
                return {i: float(label in value["labels"]) for i, label in enumerate(self.labels)}
            return {0: float(self.labels.index(value["labels"][0]))}
        if self.task == "ranking":
            return {item: float(rank) for rank, item in enumerate(value["order"])}
        return {}

    def shortcuts(self, candidates: int) -> list[tuple[str, str]]:
        """(key, what it does) for the annotate page."""
        keys: list[tuple[str, str]] = []
        if self.task == "pairwise":
            keys += [("A or ←", "A is better"), ("B or →", "B is better")]
            if self.settings.get("tie", True):
                keys.append(("T or ↓", "tie"))
        elif self.task == "rating":
            keys += [(str(i), p) for i, p in enumerate(self.points, start=1)]
        elif self.task == "label":
            keys += [(str(i), label) for i, label in enumerate(self.labels, start=1)]
        elif self.task == "ranking":
            keys.append(("1…" + str(candidates), "add the response to the ranking (best first); 0 clears"))
        else:
            keys.append(("E", "edit the response"))
        return [*keys, ("Enter", "submit"), ("S", "skip (asks why)"), ("U", "undo the last answer")]


def make_question(task: str, labels: list[str] | None = None, points: int | list[str] | None = None, **extra: Any):
    """A project's question settings from the CLI/API options."""
    if task not in TASKS:
        raise FeedbackError(f"unknown task {task!r} (choices: {', '.join(TASKS)})")
    settings: dict[str, Any] = dict(extra)
    if task == "label":
        settings["labels"] = labels or ["good", "bad"]
        if len(settings["labels"]) > 9:
            raise FeedbackError("label: at most 9 labels (one number key each)")
    if task == "rating":
        if isinstance(points, int):
            settings["points"] = [str(i) for i in range(1, points + 1)] if points != 5 else DEFAULT_POINTS
        else:
            settings["points"] = points or DEFAULT_POINTS
        if not 2 <= len(settings["points"]) <= 9:
            raise FeedbackError("rating: 2 to 9 points")
    if task == "pairwise":
        settings.setdefault("tie", True)
    return settings
