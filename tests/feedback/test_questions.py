"""A project that asks more than one question: a pairwise choice plus a helpfulness rating and
multi-label flags. Every question is required and checked, α per question equals
``krippendorff.alpha`` computed directly (and the main question's α is untouched by the others),
consensus, adjudication and exports carry each question, and a further question gives classifier
labels."""

from __future__ import annotations

import gzip
import random
from collections import Counter
from pathlib import Path
from statistics import median_low

import krippendorff
import numpy as np
import orjson
import pytest
from helpers import answer_all, team

from winnow.cli import main
from winnow.feedback.service import Feedback, FeedbackError
from winnow.feedback.service.questions import parse_question

QUESTIONS = [parse_question("helpful:rating:5"), parse_question("flags:multilabel:pii,toxic,wrong")]
FLAGS = ["pii", "toxic", "wrong"]


def _small(hh_path: Path, tmp_path: Path, n: int) -> Path:
    out = tmp_path / "hh.jsonl"
    out.write_bytes(b"\n".join(gzip.decompress(hh_path.read_bytes()).splitlines()[:n]) + b"\n")
    return out


def _answer(rng: random.Random) -> dict:
    return {
        "choice": rng.choice(["A", "A", "B", "tie"]),
        "questions": {
            "helpful": {"rating": rng.choice([2, 4, 4, 5])},
            "flags": {"labels": sorted(rng.sample(FLAGS, rng.choice([0, 0, 1, 2])), key=FLAGS.index)},
        },
    }


