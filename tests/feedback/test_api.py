"""The web app over real HTTP (uvicorn on loopback): sessions, CSRF, roles on every endpoint, API
tokens, untrusted record text, a bounded load test and a server killed mid-submit."""

from __future__ import annotations

import gzip
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson
import pytest
from helpers import password_of, team
from sqlalchemy import select
from webserver import csrf_of, login, process_server, thread_server

from winnow.feedback.service import Feedback
from winnow.feedback.store import Assignment, Record, User
from winnow.feedback.store.models import SUBMITTED


def _hh(hh_path: Path, tmp_path: Path, n: int) -> Path:
    out = tmp_path / "hh.jsonl"
    out.write_bytes(b"\n".join(gzip.decompress(hh_path.read_bytes()).splitlines()[:n]) + b"\n")
    return out


def _stored(fb: Feedback) -> list[tuple[str, str]]:
    with fb.db.read() as s:
        rows = s.execute(
            select(User.name, Record.external_id)
            .join(Assignment, Assignment.user_id == User.id)
            .join(Record, Record.id == Assignment.record_id)
            .where(Assignment.state == SUBMITTED)
        ).all()
    return sorted((u, r) for u, r in rows)


def test_sessions_csrf_and_roles_on_every_endpoint(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    fb.projects.create("helpful", "pairwise", overlap=2, blind=True)
    fb.projects.create("secret", "pairwise", overlap=1)
    fb.import_records("helpful", _hh(hh_path, tmp_path, 5))
    fb.import_records("secret", _hh(hh_path, tmp_path, 5))
    (ann,) = team(fb, "helpful", 1)
    with thread_server(fb) as url:
        anonymous = httpx.Client(base_url=url)
        assert anonymous.get("/p/helpful").status_code == 303  # to /login
        assert anonymous.post("/api/projects/helpful/next").status_code in (401, 403)
        assert anonymous.get("/api/projects/helpful/export?format=trl-dpo").status_code == 401
        fresh = httpx.Client(base_url=url)
        page = fresh.get("/login")
        cookie = page.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        no_csrf = fresh.post("/login", data={"name": "annotator0", "password": "pw-annotator0-long"})
        assert no_csrf.status_code == 403
        wrong = fresh.post("/login", data={"name": "annotator0", "password": "x", "csrf": csrf_of(page.text)})
        assert wrong.status_code == 401
        token = csrf_of(fresh.get("/login").text)
        away = fresh.post("/login", data={"name": "annotator0", "password": "pw-annotator0-long", "csrf": token,
                                          "next": "/\\evil.example/"})  # fmt: skip
        assert away.status_code == 303 and away.headers["location"] == "/"  # no open redirect after login

        client = login(url, "annotator0", "pw-annotator0-long")
        assert client.post("/api/projects/helpful/next", headers={"X-CSRF-Token": "forged"}).status_code == 403
        task = client.post("/api/projects/helpful/next").json()["task"]
        assert task["candidates"] and len(task["candidates"]) == 2
        draft = f"/api/projects/helpful/tasks/{task['id']}/draft"
        assert (
            client.post(draft, json={"value": {"choice": "B"}}, headers={"X-CSRF-Token": "forged"}).status_code == 403
        )
        assert anonymous.post(draft, json={"value": {"choice": "B"}}).status_code in (401, 403)
        assert client.post(draft, json={"value": {"choice": "B"}, "comment": "maybe B"}).status_code == 200
        again = client.post("/api/projects/helpful/next").json()["task"]
        assert (again["id"], again["draft"], again["comment"]) == (task["id"], {"choice": "B"}, "maybe B")
        other = f"/api/projects/helpful/tasks/{task['id'] + 1}/draft"
        assert client.post(other, json={"value": {"choice": "B"}}).status_code == 404  # not their task
        ok = client.post(f"/api/projects/helpful/tasks/{task['id']}/submit", json={"value": {"choice": "A"}})
        assert ok.status_code == 200 and ok.json()["state"] == "submitted"
        assert client.get("/api/projects/helpful/export?format=trl-dpo").status_code == 403  # annotators never export
        assert client.get("/api/projects/helpful/agreement").status_code == 403
        assert client.get("/api/projects/helpful/disagreements").status_code == 403
        assert client.get("/p/helpful/review").status_code == 403
        assert client.get("/admin").status_code == 403
        assert client.post("/admin/users", data={"name": "evil", "role": "owner"}).status_code == 403
        assert client.get("/api/projects/secret").status_code == 404  # another project: as if it did not exist
        assert client.post("/api/projects/secret/next").status_code == 404
        bad = client.post(f"/api/projects/helpful/tasks/{task['id'] + 1}/submit", json={"value": {"choice": "A"}})
        assert bad.status_code == 404  # a task leased to no one (or someone else)

        fb.users.add("rita", "reviewer", password="pw-rita-long-enough")
        fb.projects.add_member("helpful", "rita", "reviewer")
        token = fb.users.create_token("rita")
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})
        assert api.get("/api/projects/helpful/agreement").status_code == 200
        lines = api.get("/api/projects/helpful/export?format=trl-dpo").content.splitlines()
        assert len(lines) == 1 and set(orjson.loads(lines[0])) == {"prompt", "chosen", "rejected"}
        assert api.post("/api/projects/helpful/next").status_code == 200  # a bearer token needs no CSRF token
        assert api.get("/api/projects/secret").status_code == 404
        forged = httpx.Client(base_url=url, headers={"Authorization": "Bearer wfb_not-a-token"})
        assert forged.get("/api/projects/helpful").status_code == 401


