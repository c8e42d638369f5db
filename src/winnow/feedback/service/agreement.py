"""Agreement: Krippendorff's α (the ``krippendorff`` package) over the whole project at the question's
level of measurement — for the main question and for each further question — α and raw agreement for
every annotator pair, and per-annotator statistics
(answers, median seconds, skip rate, agreement with the consensus of the others), and the judge's
imported scores against the human consensus."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from statistics import median

import numpy as np
from sqlalchemy import func, select

from winnow.feedback.service.answers import Answer, RecordAnswers, _key, consensus, for_question, load_answers
from winnow.feedback.service.items import suggestion
from winnow.feedback.service.projects import ProjectInfo
from winnow.feedback.store import Database, Record, Skip, User


@dataclass
class PairAgreement:
    a: str
    b: str
    shared: int  # records both answered
    agreement: float | None  # share of shared records with the same answer
    alpha: float | None


@dataclass
class AnnotatorStats:
    user: str
    answers: int
    skips: int
    median_seconds: float | None
    skip_rate: float
    agreement_with_consensus: float | None  # share of answers equal to the majority of the others


@dataclass
class JudgeAgreement:
    """The judge's scores imported with the records (a synthetic-data judge's, say) read as one more
    answer, against the human consensus: how far the judge can stand in for people."""

    records: int  # records with both a judge answer and a human consensus
    agreement: float | None  # share of those where the judge's answer equals the consensus
    alpha: float | None  # Krippendorff's α of judge vs consensus, at the question's level


@dataclass
class QuestionAgreement:
    """α and annotator pairs for one further question (``questions.Question.extras``)."""

    name: str
    task: str
    level: str | None
    records: int  # records with two or more answers to it
    answers: int
    alpha: float | None
    pairs: list[PairAgreement] = field(default_factory=list)


@dataclass
class AgreementReport:
    project: str
    task: str
    level: str | None
    records: int  # records with two or more answers
    answers: int
    alpha: float | None
    pairs: list[PairAgreement] = field(default_factory=list)
    annotators: list[AnnotatorStats] = field(default_factory=list)
    judge: JudgeAgreement | None = None  # None: no record carries judge scores this task can read
    questions: list[QuestionAgreement] = field(default_factory=list)  # the further questions, in order


def reliability_matrix(project: ProjectInfo, entries: list[RecordAnswers], users: list[str]) -> np.ndarray:
    """Annotators × units (NaN where an annotator gave no answer): the input of ``krippendorff.alpha``."""
    column: dict[tuple[int, int], int] = {}
    cells: list[tuple[int, int, float]] = []
    row = {u: i for i, u in enumerate(users)}
    for entry in entries:
        for answer in entry.answers:
            for offset, value in project.question.numeric(answer.value).items():
                unit = column.setdefault((entry.record_id, offset), len(column))
                cells.append((row[answer.user], unit, value))
    matrix = np.full((len(users), len(column)), np.nan)
    for r, c, v in cells:
        matrix[r, c] = v
    return matrix


def alpha(matrix: np.ndarray, level: str) -> float | None:
    import krippendorff

    usable = matrix[:, np.sum(~np.isnan(matrix), axis=0) >= 2] if matrix.size else matrix
    if usable.size == 0 or usable.shape[0] < 2:
        return None
    if len(np.unique(usable[~np.isnan(usable)])) < 2:
        return 1.0  # every answer the same: no disagreement (α is 0/0 there)
    return float(krippendorff.alpha(reliability_data=usable, level_of_measurement=level))


def agreement(db: Database, project: ProjectInfo) -> AgreementReport:
    entries = [e for e in load_answers(db, project).values() if e.answers]
    users = sorted({a.user for e in entries for a in e.answers})
    level = project.question.level
    multi = [e for e in entries if len(e.answers) >= 2]
    report = AgreementReport(project.name, project.task, level, len(multi), sum(len(e.answers) for e in entries), None)
    report.alpha, report.pairs = _alpha_and_pairs(project, entries, users)
    report.annotators = _annotator_stats(db, project, entries, users)
    report.judge = judge_agreement(db, project, entries)
    for q in project.question.extras:
        asked = [e for e in for_question(entries, q.name) if e.answers]
        q_users = sorted({a.user for e in asked for a in e.answers})
        q_alpha, q_pairs = _alpha_and_pairs(project.asking(q), asked, q_users)
        records = sum(len(e.answers) >= 2 for e in asked)
        answers = sum(len(e.answers) for e in asked)
        report.questions.append(QuestionAgreement(q.name, q.task, q.level, records, answers, q_alpha, q_pairs))
    return report


def _alpha_and_pairs(
    project: ProjectInfo, entries: list[RecordAnswers], users: list[str]
) -> tuple[float | None, list[PairAgreement]]:
    """α over every record with two or more answers, and α and raw agreement per annotator pair."""
    level = project.question.level
    multi = [e for e in entries if len(e.answers) >= 2]
    overall = alpha(reliability_matrix(project, multi, users), level) if level is not None and users else None
    by_user: dict[str, dict[int, str]] = defaultdict(dict)
    for e in entries:
        for a in e.answers:
            by_user[a.user][e.record_id] = _key(a.value)
    pairs = []
    for a, b in combinations(users, 2):
        shared = sorted(by_user[a].keys() & by_user[b].keys())
        same = sum(by_user[a][r] == by_user[b][r] for r in shared)
        pair_alpha = None
        if level is not None and shared:
            shared_set = set(shared)
            subset = [
                RecordAnswers(e.record_id, e.external_id, [x for x in e.answers if x.user in (a, b)])
                for e in multi
                if e.record_id in shared_set
            ]
            pair_alpha = alpha(reliability_matrix(project, subset, [a, b]), level)
        pairs.append(PairAgreement(a, b, len(shared), same / len(shared) if shared else None, pair_alpha))
    return overall, pairs


def judge_agreement(db: Database, project: ProjectInfo, entries: list[RecordAnswers]) -> JudgeAgreement | None:
    """Judge vs human consensus with the same α code as the annotators (``reliability_matrix``: the
    judge and "consensus" are its two coders). The judge's answer is the suggestion the annotate page
    shows (``items.suggestion``), computed whether or not the project shows it."""
    if project.task not in ("pairwise", "ranking"):
        return None  # the task types a judge's scores can answer (see items.suggestion)
    judged = _judge_answers(db, project)
    if not judged:
        return None  # nothing imported with scores: no judge to compare
    pairs: list[tuple[RecordAnswers, dict]] = []
    for e in entries:
        human = consensus(project, e)
        if human is not None and e.record_id in judged:
            pairs.append((e, human))
    if not pairs:
        return JudgeAgreement(0, None, None)
    same = sum(_key(judged[e.record_id]) == _key(human) for e, human in pairs)
    rows = [
        RecordAnswers(
            e.record_id,
            e.external_id,
            [Answer("judge", judged[e.record_id], None, None, None), Answer("consensus", human, None, None, None)],
        )
        for e, human in pairs
    ]
    level = project.question.level
    value = alpha(reliability_matrix(project, rows, ["judge", "consensus"]), level) if level else None
    return JudgeAgreement(len(pairs), same / len(pairs), value)


def _judge_answers(db: Database, project: ProjectInfo) -> dict[int, dict]:
    """record id → the judge's answer, for the records whose imported scores give one. Only the score
    fields are read (JSON paths in SQL), not whole records."""
    data = Record.data
    if project.task == "pairwise":
        columns = [data["chosen_score"].as_float(), data["rejected_score"].as_float()]
    else:
        columns = [data["kind"].as_string(), data["completions"]]
    out: dict[int, dict] = {}
    with db.read() as s:
        rows = s.connection().execute(select(Record.id, Record.swap, *columns).where(Record.project_id == project.id))
        for record_id, swap, first, second in rows:
            if project.task == "pairwise":
                fields = {"chosen_score": first, "rejected_score": second}
            else:
                fields = {"kind": first, "completions": second}
            answer = suggestion(fields, bool(swap), project.task)
            if answer is not None:
                out[record_id] = answer
    return out


def _annotator_stats(db: Database, project: ProjectInfo, entries: list[RecordAnswers], users: list[str]):  # type: ignore[no-untyped-def]
    with db.read() as s:
        skips = dict(
            s.execute(
                select(User.name, func.count())
                .join(Skip, Skip.user_id == User.id)
                .where(Skip.project_id == project.id)
                .group_by(User.name)
            ).all()
        )
    seconds: dict[str, list[float]] = defaultdict(list)
    agree: dict[str, list[bool]] = defaultdict(list)
    for e in entries:
        for answer in e.answers:
            if answer.seconds is not None:
                seconds[answer.user].append(answer.seconds)
            others = RecordAnswers(e.record_id, e.external_id, [x for x in e.answers if x is not answer])
            if others.answers:
                majority = consensus(project, others)
                if majority is not None:
                    agree[answer.user].append(_key(majority) == _key(answer.value))
    stats = []
    for user in sorted(set(users) | set(skips)):
        n = len([a for e in entries for a in e.answers if a.user == user])
        k = skips.get(user, 0)
        stats.append(
            AnnotatorStats(
                user,
                n,
                k,
                median(seconds[user]) if seconds[user] else None,
                k / (n + k) if n + k else 0.0,
                sum(agree[user]) / len(agree[user]) if agree[user] else None,
            )  # fmt: skip
        )
    return stats
