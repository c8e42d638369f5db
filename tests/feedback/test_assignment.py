"""Explicit assignment on SQLite and PostgreSQL: slots reserved for one annotator go to them first and
to no one else; an ``explicit`` project hands out only what was reserved; overlap still holds."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import httpx
import pytest
from helpers import answer_all, password_of, team
from webserver import login, thread_server

from winnow.feedback.service import Feedback, FeedbackError, NotFound


def _small(hh_path: Path, tmp_path: Path, n: int = 10) -> Path:
    out = tmp_path / "hh.jsonl"
    out.write_bytes(b"\n".join(gzip.decompress(hh_path.read_bytes()).splitlines()[:n]) + b"\n")
    return out


def _ids(fb: Feedback, project: str) -> list[str]:
    from sqlalchemy import select

    from winnow.feedback.store import Record

    p = fb.projects.get(project)
    with fb.db.read() as s:
        return list(s.scalars(select(Record.external_id).where(Record.project_id == p.id).order_by(Record.id)))


def test_reserved_records_go_to_their_annotator_first_and_to_no_one_else(
    fb: Feedback, hh_path: Path, tmp_path: Path
) -> None:
    fb.projects.create("helpful", "pairwise", overlap=1)
    fb.import_records("helpful", _small(hh_path, tmp_path))
    ids = _ids(fb, "helpful")
    alice, bob = team(fb, "helpful", 2)
    mine = ids[-3:]  # the last three in queue order: taken first all the same
    assert fb.assign("helpful", alice.name, records=mine) == 3
    assert fb.tasks.progress(fb.projects.get("helpful"), alice).reserved == 3
    got_bob = answer_all(fb, "helpful", [bob], lambda u, t: {"choice": "A"})
    assert sorted(r for _, r in got_bob) == sorted(ids[:-3])  # everything but alice's
    p = fb.projects.get("helpful")
    first = fb.tasks.next(p, alice)
    assert first.external_id == mine[0]
    fb.tasks.submit(p, alice, first.assignment_id, {"choice": "B"})
    got_alice = answer_all(fb, "helpful", [alice], lambda u, t: {"choice": "B"})
    assert sorted(r for _, r in got_alice) == sorted(mine[1:])
    assert fb.tasks.progress(p, alice).reserved == 0


def test_an_explicit_project_hands_out_only_what_was_reserved(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    fb.projects.create("helpful", "pairwise", overlap=2, assignment="explicit")
    fb.import_records("helpful", _small(hh_path, tmp_path))
    p = fb.projects.get("helpful")
    assert p.assignment == "explicit"
    a, b, c = team(fb, "helpful", 3)
    assert fb.tasks.next(p, a) is None  # nothing reserved yet: nothing to do
    assert fb.assign("helpful", a.name, count=4) == 4
    assert len(answer_all(fb, "helpful", [a], lambda u, t: {"choice": "A"})) == 4
    assert fb.assign("helpful", b.name, count=100) == 10  # one slot of every record, none twice
    assert fb.assign("helpful", a.name, count=100) == 6  # a already holds 4 records
    assert fb.assign("helpful", c.name, count=100) == 0  # every slot is reserved or answered: overlap 2 holds
    task = fb.tasks.next(p, b)
    fb.tasks.skip(p, b, task.assignment_id, "not sure")
    assert fb.unassign("helpful", b.name) == 9  # the skipped one was already given back
    assert fb.assign("helpful", c.name, count=100) == 10  # b's nine and the skipped slot
    given = answer_all(fb, "helpful", [a, b, c], lambda u, t: {"choice": "A"})
    assert len(given) == 6 + 10
    answers = fb.agreement("helpful").answers
    assert answers == 20 and set(Counter(r for _, r in given).values()) <= {1, 2}  # never past overlap 2


def test_assign_says_what_is_wrong(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    fb.projects.create("helpful", "pairwise", overlap=1)
    fb.import_records("helpful", _small(hh_path, tmp_path, 3))
    (ann,) = team(fb, "helpful", 1)
    fb.users.add("stranger", "annotator", password=password_of("stranger"))
    with pytest.raises(NotFound, match="no record 'nope'"):
        fb.assign("helpful", ann.name, records=["nope"])
    with pytest.raises(FeedbackError, match="not both"):
        fb.assign("helpful", ann.name, records=_ids(fb, "helpful"), count=1)
    with pytest.raises(FeedbackError, match="not a member"):
        fb.assign("helpful", "stranger", count=1)
    with pytest.raises(FeedbackError, match="assignment 'manual'"):
        fb.projects.create("other", "pairwise", assignment="manual")


def test_only_project_admins_assign_over_http(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    fb.projects.create("helpful", "pairwise", overlap=1, assignment="explicit")
    fb.import_records("helpful", _small(hh_path, tmp_path, 5))
    (ann,) = team(fb, "helpful", 1)
    fb.users.add("boss", "admin", password=password_of("boss"))
    with thread_server(fb) as url:
        annotator = login(url, ann.name, password_of(ann.name))
        assert annotator.post("/api/projects/helpful/next").json()["task"] is None
        denied = annotator.post("/api/projects/helpful/assign", json={"user": ann.name, "count": 5})
        assert denied.status_code == 403
        admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {fb.users.create_token('boss')}"})
        assert admin.post("/api/projects/helpful/assign", json={"user": ann.name, "count": 2}).json() == {"reserved": 2}
        assert admin.get("/api/projects/helpful").json()["assignment"] == "explicit"
        task = annotator.post("/api/projects/helpful/next").json()["task"]
        assert task is not None and task["record"] in _ids(fb, "helpful")[:2]
        assert admin.post("/api/projects/helpful/unassign", json={"user": ann.name}).json() == {"released": 1}


def test_admins_assign_and_edit_guidelines_from_the_project_page(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    from webserver import csrf_of

    fb.projects.create("helpful", "pairwise", overlap=1, assignment="explicit", guidelines="Prefer harmless.")
    fb.import_records("helpful", _small(hh_path, tmp_path, 5))
    (ann,) = team(fb, "helpful", 1)
    fb.users.add("boss", "admin", password=password_of("boss"))
    with thread_server(fb) as url:
        admin = login(url, "boss", password_of("boss"))
        page = admin.get("/p/helpful").text
        assert 'id="assign"' in page and "Prefer harmless." in page
        token = csrf_of(page)
        done = admin.post("/p/helpful/assign", data={"csrf": token, "user": ann.name, "count": "3"})
        assert done.status_code == 303 and "3%20of%203%20records%20reserved" in done.headers["location"]
        assert fb.tasks.progress(fb.projects.get("helpful"), ann).reserved == 3
        forged = admin.post("/p/helpful/assign", data={"user": ann.name, "count": "1"}, headers={"X-CSRF-Token": "x"})
        assert forged.status_code == 403
        saved = admin.post("/p/helpful/guidelines", data={"csrf": token, "guidelines": "v2 <script>alert(1)</script>"})
        assert saved.status_code == 303
        p = fb.projects.get("helpful")
        assert p.guideline_version == 2 and p.guidelines.startswith("v2")
        assert "<script>alert(1)</script>" not in admin.get("/p/helpful").text  # rendered inert

        annotator = login(url, ann.name, password_of(ann.name))
        mine = csrf_of(annotator.get("/p/helpful").text)
        assert 'id="assign"' not in annotator.get("/p/helpful").text
        assert (
            annotator.post("/p/helpful/assign", data={"csrf": mine, "user": ann.name, "count": "2"}).status_code == 403
        )
        assert annotator.post("/p/helpful/guidelines", data={"csrf": mine, "guidelines": "x"}).status_code == 403
