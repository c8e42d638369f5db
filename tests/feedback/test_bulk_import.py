"""The bulk import path (ids reserved first, then executemany on SQLite, COPY on PostgreSQL): every
record gets its slots, ids repeated in the input count once, a project that already holds records
skips them, and the database's own id allocation goes on after the reserved ids."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
from sqlalchemy import func, select

from winnow.feedback.service import Feedback
from winnow.feedback.store import Assignment, ImportBatch, Record


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def test_bulk_import_slots_ids_and_duplicates_on_both_databases(fb: Feedback, hh_path: Path, tmp_path: Path) -> None:
    pairs = [orjson.loads(line) for line in gzip.decompress(hh_path.read_bytes()).splitlines()[:50]]
    first = _write(tmp_path / "a.jsonl", [{"id": f"r{i}", **p} for i, p in enumerate(pairs[:30])] + [
        {"id": "r3", **pairs[40]}])  # fmt: skip
    second = _write(tmp_path / "b.jsonl", [{"id": f"r{i}", **p} for i, p in enumerate(pairs) if i >= 20])
    fb.projects.create("two", "pairwise", overlap=2)
    fb.projects.create("three", "pairwise", overlap=3)
    a = fb.import_records("two", first)  # a fresh project: no lookup, r3 repeated in the file
    b = fb.import_records("three", second)
    c = fb.import_records("two", second)  # r20..r29 already held
    assert (a.added, a.duplicates) == (30, 1)
    assert (b.added, b.duplicates) == (30, 0)
    assert (c.added, c.duplicates) == (20, 10)
    with fb.db.write() as s:
        ids = s.scalars(select(Record.id)).all()
        assert len(ids) == len(set(ids)) == 80
        for name, overlap, count in (("two", 2, 50), ("three", 3, 30)):
            project = fb.projects.get(name)
            slots = s.execute(
                select(Record.external_id, func.count(Assignment.id), func.min(Assignment.slot), func.max(Assignment.slot))
                .join(Assignment, Assignment.record_id == Record.id)
                .where(Record.project_id == project.id, Assignment.project_id == project.id)
                .group_by(Record.external_id)
            ).all()  # fmt: skip
            assert len(slots) == count
            assert {(n, lo, hi) for _, n, lo, hi in slots} == {(overlap, 0, overlap - 1)}
        r3 = s.scalar(select(Record).where(Record.external_id == "r3", Record.project_id == fb.projects.get("two").id))
        assert r3.data["kind"] == "preference" and isinstance(r3.swap, bool)
        # the database's own id allocation (an ORM insert, no id given) goes on after the reserved ids
        batch = s.scalar(select(ImportBatch.id).limit(1))
        extra = Record(
            project_id=fb.projects.get("two").id, external_id="orm", import_id=batch, data={"k": 1}, swap=False
        )
        s.add(extra)
        s.flush()
        assert extra.id > max(ids)
        assert s.scalar(select(ImportBatch.records).where(ImportBatch.id == batch)) == 30
    # the first of two rows with one id is the one kept: the same content as pairs[3] imported alone
    fb.projects.create("ref", "pairwise", overlap=1)
    fb.import_records("ref", _write(tmp_path / "ref.jsonl", [{"id": "p3", **pairs[3]}, {"id": "p40", **pairs[40]}]))
    with fb.db.read() as s:
        ref = {
            r.external_id: r.data
            for r in s.scalars(select(Record).where(Record.project_id == fb.projects.get("ref").id))
        }
    keys = ("messages", "chosen", "rejected")
    assert [ref["p3"][k] for k in keys] != [ref["p40"][k] for k in keys]
    assert [r3.data[k] for k in keys] == [ref["p3"][k] for k in keys]
