"""A project's answers as classifier labels (``winnow train-classifier --from-feedback``): one label per
record, its consensus — the adjudicated answer when a reviewer gave one, else the majority (the median
rating). The text is the record's ``text`` as a Winnow reader renders it (what the ``classifier`` step
scores). Records without a consensus (an even split, no answer) are left out and counted. A further
question of a project (a quality rating beside a pairwise choice) gives labels the same way."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import make_url

from winnow.conversation import render_record
from winnow.feedback.service.answers import consensus, for_question, load_answers
from winnow.feedback.service.errors import FeedbackError
from winnow.feedback.service.projects import ProjectInfo
from winnow.feedback.store import Database, Record
from winnow.models.labels import LabelledTexts

LABELLING_TASKS = ("label", "rating")


@dataclass(frozen=True)
class FeedbackLabels:
    data: LabelledTexts
    adjudicated: int  # labels a reviewer decided
    left_out: Counter[str] = field(default_factory=Counter)  # why records gave no label


def label_of(project: ProjectInfo, answer: dict) -> str | None:
    if project.task == "rating":
        return str(answer["rating"])
    labels = answer["labels"]
    return labels[0] if len(labels) == 1 else None


def feedback_labels(
    db: Database, project: ProjectInfo, db_url: str = "", question: str | None = None
) -> FeedbackLabels:
    """The labelled texts of a ``label`` or ``rating`` project — or of its further question
    ``question`` — in record order."""
    answers = load_answers(db, project)
    if question is not None:
        asked = {q.name: q for q in project.question.extras}
        if question not in asked:
            raise FeedbackError(f"project {project.name!r} asks no further question {question!r}")
        answers = {e.record_id: e for e in for_question(list(answers.values()), question)}
        project = project.asking(asked[question])
    if project.task not in LABELLING_TASKS:
        raise FeedbackError(
            f"project {project.name!r} is a {project.task} project: only {' and '.join(LABELLING_TASKS)} "
            "projects give each text a label"
        )
    texts, labels, adjudicated, left_out = [], [], 0, Counter()
    with db.read() as s:
        records = s.execute(select(Record.id, Record.data).where(Record.project_id == project.id).order_by(Record.id))
        for record_id, data in records:
            entry = answers.get(record_id)
            agreed = consensus(project, entry) if entry is not None else None
            label = label_of(project, agreed) if agreed is not None else None
            if label is None:
                left_out["no answer" if entry is None else "no consensus" if agreed is None else "several labels"] += 1
                continue
            texts.append(data.get("text") or render_record(data))
            labels.append(label)
            adjudicated += entry.adjudication is not None
    where = make_url(db_url).render_as_string(hide_password=True) if db_url else ""  # no password in a card
    source = f"feedback project {project.name}" + (f" question {question}" if question else "")
    source += f" ({where})" if where else ""
    return FeedbackLabels(LabelledTexts(texts, labels, source), adjudicated, left_out)
