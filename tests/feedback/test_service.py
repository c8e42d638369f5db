"""The feedback service on SQLite and PostgreSQL: accounts, import, work distribution, review."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
from helpers import answer_all, team
from sqlalchemy import func, select

from winnow.errors import InputError
from winnow.feedback.service import Conflict, Feedback, FeedbackError, Forbidden, importing
from winnow.feedback.store import Assignment, Record, User


def test_users_hash_passwords_with_argon2_and_limit_failed_logins(fb: Feedback) -> None:
    account, password = fb.users.add("alice", "admin")
    assert len(password) >= 12
    with fb.db.read() as s:
        stored = s.scalar(select(User.password_hash).where(User.name == "alice"))
    assert stored.startswith("$argon2id$") and password not in stored
    assert fb.users.login("alice", password, "127.0.0.1") == account
    for _ in range(10):
        with pytest.raises(Forbidden, match="wrong user name or password"):
            fb.users.login("alice", "not it", "127.0.0.1")
    with pytest.raises(Forbidden, match="too many failed logins"):
        fb.users.login("alice", password, "127.0.0.1")  # even the right password, until the window passes
    token = fb.users.create_token("alice")
    assert fb.users.by_token(token) == account and fb.users.by_token(token + "x") is None


def test_import_reads_hh_rlhf_and_a_reimport_adds_nothing(fb: Feedback, hh_path: Path) -> None:
    fb.projects.create("helpful", "pairwise", overlap=3)
    first = fb.import_records("helpful", hh_path)
    again = fb.import_records("helpful", hh_path)
    assert (first.added, first.duplicates) == (400, 0)
    assert (again.added, again.duplicates) == (0, 400)
    with fb.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 400
        assert s.scalar(select(func.count()).select_from(Assignment)) == 1200  # overlap 3: three slots each
        record = s.scalars(select(Record).order_by(Record.id)).first()
    assert record.data["kind"] == "preference" and record.data["chosen"][0]["role"] == "assistant"


def test_a_bad_row_fails_the_import_with_file_and_line_and_keeps_nothing(
    fb: Feedback, hh_path: Path, tmp_path: Path
) -> None:
    fb.projects.create("helpful", "pairwise", overlap=1)
    lines = gzip.decompress(hh_path.read_bytes()).splitlines()[:30]
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\n".join([*lines[:20], b'{"chosen": "no transcript", "rejected": 3}', *lines[20:]]) + b"\n")
    with pytest.raises(InputError) as error:
        fb.import_records("helpful", bad)
    assert error.value.file.endswith("bad.jsonl") and error.value.location == "line 21"
    missing = tmp_path / "missing.jsonl"
    missing.write_bytes(lines[0] + b"\n" + b'{"prompt_only": 1}\n')
    with pytest.raises(InputError, match="line 2"):
        fb.import_records("helpful", missing)
    long = tmp_path / "long.jsonl"
    long.write_bytes(lines[0] + b"\n" + b'{"chosen": "' + b"x" * 2_000_000 + b'"}\n')
    with pytest.raises(InputError, match="line 2: longer than"):  # read no further than the limit
        list(importing.read_batches(long, max_line_bytes=1_000_000))
    sharegpt = Path(__file__).resolve().parents[1] / "data" / "chat" / "openai_sft.jsonl"
    with pytest.raises(FeedbackError, match="pairwise task needs two or more responses"):
        fb.import_records("helpful", sharegpt)
    with fb.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 0  # nothing of any failed batch


def test_overlap_and_no_record_twice_for_one_annotator(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    small = tmp_path / "hh.jsonl"
    small.write_bytes(b"\n".join(gzip.decompress(hh_path.read_bytes()).splitlines()[:10]) + b"\n")
    fb.projects.create("helpful", "pairwise", overlap=2)
    fb.import_records("helpful", small)
    people = team(fb, "helpful", 3)
    given = answer_all(fb, "helpful", people, lambda user, task: {"choice": "A"})
    assert len(given) == 20  # 10 records × overlap 2, whoever answered them
    per_record: dict[str, int] = {}
    for _, record in given:
        per_record[record] = per_record.get(record, 0) + 1
    assert set(per_record.values()) == {2}
    p = fb.projects.get("helpful")
    assert all(fb.tasks.next(p, u) is None for u in people)
    progress = fb.tasks.progress(p, people[0])
    assert (progress.records, progress.complete, progress.answers) == (10, 10, 20)


def test_skip_undo_and_retried_submit(fb: Feedback, hh_path: Path) -> None:
    fb.projects.create("helpful", "pairwise", overlap=1)
    fb.import_records("helpful", hh_path)
    p = fb.projects.get("helpful")
    ann, other = team(fb, "helpful", 2)
    first = fb.tasks.next(p, ann)
    assert fb.tasks.next(p, ann) == first  # the lease is kept until answered
    fb.tasks.skip(p, ann, first.assignment_id, "unsure about the policy")
    second = fb.tasks.next(p, ann)
    assert second.record_id != first.record_id
    assert fb.tasks.next(p, other).record_id == first.record_id  # the skipped slot went back to the queue
    fb.tasks.submit(p, ann, second.assignment_id, {"choice": "B"})
    fb.tasks.submit(p, ann, second.assignment_id, {"choice": "B"})  # a retry: acknowledged, not doubled
    with pytest.raises(Conflict):
        fb.tasks.submit(p, ann, second.assignment_id, {"choice": "A"})
    with pytest.raises(FeedbackError, match="choice must be one of"):
        fb.tasks.submit(p, ann, fb.tasks.next(p, ann).assignment_id, {"choice": "C"})
    undone = fb.tasks.undo(p, ann)
    assert undone.record_id == second.record_id and undone.draft == {"choice": "B"}
    fb.tasks.submit(p, ann, undone.assignment_id, {"choice": "A"})
    assert fb.tasks.progress(p, ann).done == 1 and fb.tasks.progress(p, ann).skipped == 1


def test_adjudication_wins_and_disagreements_are_listed(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    small = tmp_path / "hh.jsonl"
    small.write_bytes(b"\n".join(gzip.decompress(hh_path.read_bytes()).splitlines()[:4]) + b"\n")
    fb.projects.create("helpful", "pairwise", overlap=3)
    fb.import_records("helpful", small)
    people = team(fb, "helpful", 3)
    reviewer = team(fb, "helpful", 1, "reviewer")[0]
    answer_all(fb, "helpful", people, lambda user, task: {"choice": "B" if user is people[2] else "A"})
    p = fb.projects.get("helpful")
    listed = fb.review.disagreements(p)
    assert len(listed) == 4 and all(abs(d.agreement - 2 / 3) < 1e-9 for d in listed)
    fb.review.adjudicate(p, reviewer, listed[0].record_id, {"choice": "B"})
    assert len(fb.review.disagreements(p)) == 3
    out = tmp_path / "dpo.jsonl"
    fb.export("helpful", "winnow", out)
    rows = {r["id"]: r for r in map(orjson.loads, out.read_bytes().splitlines())}
    adjudicated = rows[listed[0].external_id]["meta"]["feedback"]
    assert adjudicated["answer"] == {"choice": "B"} and adjudicated["adjudicated_by"] == "reviewer0"
    assert adjudicated["annotators"] == ["annotator0", "annotator1", "annotator2"]