def test_record_text_renders_inert(fb: Feedback, tmp_path: Path) -> None:
    evil = tmp_path / "evil.jsonl"
    row = {
        "prompt": [{"role": "user", "content": "Hi <script>alert('x')</script> <img src=x onerror=alert(1)>"}],
        "chosen": [{"role": "assistant", "content": "[click me](javascript:alert(1)) and **bold**"}],
        "rejected": [{"role": "assistant", "content": '<a href="javascript:alert(2)">raw link</a>'}],
    }
    evil.write_bytes(orjson.dumps(row) + b"\n")
    fb.projects.create("helpful", "pairwise", overlap=1)
    fb.import_records("helpful", evil)
    team(fb, "helpful", 1)
    with thread_server(fb) as url:
        html = login(url, "annotator0", "pw-annotator0-long").get("/p/helpful/annotate").text
    assert "<script>alert" not in html and "&lt;script&gt;alert('x')&lt;/script&gt;" in html  # shown as text
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "[click me](javascript:alert(1))" in html  # the refused link stays plain text
    assert "&lt;a href=&quot;javascript:alert(2)&quot;&gt;" in html
    task = html.split('id="task"')[1].split("</section>")[0]
    assert "<a " not in task and "javascript" not in task.replace("(javascript:alert(1))", "").replace(
        "&quot;javascript:alert(2)&quot;", ""
    )  # no link at all in the record, and the word only inside the escaped text
    assert "<strong>bold</strong>" in html  # markdown still renders


def _annotator_loop(
    client: httpx.Client, name: str, deadline: float, acked: list, lock: threading.Lock, doubt=None
) -> None:  # type: ignore[no-untyped-def]
    """Next + submit until the deadline; ``acked`` gets what the server acknowledged, ``doubt`` the
    submits whose reply never came (a timeout, a killed server): those may or may not be stored."""
    while time.monotonic() < deadline:
        reply = client.post("/api/projects/helpful/next")
        if reply.status_code == 409:  # the queue was busy: ask again
            continue
        task = reply.json()["task"]
        if task is None:
            return
        try:
            r = client.post(f"/api/projects/helpful/tasks/{task['id']}/submit", json={"value": {"choice": "B"}})
        except httpx.HTTPError:
            if doubt is not None:
                with lock:
                    doubt.append((name, task["record"]))
            raise
        if r.status_code == 200:
            with lock:
                acked.append((name, task["record"]))


@pytest.mark.parametrize(
    ("clients", "seconds", "records"),
    [(20, 6, 400), pytest.param(50, 60, None, marks=pytest.mark.full, id="50x60s")],
)
def test_concurrent_http_submitters_end_with_exactly_the_acknowledged(
    fb: Feedback, hh_path: Path, tmp_path: Path, clients: int, seconds: int, records: int | None, request
) -> None:
    """A bounded loopback load test: ``clients`` annotators for ``seconds``; the issue's 50 × 60 s is second
    tier, on the whole HH-RLHF harmless test set (2,312 pairs, 6,936 slots: more than 60 s can answer)."""
    fb.projects.create("helpful", "pairwise", overlap=3)
    if records is None:
        fb.import_records("helpful", request.getfixturevalue("full_data") / "sft/hh-rlhf/harmless-base-test.jsonl.gz")
    else:
        fb.import_records("helpful", _hh(hh_path, tmp_path, records))
    people = team(fb, "helpful", clients)
    acked: list[tuple[str, str]] = []
    doubt: list[tuple[str, str]] = []
    lock = threading.Lock()
    with thread_server(fb) as url:
        sessions = {
            u.name: login(url, u.name, password_of(u.name)) for u in people
        }  # logged in before the clock starts
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=_annotator_loop, args=(c, name, deadline, acked, lock, doubt))
            for name, c in sessions.items()
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert acked  # how many is a benchmark's business (benchmarks/feedback_bench.py), not this test's
    stored = _stored(fb)
    assert len(stored) == len(set(stored)) and set(acked) <= set(stored)  # nothing lost, nothing doubled
    assert set(stored) - set(acked) <= set(doubt)  # anything else had its reply lost (a client timeout)
    assert max(Counter(r for _, r in acked).values()) <= 3


