"""The task types: what an answer looks like, how it is checked, which keys answer it, and the level
of measurement its agreement is computed at.

A ``spans`` answer marks character spans of the response text (``items.response_text``: the content
of the last response turn) with the project's labels: ``{"spans": [{"start", "end", "label"}, ...],
"length": N}``. Offsets are Python string indices (Unicode code points, not UTF-16 units nor bytes),
``start < end <= length``; spans may touch but not overlap and are stored sorted by start; an empty
list is an answer ("nothing to mark"). ``length`` is the response's length, filled in by the check
(whatever a client sent): it is what makes an answer self-contained for α, one unit per character.

A project asks one main question (its task) and may ask more: named ``rating`` or ``label`` questions
about the record as a whole (helpfulness 1–5 beside a pairwise choice, "contains PII?" beside a
correction). They are kept in the main question's settings (``settings["questions"]``, one entry per
question: ``{"name", "task", ...its settings}``), and their answers travel inside the one answer:
``{"choice": "A", "questions": {"helpful": {"rating": 4}}}``. Each is checked, agreed on (α per
question) and exported like a main question of its task type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from winnow.feedback.service.errors import FeedbackError

TASKS = ("pairwise", "rating", "label", "ranking", "correction", "spans")
DEFAULT_SPAN_LABELS = ["PII", "factual error"]
MAX_DRAFT_BYTES = 256 * 1024  # a draft is a partial answer: bounded, since it is stored before any check
MAX_COMMENT = 10_000
DEFAULT_POINTS = ["Very bad", "Bad", "Acceptable", "Good", "Very good"]
PAIRWISE = {"A": 0, "tie": 1, "B": 2}  # ordinal: A < tie < B
EXTRA_TASKS = ("rating", "label")  # what a further question can be: one answer about the whole record
MAX_EXTRA_QUESTIONS = 8
QUESTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Question:
    task: str
    settings: dict[str, Any]
    name: str = ""  # "" for the main question; a further question's name (its key in the answer)

    @property
    def extras(self) -> list[Question]:
        """The further questions the project asks beside this main one (see the module doc)."""
        return [
            Question(q["task"], {k: v for k, v in q.items() if k not in ("name", "task")}, q["name"])
            for q in self.settings.get("questions") or []
        ]

    @property
    def title(self) -> str:
        return self.settings.get("title") or self.name.replace("_", " ")

    def check_answer(self, value: Any, candidates: int, text: str = "") -> dict[str, Any]:
        """The whole answer normalised: the main question's (``check``) and, when the project asks
        further questions, every one of them under ``questions`` (each is required)."""
        checked = self.check(value, candidates, text)
        extras = self.extras
        if not extras:
            return checked
        given = value.get("questions")
        if not isinstance(given, dict):
            names = ", ".join(q.name for q in extras)
            raise FeedbackError(f'the project also asks {names}: answer them under "questions"')
        unknown = sorted(set(given) - {q.name for q in extras})
        if unknown:
            raise FeedbackError(f"no question {unknown[0]!r} in this project")
        answers = {}
        for q in extras:
            if q.name not in given:
                raise FeedbackError(f"question {q.name!r} is not answered")
            try:
                answers[q.name] = q.check(given[q.name], candidates, text)
            except FeedbackError as error:
                raise FeedbackError(f"question {q.name!r}: {error}") from None
        return {**checked, "questions": answers}

    @property
    def level(self) -> str | None:
        """Krippendorff's level of measurement, None where α does not apply (free-text corrections)."""
        default = {
            "pairwise": "ordinal",
            "rating": "ordinal",
            "label": "nominal",
            "ranking": "ordinal",
            "spans": "nominal",
        }
        return self.settings.get("level", default.get(self.task))

    @property
    def labels(self) -> list[str]:
        return list(self.settings.get("labels") or [])

    @property
    def points(self) -> list[str]:
        return list(self.settings.get("points") or [])

    def check(self, value: Any, candidates: int, text: str = "") -> dict[str, Any]:
        """The answer ``value`` normalised, or FeedbackError saying what is wrong with it. ``text`` is
        the response text a ``spans`` answer marks (``items.response_text``)."""
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
            # a further multi-label question ("flags: PII, toxic") may be answered with none of them
            may_be_empty = multi and bool(self.name)
            if (
                not isinstance(chosen, list)
                or not (chosen or may_be_empty)
                or any(x not in self.labels for x in chosen)
            ):
                raise FeedbackError(f"label: one of {', '.join(self.labels)}")
            if not multi and len(chosen) != 1:
                raise FeedbackError("label: exactly one label (the question is single-choice)")
            return {"labels": sorted(set(chosen), key=self.labels.index)}
        if self.task == "ranking":
            order = value.get("order")
            if not isinstance(order, list) or sorted(order) != list(range(candidates)):
                raise FeedbackError(f"ranking: order is a permutation of 0..{candidates - 1}, best first")
            return {"order": [int(x) for x in order]}
        if self.task == "spans":
            return {"spans": self._check_spans(value.get("spans"), len(text)), "length": len(text)}
        edit = value.get("text")
        if not isinstance(edit, str) or not edit.strip():
            raise FeedbackError("correction: text is the corrected response, not empty")
        return {"text": edit}

    def _check_spans(self, spans: Any, length: int) -> list[dict[str, Any]]:
        if not isinstance(spans, list):
            raise FeedbackError('spans: "spans" is a list of {start, end, label} (empty: nothing to mark)')
        out = []
        for i, span in enumerate(spans):
            if not isinstance(span, dict):
                raise FeedbackError(f"spans: span {i} is not an object")
            start, end, label = span.get("start"), span.get("end"), span.get("label")
            if any(isinstance(x, bool) or not isinstance(x, int) for x in (start, end)):
                raise FeedbackError(f"spans: span {i}: start and end are whole numbers (character offsets)")
            if not 0 <= start < end <= length:
                raise FeedbackError(f"spans: span {i} ({start}–{end}) must have 0 <= start < end <= {length}")
            if label not in self.labels:
                raise FeedbackError(f"spans: span {i}: label {label!r} is not one of {', '.join(self.labels)}")
            out.append({"start": start, "end": end, "label": label})
        out.sort(key=lambda s: (s["start"], s["end"]))
        for before, after in zip(out, out[1:], strict=False):
            if after["start"] < before["end"]:
                raise FeedbackError(
                    f"spans: {before['start']}–{before['end']} and {after['start']}–{after['end']} overlap "
                    "(one label per character)"
                )
        return out

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
        if self.task == "spans":  # one unit per character: its label's number, 0 where unmarked
            return dict(enumerate(map(float, self.characters(value))))
        return {}

    def characters(self, value: dict[str, Any]) -> list[int]:
        """A spans answer per character: label index + 1, 0 where nothing is marked."""
        out = [0] * value["length"]
        for span in value["spans"]:
            out[span["start"] : span["end"]] = [self.labels.index(span["label"]) + 1] * (span["end"] - span["start"])
        return out

    def spans_of(self, characters: list[int]) -> list[dict[str, Any]]:
        """The inverse of ``characters``: the maximal runs of one label (touching runs of one label merge)."""
        spans: list[dict[str, Any]] = []
        for i, mark in enumerate(characters):
            if mark and spans and spans[-1]["end"] == i and spans[-1]["label"] == self.labels[mark - 1]:
                spans[-1]["end"] = i + 1
            elif mark:
                spans.append({"start": i, "end": i + 1, "label": self.labels[mark - 1]})
        return spans

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
        elif self.task == "spans":
            keys += [
                ("→ ←", "next / previous word"),
                ("Shift+→ ←", "select word by word"),
                ("] [", "selection end ±1 character"),
                *[(str(i), f"mark {label}") for i, label in enumerate(self.labels, start=1)],
                ("0", "unmark"),
                ("Del", "delete the span at the cursor"),
                ("Esc", "clear the selection"),
            ]
        else:
            keys.append(("E", "edit the response"))
        if self.extras:
            keys.append(("Q", "next question: " + ", ".join(q.title for q in self.extras) + " (its numbers answer it)"))
        return [*keys, ("C", "comment (Esc leaves it)"), ("Enter", "submit"), ("S", "skip (asks why)"),
                ("U", "undo the last answer")]  # fmt: skip


