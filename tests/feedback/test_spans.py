"""Span labels on SQLite and PostgreSQL: the check of an answer, α per character equal to
``krippendorff.alpha`` on a matrix built here, the per-character consensus in the exports, comments
in the provenance, and drafts (with their comment) handed back by ``next``."""

from __future__ import annotations

from pathlib import Path

import krippendorff
import numpy as np
import orjson
import pytest
from helpers import team

from winnow.feedback.service import Feedback, FeedbackError, NotFound
from winnow.feedback.service.items import response_text

SHAREGPT = Path(__file__).resolve().parents[1] / "data" / "shared" / "sft" / "sharegpt" / "dummy_conversation.json"
LABELS = ["PII", "factual error"]


def _project(fb: Feedback, tmp_path: Path, n: int = 4, overlap: int = 3) -> None:
    rows = orjson.loads(SHAREGPT.read_bytes())[:n]
    path = tmp_path / "sharegpt.json"
    path.write_bytes(orjson.dumps(rows))
    fb.projects.create("marks", "spans", labels=LABELS, overlap=overlap)
    fb.import_records("marks", path)


def _word(text: str, word: str) -> tuple[int, int]:
    start = text.index(word)
    return start, start + len(word)


def test_a_spans_answer_is_checked_and_stored_sorted_with_the_length(fb: Feedback, tmp_path: Path) -> None:
    _project(fb, tmp_path, n=2, overlap=1)
    p = fb.projects.get("marks")
    (ann,) = team(fb, "marks", 1)
    task = fb.tasks.next(p, ann)
    text = response_text(task.candidates)
    n = len(text)
    bad = [
        ({"spans": [{"start": 0, "end": n + 1, "label": "PII"}]}, "must have 0 <= start < end"),
        ({"spans": [{"start": 3, "end": 3, "label": "PII"}]}, "must have 0 <= start < end"),
        ({"spans": [{"start": 0, "end": 2, "label": "rude"}]}, "not one of PII, factual error"),
        ({"spans": [{"start": 0, "end": 4, "label": "PII"}, {"start": 2, "end": 5, "label": "PII"}]}, "overlap"),
        ({"spans": [{"start": True, "end": 2, "label": "PII"}]}, "whole numbers"),
        ({"spans": "0-4"}, "is a list"),
    ]
    for value, why in bad:
        with pytest.raises(FeedbackError, match=why):
            fb.tasks.submit(p, ann, task.assignment_id, value)
    given = {"spans": [{"start": 4, "end": n, "label": "factual error"}, {"start": 0, "end": 3, "label": "PII"}],
             "length": 999}  # fmt: skip
    stored = fb.tasks.submit(p, ann, task.assignment_id, given, comment="the second part is wrong")
    assert stored.value == {"spans": sorted(given["spans"], key=lambda s: s["start"]), "length": n}
    assert stored.comment == "the second part is wrong"
    nothing = fb.tasks.next(p, ann)
    assert fb.tasks.submit(p, ann, nothing.assignment_id, {"spans": []}).value["spans"] == []  # nothing to mark


