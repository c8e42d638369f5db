"""The answers of a project read in one pass (agreement, review and export all start here), and the
consensus of a record: the adjudicated answer when a reviewer gave one, else the majority (the
median for ordinal scales); per-record agreement is the share of answers equal to the consensus.

Spans are decided per character: a character carries a label when more than half of the answers
gave it that label, else it is unmarked (so two annotators keep what they both marked alike); the
consensus spans are the runs of one label. Their record agreement is the mean, over the characters
anyone marked, of the share of answers that gave the character its most common value.

The answers to a project's further questions (``questions`` in a stored answer) are split off as
they are read: ``Answer.value`` is the main question's answer, ``Answer.questions`` the rest, and
``for_question`` gives one further question's answers in the shape the code above reads."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median_low
from typing import Any

import orjson
from sqlalchemy import select

from winnow.feedback.service.projects import ProjectInfo
from winnow.feedback.store import Adjudication, Assignment, Database, Record, User
from winnow.feedback.store.models import SUBMITTED


@dataclass
class Answer:
    user: str
    value: dict[str, Any]
    at: datetime | None
    seconds: float | None
    guideline_version: int | None
    comment: str | None = None
    questions: dict[str, dict[str, Any]] = field(default_factory=dict)  # further question → its answer


@dataclass
class RecordAnswers:
    record_id: int
    external_id: str
    answers: list[Answer] = field(default_factory=list)
    adjudication: dict[str, Any] | None = None
    adjudicated_by: str | None = None
    adjudicated_questions: dict[str, dict[str, Any]] = field(default_factory=dict)


def split(value: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A stored answer as (the main question's answer, the further questions' answers)."""
    if "questions" not in value:
        return value, {}
    main = {k: v for k, v in value.items() if k != "questions"}
    return main, dict(value["questions"] or {})


def for_question(entries: list[RecordAnswers], name: str) -> list[RecordAnswers]:
    """The answers to further question ``name``, as entries whose values are that question's answers
    (read them through ``ProjectInfo.asking``); answers given before the question existed are left out."""
    out = []
    for e in entries:
        answers = [
            Answer(a.user, a.questions[name], a.at, a.seconds, a.guideline_version, a.comment)
            for a in e.answers
            if name in a.questions
        ]
        adjudication = e.adjudicated_questions.get(name)
        if answers or adjudication is not None:
            out.append(RecordAnswers(e.record_id, e.external_id, answers, adjudication, e.adjudicated_by))
    return out


def _key(value: dict[str, Any]) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def load_answers(db: Database, project: ProjectInfo) -> dict[int, RecordAnswers]:
    """record id → its answers (records with none are left out unless adjudicated)."""
    out: dict[int, RecordAnswers] = {}
    with db.read() as s:
        rows = s.connection().execute(  # Core rows: no ORM result processing per row
            select(
                Assignment.record_id,
                Record.external_id,
                User.name,
                Assignment.value,
                Assignment.submitted_at,
                Assignment.seconds,
                Assignment.guideline_version,
                Assignment.comment,
            )  # fmt: skip
            .join(Record, Record.id == Assignment.record_id)
            .join(User, User.id == Assignment.user_id)
            .where(Assignment.project_id == project.id, Assignment.state == SUBMITTED)
            .order_by(Assignment.record_id, Assignment.slot)
        )
        for record_id, external_id, user, value, at, seconds, version, comment in rows:
            entry = out.get(record_id)
            if entry is None:
                entry = out[record_id] = RecordAnswers(record_id, external_id)
            main, questions = split(value)
            entry.answers.append(Answer(user, main, at, seconds, version, comment, questions))
        adjudications = s.connection().execute(
            select(Adjudication.record_id, Record.external_id, Adjudication.value, User.name)
            .join(Record, Record.id == Adjudication.record_id)
            .join(User, User.id == Adjudication.user_id)
            .where(Adjudication.project_id == project.id)
        )
        for record_id, external_id, value, reviewer in adjudications:
            entry = out.setdefault(record_id, RecordAnswers(record_id, external_id))
            (entry.adjudication, entry.adjudicated_questions), entry.adjudicated_by = split(value), reviewer
    return out


