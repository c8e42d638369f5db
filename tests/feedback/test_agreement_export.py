"""Agreement equals ``krippendorff.alpha`` computed directly; exports are valid trainer files whose
rows follow the answers given, with provenance line by line."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import krippendorff
import numpy as np
import orjson
import pytest
from helpers import answer_all, team

from winnow.export.chat import problem
from winnow.feedback.service import Feedback


def _small(hh_path: Path, tmp_path: Path, n: int) -> Path:
    out = tmp_path / "hh.jsonl"
    out.write_bytes(b"\n".join(gzip.decompress(hh_path.read_bytes()).splitlines()[:n]) + b"\n")
    return out


def test_pairwise_alpha_equals_krippendorff_directly(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    fb.projects.create("helpful", "pairwise", overlap=3)
    fb.import_records("helpful", _small(hh_path, tmp_path, 30))
    people = team(fb, "helpful", 4)
    rng = random.Random(7)
    given = answer_all(fb, "helpful", people, lambda u, t: {"choice": rng.choice(["A", "A", "B", "tie"])})
    report = fb.agreement("helpful")
    records = sorted({r for _, r in given})
    codes = {"A": 0, "tie": 1, "B": 2}
    matrix = np.full((4, len(records)), np.nan)
    for (user, record), value in given.items():
        matrix[int(user.removeprefix("annotator")), records.index(record)] = codes[value["choice"]]
    assert report.alpha == pytest.approx(krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal"))
    assert report.level == "ordinal" and report.answers == 90
    pair = next(p for p in report.pairs if (p.a, p.b) == ("annotator0", "annotator1"))
    both = ~np.isnan(matrix[0]) & ~np.isnan(matrix[1])
    assert pair.shared == int(both.sum())
    assert pair.agreement == pytest.approx(float(np.mean(matrix[0][both] == matrix[1][both])))
    expected_pair = krippendorff.alpha(reliability_data=matrix[:2][:, both], level_of_measurement="ordinal")
    assert pair.alpha == pytest.approx(expected_pair)
    assert sum(a.answers for a in report.annotators) == 90


def test_rating_alpha_and_kto_export(fb: Feedback, tmp_path: Path) -> None:
    chat = Path(__file__).resolve().parents[1] / "data" / "chat" / "openai_sft.jsonl"
    fb.projects.create("quality", "rating", overlap=2, points=5)
    fb.import_records("quality", chat)
    people = team(fb, "quality", 2)
    rng = random.Random(3)
    given = answer_all(fb, "quality", people, lambda u, t: {"rating": rng.randint(1, 5)})
    report = fb.agreement("quality")
    records = sorted({r for _, r in given})
    matrix = np.full((2, len(records)), np.nan)
    for (user, record), value in given.items():
        matrix[int(user[-1]), records.index(record)] = value["rating"]
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal")
    assert report.alpha == pytest.approx(expected)
    out = tmp_path / "kto.jsonl"
    summary = fb.export("quality", "trl-kto", out)
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    prov = [orjson.loads(line) for line in (tmp_path / "kto.jsonl.provenance.jsonl").read_bytes().splitlines()]
    assert len(rows) == len(prov) == summary.rows > 0
    for row, p in zip(rows, prov, strict=True):
        assert problem("trl-kto", row) is None
        ratings = [given[(u, p["record"])]["rating"] for u in p["annotators"]]
        assert row["label"] == (p["answer"]["rating"] > 3) and p["answer"]["rating"] == sorted(ratings)[0]
        assert p["guideline_version"] == [1] and len(p["answered_at"]) == 2


def test_dpo_export_follows_the_answers(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    fb.projects.create("helpful", "pairwise", overlap=1)
    fb.import_records("helpful", _small(hh_path, tmp_path, 40))
    people = team(fb, "helpful", 2)
    rng = random.Random(11)
    shown: dict[str, list] = {}

    def choose(user, task):  # type: ignore[no-untyped-def]
        shown[task.external_id] = task.candidates
        return {"choice": rng.choice(["A", "B", "tie"])}

    given = answer_all(fb, "helpful", people, choose)
    out = tmp_path / "dpo.jsonl"
    summary = fb.export("helpful", "trl-dpo", out)
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    prov = [orjson.loads(line) for line in (tmp_path / "dpo.jsonl.provenance.jsonl").read_bytes().splitlines()]
    ties = sum(v["choice"] == "tie" for v in given.values())
    assert summary.rows == len(rows) == 40 - ties and summary.left_out == ({"tie": ties} if ties else {})
    for row, p in zip(rows, prov, strict=True):
        assert problem("trl-dpo", row) is None
        choice = p["answer"]["choice"]
        a, b = shown[p["record"]]
        winner, loser = (a, b) if choice == "A" else (b, a)
        assert row["chosen"][-1]["content"] == winner[-1]["content"]
        assert row["rejected"][-1]["content"] == loser[-1]["content"]
    # the export reads back through Winnow's own reader
    from winnow.io.chat import read_conversations

    assert read_conversations(str(out), format="trl").num_rows == len(rows)


def test_judge_vs_human_alpha_equals_krippendorff_directly(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    """Judge scores imported with the records (chosen_score / rejected_score, as the synthetic engine's
    judge writes them) against the human consensus, by the same α code."""
    from collections import Counter

    from sqlalchemy import select

    from winnow.feedback.store import Record

    rng = random.Random(3)
    rows = [orjson.loads(line) for line in gzip.decompress(hh_path.read_bytes()).splitlines()[:30]]
    for row in rows:  # the judge prefers the dataset's chosen side two times in three, and ties once in a while
        row["chosen_score"], row["rejected_score"] = rng.choice([(8.0, 3.0), (8.0, 3.0), (2.0, 7.0), (5.0, 5.0)])
    scored = tmp_path / "judged.jsonl"
    scored.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    fb.projects.create("judged", "pairwise", overlap=3)
    fb.import_records("judged", scored)
    people = team(fb, "judged", 3)
    given = answer_all(fb, "judged", people, lambda u, t: {"choice": rng.choice(["A", "A", "B", "tie"])})
    report = fb.agreement("judged")

    with fb.db.read() as s:
        records = {r.external_id: r for r in s.scalars(select(Record))}
    codes = {"A": 0, "tie": 1, "B": 2}
    judge, human = [], []
    for external_id, record in sorted(records.items()):
        answers = [v["choice"] for (_, r), v in given.items() if r == external_id]
        (top, n), *rest = Counter(answers).most_common()
        if rest and rest[0][1] == n:
            continue  # an even split has no consensus
        first, second = record.data["chosen_score"], record.data["rejected_score"]
        if record.swap:  # A shows the rejected side
            first, second = second, first
        judge.append(codes["A" if first > second else "B" if second > first else "tie"])
        human.append(codes[top])
    assert report.judge is not None and report.judge.records == len(judge) > 10
    assert report.judge.agreement == pytest.approx(sum(a == b for a, b in zip(judge, human, strict=True)) / len(judge))
    expected = krippendorff.alpha(reliability_data=np.array([judge, human], float), level_of_measurement="ordinal")
    assert report.judge.alpha == pytest.approx(expected)
    # records without scores have no judge to compare
    fb.projects.create("plain", "pairwise", overlap=1)
    fb.import_records("plain", _small(hh_path, tmp_path, 5))
    assert fb.agreement("plain").judge is None