def test_killing_the_server_mid_submit_loses_nothing_acknowledged(
    fb: Feedback, db_url: str, hh_path: Path, tmp_path: Path
) -> None:
    fb.projects.create("helpful", "pairwise", overlap=2)
    fb.import_records("helpful", _hh(hh_path, tmp_path, 400))
    people = team(fb, "helpful", 6)
    acked: list[tuple[str, str]] = []
    doubt: list[tuple[str, str]] = []
    lock = threading.Lock()
    with process_server(db_url) as (url, proc):
        sessions = {u.name: login(url, u.name, password_of(u.name)) for u in people}
        deadline = time.monotonic() + 30

        def loop(name: str) -> None:
            try:
                _annotator_loop(sessions[name], name, deadline, acked, lock, doubt)
            except httpx.HTTPError:
                return  # the server is gone: whatever was acknowledged must be stored

        threads = [threading.Thread(target=loop, args=(u.name,)) for u in people]
        for t in threads:
            t.start()
        while len(acked) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.kill()  # SIGKILL, in the middle of the submits
        for t in threads:
            t.join()
    assert len(acked) >= 20
    stored = set(_stored(fb))
    assert set(acked) <= stored  # every acknowledged answer survived the kill
    assert stored - set(acked) <= set(doubt)  # and the others were in flight when it died


def test_several_worker_processes_share_the_queue_without_overshoot(
    fb: Feedback, db_url: str, hh_path: Path, tmp_path: Path
) -> None:
    """``serve --workers 2``: two processes take slots from one database (on SQLite they meet only at
    its file lock, not at the in-process lock), and still no answer is lost or doubled."""
    fb.projects.create("helpful", "pairwise", overlap=2)
    fb.import_records("helpful", _hh(hh_path, tmp_path, 60))
    people = team(fb, "helpful", 8)
    acked: list[tuple[str, str]] = []
    lock = threading.Lock()
    with process_server(db_url, workers=2) as (url, _):
        sessions = {u.name: login(url, u.name, password_of(u.name)) for u in people}
        deadline = time.monotonic() + 60  # ends sooner: 120 slots
        threads = [
            threading.Thread(target=_annotator_loop, args=(c, name, deadline, acked, lock))
            for name, c in sessions.items()
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    stored = _stored(fb)
    assert sorted(acked) == stored  # every slot answered once, each acknowledged exactly once
    assert len(stored) == 120 and set(Counter(r for _, r in stored).values()) == {2}


@pytest.mark.parametrize("fmt", ["trl-dpo", "winnow"])
def test_streamed_export_equals_the_file_export(fb: Feedback, hh_path: Path, tmp_path: Path, fmt: str) -> None:
    fb.projects.create("helpful", "pairwise", overlap=1)
    fb.import_records("helpful", _hh(hh_path, tmp_path, 30))
    p = fb.projects.get("helpful")
    (ann,) = team(fb, "helpful", 1)
    while (task := fb.tasks.next(p, ann)) is not None:
        fb.tasks.submit(p, ann, task.assignment_id, {"choice": "A" if task.record_id % 2 else "B"})
    fb.users.add("admin", "admin", password="pw-admin-long-enough")
    fb.export("helpful", fmt, tmp_path / "out.jsonl")
    with thread_server(fb) as url:
        client = login(url, "admin", "pw-admin-long-enough")
        with client.stream("GET", f"/api/projects/helpful/export?format={fmt}") as response:
            assert response.headers["content-type"].startswith("application/x-ndjson")
            streamed = b"".join(response.iter_bytes())
        provenance = client.get(f"/api/projects/helpful/export?format={fmt}&provenance=true").content
    assert streamed.splitlines() == (tmp_path / "out.jsonl").read_bytes().splitlines()
    if fmt != "winnow":
        assert provenance.splitlines() == (tmp_path / "out.jsonl.provenance.jsonl").read_bytes().splitlines()


def test_record_ids_listed_by_keyset_pages(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    fb.projects.create("helpful", "pairwise", overlap=1)
    fb.projects.create("other", "pairwise", overlap=1)
    fb.import_records("other", _hh(hh_path, tmp_path, 3))
    fb.import_records("helpful", _hh(hh_path, tmp_path, 25))
    with fb.db.read() as s:
        expected = s.execute(
            select(Record.id, Record.external_id)
            .where(Record.project_id == fb.projects.get("helpful").id)
            .order_by(Record.id)
        ).all()
    team(fb, "helpful", 1)
    fb.users.add("rita", "reviewer", password="pw-rita-long-enough")
    fb.projects.add_member("helpful", "rita", "reviewer")
    with thread_server(fb) as url:
        assert httpx.get(url + "/api/projects/helpful/records").status_code == 401
        annotator = login(url, "annotator0", "pw-annotator0-long")
        assert annotator.get("/api/projects/helpful/records").status_code == 403
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {fb.users.create_token('rita')}"})
        assert api.get("/api/projects/helpful/records?limit=10001").status_code == 422
        got, after, pages = [], 0, 0
        while after is not None:
            page = api.get(f"/api/projects/helpful/records?after={after}&limit=10").json()
            got += [(r["id"], r["record"]) for r in page["records"]]
            after, pages = page["next"], pages + 1
        assert got == [tuple(r) for r in expected] and len(got) == 25 and pages == 3
        whole = api.get("/api/projects/helpful/records").json()
        assert whole["next"] is None and len(whole["records"]) == 25
        assert api.get("/api/projects/secret-or-missing/records").status_code == 404