def test_every_question_is_required_and_checked(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    p = fb.projects.create("chats", "pairwise", overlap=2, questions=QUESTIONS)
    assert [(q.name, q.task) for q in p.question.extras] == [("helpful", "rating"), ("flags", "label")]
    fb.import_records("chats", _small(hh_path, tmp_path, 3))
    (user,) = team(fb, "chats", 1)
    task = fb.tasks.next(p, user)
    for bad, why in [
        ({"choice": "A"}, 'answer them under "questions"'),
        ({"choice": "A", "questions": {"helpful": {"rating": 4}}}, "question 'flags' is not answered"),
        ({"choice": "A", "questions": {"helpful": {"rating": 6}, "flags": {"labels": []}}}, "'helpful': rating"),
        ({"choice": "A", "questions": {"helpful": {"rating": 4}, "flags": {"labels": ["spam"]}}}, "'flags': label"),
        ({"choice": "A", "questions": {"helpful": {"rating": 4}, "flags": {"labels": []}, "x": {}}}, "no question 'x'"),
    ]:
        with pytest.raises(FeedbackError, match=why):
            fb.tasks.submit(p, user, task.assignment_id, bad)
    assert fb.tasks.progress(p, user).done == 0  # nothing of a rejected answer was stored
    good = {"choice": "B", "questions": {"helpful": {"rating": 4}, "flags": {"labels": ["wrong", "pii"]}}}
    fb.tasks.submit(p, user, task.assignment_id, good)
    assert fb.review.disagreements(p, threshold=2.0) == []  # one answer: nothing to review
    stored = fb.review.item(p, task.record_id).answers[0]
    assert stored.value == {"choice": "B"}
    assert stored.questions == {"helpful": {"rating": 4}, "flags": {"labels": ["pii", "wrong"]}}  # label order


@pytest.mark.parametrize(
    "spec, why",
    [
        ({"name": "Helpful", "task": "rating"}, "a lower-case letter"),
        ({"name": "helpful", "task": "ranking"}, "not one of rating, label"),
        ({"name": "helpful", "task": "rating", "points": 12}, "2 to 9 points"),
        ({"name": "helpful", "task": "rating", "colour": "red"}, "unknown setting 'colour'"),
    ],
)
def test_bad_question_specs_are_refused(fb: Feedback, spec: dict, why: str) -> None:
    with pytest.raises(FeedbackError, match=why):
        fb.projects.create("bad", "pairwise", questions=[spec])
    with pytest.raises(FeedbackError, match="asked twice"):
        fb.projects.create("twice", "pairwise", questions=[QUESTIONS[0], QUESTIONS[0]])
    assert fb.projects.list() == []


def test_alpha_per_question_consensus_adjudication_and_export(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    p = fb.projects.create("chats", "pairwise", overlap=3, questions=QUESTIONS)
    fb.import_records("chats", _small(hh_path, tmp_path, 24))
    people = team(fb, "chats", 4)
    rng = random.Random(11)
    given = answer_all(fb, "chats", people, lambda u, t: _answer(rng))
    records = sorted({r for _, r in given})
    report = fb.agreement("chats")

    def matrix(units: int, value) -> np.ndarray:  # type: ignore[no-untyped-def]
        m = np.full((4, len(records) * units), np.nan)
        for (user, record), answer in given.items():
            for k, v in enumerate(value(answer)):
                m[int(user.removeprefix("annotator")), records.index(record) * units + k] = v
        return m

    codes = {"A": 0, "tie": 1, "B": 2}
    choice = matrix(1, lambda a: [codes[a["choice"]]])
    helpful = matrix(1, lambda a: [a["questions"]["helpful"]["rating"]])
    flags = matrix(3, lambda a: [float(f in a["questions"]["flags"]["labels"]) for f in FLAGS])
    assert report.alpha == pytest.approx(krippendorff.alpha(reliability_data=choice, level_of_measurement="ordinal"))
    by_name = {q.name: q for q in report.questions}
    assert list(by_name) == ["helpful", "flags"]
    assert by_name["helpful"].level == "ordinal" and by_name["flags"].level == "nominal"
    assert by_name["helpful"].alpha == pytest.approx(
        krippendorff.alpha(reliability_data=helpful, level_of_measurement="ordinal")
    )
    assert by_name["flags"].alpha == pytest.approx(
        krippendorff.alpha(reliability_data=flags, level_of_measurement="nominal")
    )
    assert by_name["helpful"].answers == 72 and by_name["helpful"].records == 24
    pair = next(x for x in by_name["helpful"].pairs if (x.a, x.b) == ("annotator0", "annotator1"))
    both = ~np.isnan(helpful[0]) & ~np.isnan(helpful[1])
    assert pair.shared == int(both.sum())
    assert pair.alpha == pytest.approx(
        krippendorff.alpha(reliability_data=helpful[:2][:, both], level_of_measurement="ordinal")
    )

    # a reviewer's decision on a record carries every question, and wins in the export
    reviewer = team(fb, "chats", 1, role="reviewer")[0]
    first = fb.review.item(p, fb.review.disagreements(p, threshold=2.0)[0].record_id)
    decided = {"choice": "A", "questions": {"helpful": {"rating": 1}, "flags": {"labels": ["toxic"]}}}
    with pytest.raises(FeedbackError, match="'flags' is not answered"):
        fb.review.adjudicate(p, reviewer, first.record_id, {"choice": "A", "questions": {"helpful": {"rating": 1}}})
    fb.review.adjudicate(p, reviewer, first.record_id, decided)
    assert fb.review.item(p, first.record_id).questions == decided["questions"]

    summary = fb.export("chats", "winnow", tmp_path / "out.jsonl")
    rows = {
        r["id"]: r["meta"]["feedback"] for r in map(orjson.loads, (tmp_path / "out.jsonl").read_bytes().splitlines())
    }
    assert summary.rows == len(rows) > 0
    for record, prov in rows.items():
        if record == first.external_id:
            assert prov["questions"] == decided["questions"] and prov["answer"] == {"choice": "A"}
            continue
        answers = [given[(user, record)] for user in prov["annotators"]]
        assert prov["answers"] == [{"choice": a["choice"]} for a in answers]  # the main answers alone
        assert prov["question_answers"] == [a["questions"] for a in answers]
        assert prov["questions"]["helpful"] == {
            "rating": median_low(a["questions"]["helpful"]["rating"] for a in answers)
        }
        shares = [sum(b["questions"]["helpful"] == a["questions"]["helpful"] for b in answers) / 3 for a in answers]
        assert prov["question_agreement"]["helpful"] == pytest.approx(max(shares))

    # the trainer format's rows keep exactly the trainer's keys; the questions are in the sidecar
    fb.export("chats", "trl-dpo", tmp_path / "dpo.jsonl")
    dpo = [orjson.loads(x) for x in (tmp_path / "dpo.jsonl").read_bytes().splitlines()]
    side = [orjson.loads(x) for x in (tmp_path / "dpo.jsonl.provenance.jsonl").read_bytes().splitlines()]
    assert set(dpo[0]) == {"prompt", "chosen", "rejected"} and len(side) == len(dpo)
    assert all(set(s["questions"]) == {"helpful", "flags"} for s in side)

    # a further question is a label source for train-classifier
    labels = fb.labels("chats", question="helpful")
    assert len(labels.data) == 24 and labels.adjudicated == 1
    expected = Counter(
        "1" if record == first.external_id
        else str(median_low(a["questions"]["helpful"]["rating"] for (_, r), a in given.items() if r == record))
        for record in records
    )  # fmt: skip
    assert Counter(labels.data.labels) == expected
    with pytest.raises(FeedbackError, match="no further question 'x'"):
        fb.labels("chats", question="x")


def test_cli_creates_a_project_with_questions_and_reports_alpha_per_question(
    tmp_path: Path, hh_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    db = ["--db", f"sqlite:///{tmp_path / 'fb.db'}"]
    assert main(["feedback", "init", *db]) == 0
    assert main(["feedback", "project", "create", "chats", "--task", "pairwise", "--overlap", "2",
                 "--question", "helpful:rating:3", "--question", "topic:label:code,chat", *db]) == 0  # fmt: skip
    assert "chats: pairwise, helpful (rating), topic (label), overlap 2" in capsys.readouterr().out
    fb = Feedback.open(db[1])
    p = fb.projects.get("chats")
    assert p.question.extras[0].points == ["1", "2", "3"] and p.question.extras[1].labels == ["code", "chat"]
    fb.import_records("chats", _small(hh_path, tmp_path, 4))
    people = team(fb, "chats", 2)
    answer_all(fb, "chats", people, lambda u, t: {
        "choice": "A", "questions": {"helpful": {"rating": 3 if u.name == "annotator0" else 1}, "topic": {"labels": ["chat"]}}})  # fmt: skip
    fb.close()
    assert main(["feedback", "agreement", "chats", *db]) == 0
    out = capsys.readouterr().out
    assert "question helpful (rating): alpha" in out and "over 4 records, 8 answers" in out
    assert "question topic (label): alpha 1.000 (nominal)" in out
    assert (
        main(["feedback", "project", "create", "x", "--task", "pairwise", "--question", "helpful:ranking:1,2", *db])
        == 2
    )
    assert "NAME:rating" in capsys.readouterr().err
