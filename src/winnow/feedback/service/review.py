"""Review: the records where annotators disagree (record agreement below a threshold), every answer
side by side, and the reviewer's adjudicated answer (it wins in exports)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete

from winnow.feedback.service.answers import (
    Answer,
    _key,
    consensus,
    load_answers,
    load_answers_of,
    question_results,
    record_agreement,
)
from winnow.feedback.service.errors import NotFound
from winnow.feedback.service.items import response_text, shown
from winnow.feedback.service.projects import ProjectInfo
from winnow.feedback.service.users import Account, now
from winnow.feedback.store import Adjudication, Database, Record


@dataclass
class Disagreement:
    record_id: int
    external_id: str
    agreement: float | None
    answers: list[Answer]
    adjudication: dict[str, Any] | None


@dataclass
class ReviewItem:
    record_id: int
    external_id: str
    prompt: list[dict[str, Any]]
    candidates: list[list[dict[str, Any]]]
    answers: list[Answer]
    agreement: float | None
    consensus: dict[str, Any] | None
    adjudication: dict[str, Any] | None
    # the further questions: the adjudicated answers, else each one's consensus (what the page starts from)
    questions: dict[str, dict[str, Any] | None] = field(default_factory=dict)


class Review:
    def __init__(self, db: Database):
        self.db = db

    def disagreements(
        self, project: ProjectInfo, threshold: float = 1.0, include_adjudicated: bool = False
    ) -> list[Disagreement]:
        """Records with two or more answers whose agreement is below ``threshold``."""
        out = []
        for entry in load_answers(self.db, project).values():
            score = record_agreement(project, entry)
            if score is None or score >= threshold:
                continue
            if entry.adjudication is not None and not include_adjudicated:
                continue
            out.append(Disagreement(entry.record_id, entry.external_id, score, entry.answers, entry.adjudication))
        return sorted(out, key=lambda d: (d.agreement or 0.0, d.record_id))

    def item(self, project: ProjectInfo, record_id: int) -> ReviewItem:
        with self.db.read() as s:
            record = s.get(Record, record_id)
            if record is None or record.project_id != project.id:
                raise NotFound(f"no record {record_id} in {project.name}")
            prompt, candidates = shown(record.data, record.swap, project.task)
            external_id = record.external_id
        entry = load_answers(self.db, project).get(record_id)
        answers = entry.answers if entry else []
        asked: dict[str, dict[str, Any] | None] = {}
        if entry is not None and project.question.extras:
            asked = dict(entry.adjudicated_questions) or question_results(project, entry)[0]
        return ReviewItem(
            record_id, external_id, prompt, candidates, answers,
            record_agreement(project, entry) if entry else None,
            consensus(project, entry) if entry else None, entry.adjudication if entry else None, asked,
        )  # fmt: skip

    def adjudicate(
        self, project: ProjectInfo, reviewer: Account, record_id: int, value: dict[str, Any], note: str = ""
    ) -> None:
        with self.db.write() as s:
            record = s.get(Record, record_id)
            if record is None or record.project_id != project.id:
                raise NotFound(f"no record {record_id} in {project.name}")
            _, candidates = shown(record.data, record.swap, project.task)
            value = project.question.check_answer(value, len(candidates), response_text(candidates))
            s.execute(delete(Adjudication).where(Adjudication.record_id == record_id))
            s.add(
                Adjudication(
                    record_id=record_id, project_id=project.id, user_id=reviewer.id, value=value, note=note, at=now()
                )
            )

    def others(self, project: ProjectInfo, record_id: int, user: Account) -> list[tuple[str, int]]:
        """How the other annotators answered a record so far (shown only when the project is not blind)."""
        if project.blind:
            return []
        entry = load_answers_of(self.db, project, record_id)
        counts = Counter(_key(a.value) for a in entry if a.user != user.name)
        return sorted(counts.items(), key=lambda kv: -kv[1])
