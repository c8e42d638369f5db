"""Answers out, in every export format of ``winnow export`` (``winnow.export.chat``) plus ``winnow``
(the records in Winnow's own JSONL shape, provenance in ``meta.feedback``, ready for ``winnow run``).

Each answered record becomes the record its task implies: pairwise → a preference (the winner
chosen; ties and even splits are left out and counted), ranking → a preference best ≻ worst (or a
rated record with scores), rating → an unpaired record labelled by the consensus rating (above or
below the middle of the scale) or, for SFT formats, the conversations rated above the middle,
label and spans → the conversation (the labels or spans in the provenance), correction → the edited conversation (SFT) or a preference edited ≻
original. The adjudicated answer wins over the annotators'. Further questions (a helpfulness rating
beside a pairwise choice) do not change the row; their consensus, answers and agreement are in the
provenance (``questions``, ``question_answers``, ``question_agreement``). Every row comes with its provenance
(annotators, when they answered, the guideline version, the record's agreement): inside the row for
``winnow``, and as the same line of ``<output>.provenance.jsonl`` for trainer formats, whose rows
must hold exactly the trainer's keys."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from winnow.conversation import render_record
from winnow.export.chat import FORMATS as TRAINER_FORMATS
from winnow.export.chat import ExportSummary, convert_rows
from winnow.export.chat.formats import KINDS
from winnow.feedback.service.answers import (
    RecordAnswers,
    consensus,
    load_answers,
    question_results,
    record_agreement,
)
from winnow.feedback.service.errors import FeedbackError
from winnow.feedback.service.items import prompt_and_candidates
from winnow.feedback.service.projects import ProjectInfo
from winnow.feedback.store import Database, Record

FORMATS = ("winnow", *TRAINER_FORMATS)
WINNOW_KINDS = ("conversation", "preference", "unpaired", "rated")
RECORD_COLUMNS = (Record.id, Record.external_id, Record.data, Record.swap)


@dataclass
class FeedbackExport:
    format: str
    output: str
    records: int = 0  # answered records
    rows: int = 0
    left_out: dict[str, int] = field(default_factory=dict)  # why records were not written


def _message(role: str, content: str) -> dict[str, Any]:
    return {"role": role, "content": content, "name": None, "tool_calls": None, "weight": None, "tool_call_id": None}


def _base(record: Record) -> dict[str, Any]:
    data = record.data
    out = {k: None for k in ("messages", "tools", "chosen", "rejected", "chosen_score", "rejected_score", "margin",
                             "completion", "label", "completions")}  # fmt: skip
    out.update(id=record.external_id, tools=data.get("tools"), source=data.get("source"), license=data.get("license"))
    return out


def resolve(project: ProjectInfo, record: Record, answer: dict[str, Any], kinds: tuple[str, ...]) -> dict | str:
    """The record the answer implies, in a kind the format holds, or why there is none."""
    prompt, candidates = prompt_and_candidates(record.data)
    out = _base(record)
    task = project.task
    if task == "pairwise":
        if answer["choice"] == "tie":
            return "tie"
        first_wins = (answer["choice"] == "A") != record.swap  # A is the first response unless swapped
        winner, loser = (candidates[0], candidates[1]) if first_wins else (candidates[1], candidates[0])
        return _pair(out, prompt, winner, loser, kinds)
    if task == "ranking":
        order = answer["order"]
        if "rated" in kinds and "preference" not in kinds:
            k = len(order)
            scores = {item: float(k - rank) for rank, item in enumerate(order)}
            out.update(kind="rated", messages=prompt or None, completions=[
                {"messages": c, "score": scores[i], "annotator": None} for i, c in enumerate(candidates)])  # fmt: skip
            return out
        return _pair(out, prompt, candidates[order[0]], candidates[order[-1]], kinds)
    if task == "rating":
        middle = (len(project.question.points) + 1) / 2
        rating = answer["rating"]
        if "unpaired" in kinds and rating != middle:
            out.update(kind="unpaired", messages=prompt or None, completion=candidates[0], label=rating > middle)
            return out
        if "rated" in kinds:
            out.update(kind="rated", messages=prompt or None,
                       completions=[{"messages": candidates[0], "score": float(rating), "annotator": None}])  # fmt: skip
            return out
        if "conversation" in kinds:
            if rating <= middle:
                return "rated at or below the middle of the scale"
            out.update(kind="conversation", messages=prompt + candidates[0])
            return out
        return "a rating task gives no pairs"
    if task in ("label", "spans"):
        if "conversation" in kinds:
            out.update(kind="conversation", messages=prompt + candidates[0])
            return out
        return f"a {task} task gives conversations only"
    edited = [_message("assistant", answer["text"])]
    if "conversation" in kinds:
        out.update(kind="conversation", messages=prompt + edited)
        return out
    return _pair(out, prompt, edited, candidates[0], kinds)


def _pair(out: dict, prompt: list, winner: list, loser: list, kinds: tuple[str, ...]) -> dict | str:
    if "preference" not in kinds:
        return "the task gives preference pairs; this format holds none"
    out.update(kind="preference", messages=prompt or None, chosen=winner, rejected=loser)
    return out


def provenance(project: ProjectInfo, entry: RecordAnswers, answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "record": entry.external_id,
        "project": project.name,
        "task": project.task,
        "answer": answer,
        "annotators": [a.user for a in entry.answers],
        "answers": [a.value for a in entry.answers],
        "comments": [a.comment for a in entry.answers],
        "answered_at": [a.at.isoformat() if a.at else None for a in entry.answers],
        "guideline_version": sorted({a.guideline_version for a in entry.answers if a.guideline_version}),
        "agreement": record_agreement(project, entry),
        "adjudicated_by": entry.adjudicated_by,
        **_further(project, entry),
    }


def _further(project: ProjectInfo, entry: RecordAnswers) -> dict[str, Any]:
    """The further questions' consensus, every annotator's answers (in ``annotators`` order) and the
    record's agreement on each; nothing when the project asks none."""
    if not project.question.extras:
        return {}
    consensuses, agreements = question_results(project, entry)
    return {
        "questions": consensuses,
        "question_answers": [a.questions for a in entry.answers],
        "question_agreement": agreements,
    }


