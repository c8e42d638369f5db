"""Records in: a Winnow run's output directory (its data/ parts) or any file the conversation
readers read (``winnow.io.chat``: TRL, OpenAI, ShareGPT, HH-RLHF, Alpaca, chat logs …).

One import is one transaction: a bad row (the reader names the file and the line), a record that
does not fit the task, or an over-long line fails the whole import and nothing of it is kept. A
record whose id the project already holds is not added again, so a re-import adds nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import xxhash
from sqlalchemy import select

from winnow.errors import InputError, WinnowError
from winnow.feedback.service.errors import FeedbackError
from winnow.feedback.service.items import require_fits
from winnow.feedback.service.projects import ProjectInfo
from winnow.feedback.service.users import now
from winnow.feedback.store import Database, ImportBatch, Record, json_text
from winnow.feedback.store.models import OPEN
from winnow.records import CONVERSATION_COLUMNS, decode_meta

MAX_LINE_BYTES = 64 << 20  # a JSON Lines row longer than this fails the import (a 2 GB line never reaches memory)
CHUNK = 2000  # records per INSERT round
ANALYZE_AFTER = 10_000  # PostgreSQL: refresh the planner statistics after an import this large


@dataclass
class ImportSummary:
    project: str
    path: str
    added: int = 0
    duplicates: int = 0  # ids the project already held (or repeated in the input)
    seconds: float = 0.0


def _check_lines(path: Path, limit: int) -> None:
    """Fail on the first line over ``limit`` bytes without reading more than ``limit`` of it."""
    from winnow.io.files import open_binary

    with open_binary(str(path)) as f:
        head = f.read(1)
        if head in (b"[", b""):
            return
        f.seek(0)
        number = 0
        while True:
            line = f.readline(limit + 1)
            if not line:
                return
            number += 1
            if len(line) > limit and not line.endswith(b"\n"):
                raise InputError(str(path), f"line {number}", f"longer than {limit:,} bytes")
            if not line.endswith(b"\n"):
                return


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
    return [path]


def read_batches(path: str | Path, fmt: str = "chat", max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[pa.Table]:
    """The record batches of ``path`` (a Winnow output directory, a file, a directory of files)."""
    from winnow.export.chat import iter_records
    from winnow.io.chat import read_conversations

    path = Path(path)
    if not path.exists():
        raise FeedbackError(f"import: {path} not found")
    if path.is_dir() and ((path / "data").is_dir() or (path / "_winnow").is_dir()):
        yield from iter_records(path)
        return
    for file in _files(path):
        if file.suffix not in (".parquet",):
            _check_lines(file, max_line_bytes)
        if file.suffix == ".parquet":
            yield from iter_records(file)
        else:
            yield read_conversations(str(file), format=fmt)


def _record_data(row: dict[str, Any]) -> dict[str, Any]:
    data = {k: row.get(k) for k in CONVERSATION_COLUMNS}
    for key in ("source", "url", "license", "collected_at", "input_file"):
        data[key] = row.get(key)
    meta = row.get("meta")
    data["meta"] = decode_meta(meta) if isinstance(meta, str) else (meta or {})
    return data


def swap_of(external_id: str) -> bool:
    return bool(xxhash.xxh64_intdigest(external_id.encode()) & 1)


def import_records(db: Database, project: ProjectInfo, path: str | Path, fmt: str = "chat") -> ImportSummary:
    """Add the records of ``path`` to ``project`` in one transaction (see the module doc)."""
    import time

    started = time.perf_counter()
    summary = ImportSummary(project.name, str(path))
    try:
        with db.write() as s:
            batch = ImportBatch(project_id=project.id, path=str(path), created_at=now())
            s.add(batch)
            s.flush()
            # a project with no records yet needs no lookup of the ids it already holds
            fresh_project = s.scalar(select(Record.id).where(Record.project_id == project.id).limit(1)) is None
            seen: set[str] = set()
            for table in read_batches(path, fmt):
                if "kind" not in table.column_names:
                    raise FeedbackError(f"import: {path} holds documents, not conversations or preferences")
                rows = table.to_pylist()
                for start in range(0, len(rows), CHUNK):
                    chunk = rows[start : start + CHUNK]
                    _insert_chunk(db, s, project, batch.id, chunk, seen, summary, lookup=not fresh_project)
            batch.records, batch.duplicates = summary.added, summary.duplicates
    except InputError:
        raise
    except (OSError, orjson.JSONDecodeError) as error:
        raise WinnowError(f"import: {path}: {error}") from None
    if db.postgres and summary.added >= ANALYZE_AFTER:
        db.analyze("records", "assignments")  # the planner's row counts, so the queue query keeps its index
    summary.seconds = time.perf_counter() - started
    return summary


def _insert_chunk(
    db, s, project: ProjectInfo, import_id: int, rows: list[dict], seen: set[str], summary, lookup: bool
) -> None:  # type: ignore[no-untyped-def]
    ids = [str(r["id"]) for r in rows]
    existing: set[str] = set()
    if lookup:
        existing = set(
            s.scalars(select(Record.external_id).where(Record.project_id == project.id, Record.external_id.in_(ids)))
        )
    fresh = []
    for row, rid in zip(rows, ids, strict=True):
        if rid in existing or rid in seen:
            summary.duplicates += 1
            continue
        seen.add(rid)
        data = _record_data(row)
        require_fits(project.task, data, f"{row.get('input_file') or summary.path}: record {rid}")
        fresh.append((rid, json_text(data), swap_of(rid)))
    if not fresh:
        return
    keys = db.reserve_ids(s, "records", len(fresh))
    records = [
        (key, project.id, rid, import_id, data, swap) for key, (rid, data, swap) in zip(keys, fresh, strict=True)
    ]
    db.bulk_insert(s, "records", ("id", "project_id", "external_id", "import_id", "data", "swap"), records)
    slots = [(project.id, row[0], k, OPEN) for row in records for k in range(project.overlap)]
    db.bulk_insert(s, "assignments", ("project_id", "record_id", "slot", "state"), slots)
    summary.added += len(records)
