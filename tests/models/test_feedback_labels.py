"""train-classifier --from-feedback: labels from a feedback-app project on a real database made here
(SQLite, and a throw-away PostgreSQL cluster as the feedback tests start one) — DCLM's human-labelled
pages as label tasks, answered by two annotators, some adjudicated."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from winnow.cli import main
from winnow.feedback.service import Feedback, FeedbackError
from winnow.models.labels import read_labels

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "feedback"))  # the feedback tests' pg_cluster
from pg_cluster import remove, start_cluster  # noqa: E402

os.environ.setdefault("WINNOW_FEEDBACK_ARGON2", "fast")  # argon2id at a low cost, as the feedback tests do
QUESTION = "Keep this web page for pretraining?"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def project(request, sample_data, tmp_path_factory) -> tuple[str, list[tuple[str, str]]]:
    """A label project of the 160 DCLM pages; its URL and the (page, label) pairs training should see."""
    dclm = read_labels(str(sample_data / "quality" / "dclm" / "majority_data.jsonl"))
    tmp_path = tmp_path_factory.mktemp("feedback")
    chat = tmp_path / "pages.jsonl"
    rows = [
        {"id": f"dclm-{i}", "messages": [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": t}]}
        for i, t in enumerate(dclm.texts)
    ]
    chat.write_text("".join(json.dumps(r) + "\n" for r in rows))
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'feedback.db'}"
    else:
        cluster = start_cluster()
        request.addfinalizer(lambda: remove(cluster))
        url = cluster.new_database()
    fb = Feedback.open(url, create=True)
    fb.projects.create("quality", "label", labels=["1", "0"], overlap=2)
    fb.projects.create("pairs", "pairwise")
    assert fb.import_records("quality", chat).added == len(rows)
    people = []
    for name, role in (("ann0", "annotator"), ("ann1", "annotator"), ("rev", "reviewer")):
        account, _ = fb.users.add(name, role, password=f"pw-{name}-long")
        fb.projects.add_member("quality", name, role)
        people.append(account)
    p = fb.projects.get("quality")
    flip = {"1": "0", "0": "1"}
    record_ids = {}
    for user in people[:2]:
        while (task := fb.tasks.next(p, user)) is not None:
            i = int(task.external_id.removeprefix("dclm-"))
            record_ids[i] = task.record_id
            label = flip[dclm.labels[i]] if user.name == "ann1" and i % 10 == 0 else dclm.labels[i]
            fb.tasks.submit(p, user, task.assignment_id, {"labels": [label]})
    # every 10th page an even split: half of them adjudicated (to the human label), half left out; and
    # page 1, on which both agree, adjudicated the other way (a reviewer's answer stands over the majority)
    for i in range(0, len(rows), 20):
        fb.review.adjudicate(p, people[2], record_ids[i], {"labels": [dclm.labels[i]]})
    fb.review.adjudicate(p, people[2], record_ids[1], {"labels": [flip[dclm.labels[1]]]})
    fb.close()
    expected = [
        (t, flip[label] if i == 1 else label)
        for i, (t, label) in enumerate(zip(dclm.texts, dclm.labels, strict=True))
        if i % 20 != 10
    ]
    return url, expected


def test_feedback_labels_are_the_adjudicated_else_majority_answers(project):
    url, expected = project
    fb = Feedback.open(url)
    found = fb.labels("quality")
    assert found.data.labels == [label for _, label in expected]
    assert all(
        text.endswith(page) and QUESTION in text for text, (page, _) in zip(found.data.texts, expected, strict=True)
    )
    assert found.adjudicated == 9 and found.left_out == {"no consensus": 8}
    assert found.data.source == f"feedback project quality ({url})"
    with pytest.raises(FeedbackError, match="pairwise project: only label and rating"):
        fb.labels("pairs")
    fb.close()


def test_train_classifier_from_feedback(project, tmp_path, capsys):
    url, expected = project
    out = tmp_path / "quality.bin"
    assert main(["train-classifier", "--from-feedback", url, "quality", "-o", str(out), "--bucket", "20000"]) == 0
    assert "152 labelled records (9 adjudicated); left out: 8 no consensus" in capsys.readouterr().out
    card = json.loads(out.with_name("quality.card.json").read_text())
    assert card["source"].startswith("feedback project quality")
    assert card["train_records"] + card["heldout_records"] == len(expected) == 152
    assert 0.0 <= card["heldout"]["roc_auc"] <= 1.0