def iter_export(
    db: Database, project: ProjectInfo, fmt: str, summary: FeedbackExport, **options: Any
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(row, provenance) for every row of the export, in record order, streamed in chunks."""
    if fmt not in FORMATS:
        raise FeedbackError(f"unknown export format {fmt!r} (choices: {', '.join(FORMATS)})")
    kinds = WINNOW_KINDS if fmt == "winnow" else KINDS[fmt]
    entries = sorted(load_answers(db, project).values(), key=lambda e: e.record_id)
    left_out: Counter[str] = Counter()
    trainer = ExportSummary(fmt, summary.output)
    for start in range(0, len(entries), 1000):
        chunk = entries[start : start + 1000]
        with db.read() as s:
            records = {  # plain rows (id, external_id, data, swap), no ORM object per record
                r.id: r
                for r in s.connection().execute(
                    select(*RECORD_COLUMNS).where(Record.id.in_([e.record_id for e in chunk]))
                )
            }
        for entry in chunk:
            summary.records += 1
            answer = consensus(project, entry)
            if answer is None:
                left_out["no consensus (an even split; adjudicate it)"] += 1
                continue
            record = resolve(project, records[entry.record_id], answer, kinds)
            if isinstance(record, str):
                left_out[record] += 1
                continue
            record["text"] = render_record(record)
            prov = provenance(project, entry, answer)
            if fmt == "winnow":
                record["meta"] = {**(records[entry.record_id].data.get("meta") or {}), "feedback": prov}
                summary.rows += 1
                yield record, prov
                continue
            for row in convert_rows([record], fmt, trainer, **options):
                summary.rows += 1
                yield row, prov
    summary.left_out = dict(left_out)


def export_file(db: Database, project: ProjectInfo, fmt: str, output: str | Path, **options: Any) -> FeedbackExport:
    """Write the export to ``output`` (and ``output.provenance.jsonl`` beside it for trainer formats)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    summary = FeedbackExport(fmt, str(output))
    side = output.with_name(output.name + ".provenance.jsonl")
    tmp, side_tmp = output.with_name(f".tmp-{output.name}"), side.with_name(f".tmp-{side.name}")
    try:
        with open(tmp, "wb") as f, open(side_tmp, "wb") as p:
            for row, prov in iter_export(db, project, fmt, summary, **options):
                f.write(orjson.dumps(row) + b"\n")
                p.write(orjson.dumps(prov) + b"\n")
        os.replace(tmp, output)
        if fmt == "winnow":
            side_tmp.unlink()
        else:
            os.replace(side_tmp, side)
    finally:
        for leftover in (tmp, side_tmp):
            if leftover.exists():
                leftover.unlink()
    return summary