def test_spans_alpha_per_character_equals_krippendorff_and_consensus_is_per_character(
    fb: Feedback, tmp_path: Path
) -> None:
    _project(fb, tmp_path, n=4, overlap=3)
    p = fb.projects.get("marks")
    people = team(fb, "marks", 3)
    texts: dict[str, str] = {}
    plan = {  # annotator → record index → spans as (word, label)
        "annotator0": [[("Vicuna", "PII")], [("Vicuna", "PII"), ("LMSYS", "factual error")], [], [("You", "PII")]],
        "annotator1": [[("Vicuna", "PII")], [("Vicuna", "PII")], [("Goodbye", "factual error")], []],
        "annotator2": [[("You", "PII")], [("LMSYS", "PII")], [("Goodbye", "factual error")], []],
    }
    order: list[str] = []
    for user in people:
        i = 0
        while (task := fb.tasks.next(p, user)) is not None:
            text = texts.setdefault(task.external_id, response_text(task.candidates))
            if user.name == "annotator0":
                order.append(task.external_id)
            assert task.external_id == order[i]
            spans = [dict(zip(("start", "end"), _word(text, w), strict=True), label=label)
                     for w, label in plan[user.name][i] if w in text]  # fmt: skip
            fb.tasks.submit(p, user, task.assignment_id, {"spans": spans}, comment=f"{user.name} on {i}")
            i += 1
    # the reliability matrix built here: annotators × (record, character), label number, 0 unmarked
    columns = []
    for i, record in enumerate(order):
        text = texts[record]
        rows = []
        for user in plan:
            marks = [0] * len(text)
            for w, label in plan[user][i]:
                if w in text:
                    a, b = _word(text, w)
                    marks[a:b] = [LABELS.index(label) + 1] * (b - a)
            rows.append(marks)
        columns.append(np.array(rows, dtype=float))
    matrix = np.concatenate(columns, axis=1)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    report = fb.agreement("marks")
    assert report.level == "nominal" and report.records == 4
    assert report.alpha == pytest.approx(expected)

    out = tmp_path / "marks.jsonl"
    summary = fb.export("marks", "winnow", out)
    rows = {r["id"]: r for r in map(orjson.loads, out.read_bytes().splitlines())}
    assert summary.rows == 4
    for i, record in enumerate(order):
        feedback = rows[record]["meta"]["feedback"]
        text = texts[record]
        votes = [np.array(matrix_rows) for matrix_rows in columns[i]]
        majority = []
        for c in range(len(text)):
            values = [int(v[c]) for v in votes]
            top = max(set(values), key=values.count)
            majority.append(top if values.count(top) >= 2 else 0)
        got = [0] * len(text)
        for s in feedback["answer"]["spans"]:
            got[s["start"] : s["end"]] = [LABELS.index(s["label"]) + 1] * (s["end"] - s["start"])
        assert got == majority and feedback["answer"]["length"] == len(text)
        assert feedback["comments"] == [f"{u} on {i}" for u in plan]
        assert rows[record]["messages"][-1]["content"] == text
    sft = fb.export("marks", "trl-sft", tmp_path / "sft.jsonl")
    prov = [orjson.loads(x) for x in (tmp_path / "sft.jsonl.provenance.jsonl").read_bytes().splitlines()]
    assert sft.rows == 4 and all("spans" in x["answer"] for x in prov)
    dpo = fb.export("marks", "trl-dpo", tmp_path / "dpo.jsonl")
    assert dpo.rows == 0 and dpo.left_out == {"a spans task gives conversations only": 4}
    with pytest.raises(FeedbackError, match="only label and rating projects"):
        fb.labels("marks")


def test_a_draft_and_its_comment_come_back_with_the_task(fb: Feedback, tmp_path: Path) -> None:
    _project(fb, tmp_path, n=2, overlap=1)
    fb.projects.create("other", "spans", labels=LABELS, overlap=1)
    p = fb.projects.get("marks")
    (ann,) = team(fb, "marks", 1)
    task = fb.tasks.next(p, ann)
    draft = {"spans": [{"start": 0, "end": 3, "label": "PII"}]}
    fb.tasks.save_draft(ann, task.assignment_id, draft, "half done", project=p)
    again = fb.tasks.next(p, ann)
    assert (again.assignment_id, again.draft, again.comment) == (task.assignment_id, draft, "half done")
    with pytest.raises(NotFound):
        fb.tasks.save_draft(ann, task.assignment_id, draft, project=fb.projects.get("other"))
    with pytest.raises(FeedbackError, match="at most 256 KiB"):
        fb.tasks.save_draft(ann, task.assignment_id, {"text": "x" * 300_000}, project=p)
    fb.tasks.skip(p, ann, task.assignment_id, "unsure")
    fresh = fb.tasks.next(p, ann)
    assert fresh.assignment_id != task.assignment_id and fresh.draft is None and fresh.comment is None
    fb.tasks.submit(p, ann, fresh.assignment_id, {"spans": []}, comment="clean")
    undone = fb.tasks.undo(p, ann)
    assert (undone.draft["spans"], undone.comment) == ([], "clean")  # the answer and its comment, as the draft
