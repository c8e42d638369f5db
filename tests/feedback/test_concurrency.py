"""Many annotators at the same instant, through the service on SQLite and PostgreSQL: every
acknowledged answer is stored exactly once and no record ever gets more than ``overlap`` answers.
(The HTTP load test is in test_api.py; the 50 × 60 s one is second tier.)"""

from __future__ import annotations

import gzip
import threading
import time
from collections import Counter
from pathlib import Path

from helpers import team
from sqlalchemy import func, select

from winnow.feedback.service import Conflict, Feedback
from winnow.feedback.store import Assignment, Record
from winnow.feedback.store.models import SUBMITTED


def test_concurrent_submitters_never_exceed_overlap(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    small = tmp_path / "hh.jsonl"
    small.write_bytes(b"\n".join(gzip.decompress(hh_path.read_bytes()).splitlines()[:60]) + b"\n")
    fb.projects.create("helpful", "pairwise", overlap=3)
    fb.import_records("helpful", small)
    p = fb.projects.get("helpful")
    people = team(fb, "helpful", 12)
    acknowledged: list[tuple[str, str]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 8
    start = threading.Barrier(len(people))

    def work(user) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        while time.monotonic() < deadline:
            try:
                task = fb.tasks.next(p, user)
                if task is None:
                    return
                fb.tasks.submit(p, user, task.assignment_id, {"choice": "A"})
            except Conflict:
                continue
            with lock:
                acknowledged.append((user.name, task.external_id))

    threads = [threading.Thread(target=work, args=(u,)) for u in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with fb.db.read() as s:
        stored = s.execute(
            select(Assignment.user_id, Record.external_id)
            .join(Record, Record.id == Assignment.record_id)
            .where(Assignment.state == SUBMITTED)
        ).all()
        assert s.scalar(select(func.count()).select_from(Assignment)) == 180
    assert len(acknowledged) == len(set(acknowledged)) == len(stored) > 0
    per_record = Counter(record for _, record in acknowledged)
    assert max(per_record.values()) <= 3
    names = {u.id: u.name for u in people}
    assert sorted((names[u], r) for u, r in stored) == sorted(acknowledged)