def make_question(
    task: str,
    labels: list[str] | None = None,
    points: int | list[str] | None = None,
    questions: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A project's question settings from the CLI/API options; ``questions``: the further questions,
    each ``{"name", "task": "rating"|"label", "points"/"labels", "multi", "title"}``."""
    if task not in TASKS:
        raise FeedbackError(f"unknown task {task!r} (choices: {', '.join(TASKS)})")
    settings: dict[str, Any] = dict(extra)
    if questions:
        settings["questions"] = further_questions(questions)
    if task in ("label", "spans"):
        settings["labels"] = labels or (["good", "bad"] if task == "label" else DEFAULT_SPAN_LABELS)
        if len(settings["labels"]) > 9:
            raise FeedbackError(f"{task}: at most 9 labels (one number key each)")
        if len(set(settings["labels"])) != len(settings["labels"]):
            raise FeedbackError(f"{task}: the labels must differ")
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


def further_questions(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The further questions' settings, checked: names unique and key-like, rating or label only."""
    if len(questions) > MAX_EXTRA_QUESTIONS:
        raise FeedbackError(f"at most {MAX_EXTRA_QUESTIONS} further questions")
    out, seen = [], set()
    for spec in questions:
        spec = dict(spec)
        name, task = spec.pop("name", None), spec.pop("task", None)
        if not isinstance(name, str) or not QUESTION_NAME.match(name):
            raise FeedbackError(f"question name {name!r}: a lower-case letter, then letters, digits or _ (≤ 32)")
        if name in seen:
            raise FeedbackError(f"question {name!r} is asked twice")
        seen.add(name)
        if task not in EXTRA_TASKS:
            raise FeedbackError(f"question {name!r}: task {task!r} is not one of {', '.join(EXTRA_TASKS)}")
        unknown = sorted(set(spec) - {"labels", "points", "multi", "title", "level"})
        if unknown:
            raise FeedbackError(f"question {name!r}: unknown setting {unknown[0]!r}")
        try:
            settings = make_question(task, **spec)
        except FeedbackError as error:
            raise FeedbackError(f"question {name!r}: {error}") from None
        out.append({"name": name, "task": task, **settings})
    return out


def parse_question(text: str) -> dict[str, Any]:
    """A further question from the CLI's ``NAME:TASK[:SPEC]``: ``helpful:rating`` (5 named points),
    ``helpful:rating:7`` (7 points), ``helpful:rating:bad,ok,good`` (named points),
    ``topic:label:code,math,chat`` (one label), ``flags:multilabel:pii,toxic`` (any number of them)."""
    name, _, rest = text.partition(":")
    task, _, spec = rest.partition(":")
    out: dict[str, Any] = {"name": name.strip(), "task": task.strip()}
    if task == "multilabel":
        out.update(task="label", multi=True)
    if out["task"] == "label" and spec:
        out["labels"] = [x.strip() for x in spec.split(",") if x.strip()]
    elif out["task"] == "rating" and spec:
        out["points"] = int(spec) if spec.strip().isdigit() else [x.strip() for x in spec.split(",") if x.strip()]
    elif spec:
        raise FeedbackError(f"question {text!r}: NAME:rating[:POINTS] or NAME:label|multilabel:LABELS")
    return out


def check_draft(value: Any, comment: str | None) -> None:
    """A draft is a partial answer (a ranking half done): not checked against the question, but
    bounded, since it is stored on every pause of an annotator."""
    import orjson

    if not isinstance(value, dict):
        raise FeedbackError("a draft is a JSON object (the answer so far)")
    if len(orjson.dumps(value)) > MAX_DRAFT_BYTES:
        raise FeedbackError(f"a draft holds at most {MAX_DRAFT_BYTES // 1024} KiB")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise FeedbackError(f"a comment holds at most {MAX_COMMENT:,} characters")