def consensus(project: ProjectInfo, entry: RecordAnswers) -> dict[str, Any] | None:
    """The answer that stands for the record (see the module doc); None for an even split."""
    if entry.adjudication is not None:
        return entry.adjudication
    values = [a.value for a in entry.answers]
    if not values:
        return None
    task = project.task
    if task == "rating":
        return {"rating": median_low([v["rating"] for v in values])}
    if task == "ranking":  # Borda count, ties broken by the response's position
        points: Counter[int] = Counter()
        for v in values:
            for rank, item in enumerate(v["order"]):
                points[item] += len(v["order"]) - rank
        return {"order": sorted(points, key=lambda i: (-points[i], i))}
    if task == "spans":
        return _span_majority(project, values)
    if task == "correction":
        return _majority(values) or values[0]  # differing edits: the first one given, until a reviewer picks
    return _majority(values)


def _majority(values: list[dict[str, Any]]) -> dict[str, Any] | None:
    counts = Counter(_key(v) for v in values)
    (top, n), *rest = counts.most_common()
    if rest and rest[0][1] == n:
        return None  # an even split: no consensus until a reviewer decides
    return orjson.loads(top)


def _span_majority(project: ProjectInfo, values: list[dict[str, Any]]) -> dict[str, Any]:
    import numpy as np  # answers × characters at once: a Counter per character was most of α's time

    question = project.question
    marks = np.array([question.characters(v) for v in values], dtype=np.int64).reshape(len(values), -1)
    counts = np.stack([(marks == m).sum(axis=0) for m in range(len(question.labels) + 1)])
    won = counts.max(axis=0) * 2 > len(values)  # more than half: no tie is possible
    majority = np.where(won, counts.argmax(axis=0), 0)
    return {"spans": question.spans_of([int(x) for x in majority]), "length": marks.shape[1]}


def record_agreement(project: ProjectInfo, entry: RecordAnswers) -> float | None:
    """The share of the answers that equal the majority answer (1.0: everyone agrees); for spans,
    that share per character, averaged over the characters anyone marked."""
    if len(entry.answers) < 2:
        return None
    if project.task == "spans":
        shares = [
            Counter(column).most_common(1)[0][1] / len(column)
            for column in zip(*(project.question.characters(a.value) for a in entry.answers), strict=True)
            if any(column)
        ]
        return sum(shares) / len(shares) if shares else 1.0
    values = [_key(a.value) for a in entry.answers]
    return Counter(values).most_common(1)[0][1] / len(values)


def load_answers_of(db: Database, project: ProjectInfo, record_id: int) -> list[Answer]:
    """The answers of one record."""
    with db.read() as s:
        rows = s.execute(
            select(
                User.name, Assignment.value, Assignment.submitted_at, Assignment.seconds, Assignment.guideline_version
            )
            .join(User, User.id == Assignment.user_id)
            .where(Assignment.record_id == record_id, Assignment.state == SUBMITTED)
            .order_by(Assignment.slot)
        )
        out = []
        for user, value, at, seconds, version in rows:
            main, questions = split(value)
            out.append(Answer(user, main, at, seconds, version, questions=questions))
        return out


def question_results(
    project: ProjectInfo, entry: RecordAnswers
) -> tuple[dict[str, dict[str, Any] | None], dict[str, float | None]]:
    """Each further question's consensus (None: no answer, or an even split) and record agreement
    (``record_agreement``) for one record, the answers split per question once."""
    consensuses: dict[str, dict[str, Any] | None] = {}
    agreements: dict[str, float | None] = {}
    for q in project.question.extras:
        asked, about = for_question([entry], q.name), project.asking(q)
        consensuses[q.name] = consensus(about, asked[0]) if asked else None
        agreements[q.name] = record_agreement(about, asked[0]) if asked else None
    return consensuses, agreements
