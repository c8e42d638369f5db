"""The REST API under /api (documented at /api/docs): tasks, answers, review, agreement, streamed
export. The same roles as the pages: any member annotates, reviewers and up review and export,
project admins import."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import orjson
from fastapi import APIRouter, Depends, File, HTTPException, Query, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from winnow.feedback.api.deps import ProjectAccess, feedback, require
from winnow.feedback.api.schemas import (
    AdjudicateIn,
    AssignIn,
    DraftIn,
    NextOut,
    ProjectOut,
    SkipIn,
    SubmitIn,
    SubmitOut,
    TaskOut,
    UnassignIn,
)
from winnow.feedback.service import FORMATS, Feedback, FeedbackExport, Task, iter_export
from winnow.feedback.store import Record

router = APIRouter(prefix="/api")


def task_out(task: Task) -> TaskOut:
    def plain(messages):  # type: ignore[no-untyped-def]
        return [{"role": m["role"], "content": m["content"]} for m in messages]

    return TaskOut(
        id=task.assignment_id, record=task.external_id, prompt=plain(task.prompt),
        candidates=[plain(c) for c in task.candidates], draft=task.draft, suggestion=task.suggestion,
        comment=task.comment,
    )  # fmt: skip


@router.get("/projects/{name}", response_model=ProjectOut)
def project(access: ProjectAccess = Depends(require("annotator")), fb: Feedback = Depends(feedback)) -> ProjectOut:
    p = access.project
    progress = fb.tasks.progress(p)
    return ProjectOut(
        name=p.name, task=p.task, overlap=p.overlap, blind=p.blind, assignment=p.assignment,
        guideline_version=p.guideline_version, question=p.question.settings,
        records=progress.records, complete=progress.complete, answers=progress.answers,
    )  # fmt: skip


@router.post("/projects/{name}/next", response_model=NextOut)
def next_task(access: ProjectAccess = Depends(require("annotator")), fb: Feedback = Depends(feedback)) -> NextOut:
    task, done = fb.tasks.next_and_done(access.project, access.user)
    return NextOut(task=task_out(task) if task else None, done=done)


@router.post("/projects/{name}/tasks/{task_id}/submit", response_model=SubmitOut)
def submit(
    task_id: int,
    body: SubmitIn,
    access: ProjectAccess = Depends(require("annotator")),
    fb: Feedback = Depends(feedback),
) -> SubmitOut:
    a = fb.tasks.submit(access.project, access.user, task_id, body.value, body.comment)
    return SubmitOut(id=a.id, record=str(a.record_id), state=a.state)


@router.post("/projects/{name}/tasks/{task_id}/draft")
def draft(
    task_id: int, body: DraftIn, access: ProjectAccess = Depends(require("annotator")),
    fb: Feedback = Depends(feedback),
) -> dict:  # fmt: skip
    """Keep the answer so far on the caller's open task (the annotate page sends it as they work):
    ``next`` returns it as ``draft``, so a reload or a later visit resumes where they were."""
    fb.tasks.save_draft(access.user, task_id, body.value, body.comment, project=access.project)
    return {"saved": task_id}


@router.post("/projects/{name}/tasks/{task_id}/skip")
def skip(
    task_id: int, body: SkipIn, access: ProjectAccess = Depends(require("annotator")), fb: Feedback = Depends(feedback)
) -> dict:
    fb.tasks.skip(access.project, access.user, task_id, body.reason)
    return {"skipped": task_id}


@router.post("/projects/{name}/undo", response_model=TaskOut | None)
def undo(access: ProjectAccess = Depends(require("annotator")), fb: Feedback = Depends(feedback)) -> TaskOut | None:
    task = fb.tasks.undo(access.project, access.user)
    return task_out(task) if task else None


@router.post("/projects/{name}/assign")
def assign(body: AssignIn, access: ProjectAccess = Depends(require("admin")), fb: Feedback = Depends(feedback)) -> dict:
    """Reserve records for one annotator (explicit assignment): they get them before anyone else."""
    return {"reserved": fb.assign(access.project.name, body.user, records=body.records, count=body.count)}


@router.post("/projects/{name}/unassign")
def unassign(
    body: UnassignIn, access: ProjectAccess = Depends(require("admin")), fb: Feedback = Depends(feedback)
) -> dict:
    return {"released": fb.unassign(access.project.name, body.user)}


@router.get("/projects/{name}/agreement")
def agreement(access: ProjectAccess = Depends(require("reviewer")), fb: Feedback = Depends(feedback)) -> dict:
    return dataclasses.asdict(fb.agreement(access.project.name))


@router.get("/projects/{name}/disagreements")
def disagreements(
    threshold: float = 1.0, access: ProjectAccess = Depends(require("reviewer")), fb: Feedback = Depends(feedback)
) -> list[dict]:
    return [dataclasses.asdict(d) for d in fb.review.disagreements(access.project, threshold)]


@router.get("/projects/{name}/records")
def records(
    after: int = 0, limit: int = Query(1000, ge=1, le=10000), access: ProjectAccess = Depends(require("reviewer")),
    fb: Feedback = Depends(feedback),
) -> dict:  # fmt: skip
    """The project's record ids, a page at a time in id order. Keyset pages: pass ``next`` back as
    ``after`` until it is null (a short page); no rows are skipped, so a late page costs what an early one does."""
    with fb.db.read() as s:
        rows = s.execute(
            select(Record.id, Record.external_id)
            .where(Record.project_id == access.project.id, Record.id > after)
            .order_by(Record.id)
            .limit(limit)
        ).all()
    return {"records": [{"id": i, "record": e} for i, e in rows], "next": rows[-1][0] if len(rows) == limit else None}


@router.post("/projects/{name}/records/{record_id}/adjudicate")
def adjudicate(
    record_id: int, body: AdjudicateIn, access: ProjectAccess = Depends(require("reviewer")),
    fb: Feedback = Depends(feedback),
) -> dict:  # fmt: skip
    fb.review.adjudicate(access.project, access.user, record_id, body.value, body.note)
    return {"adjudicated": record_id}


def stream_export(fb: Feedback, access: ProjectAccess, fmt: str, provenance: bool) -> StreamingResponse:
    """The export as a stream of JSON lines: rows go out as they are made, so no request waits for
    the whole file (and none can hit a proxy's timeout on a large project)."""
    if fmt not in FORMATS:
        raise HTTPException(400, f"unknown export format {fmt!r} (choices: {', '.join(FORMATS)})")
    summary = FeedbackExport(fmt, "-")

    def lines():  # type: ignore[no-untyped-def]
        buffer = []
        for row, prov in iter_export(fb.db, access.project, fmt, summary):
            buffer.append(orjson.dumps(prov if provenance else row))
            if len(buffer) >= 500:
                yield b"\n".join(buffer) + b"\n"
                buffer = []
        if buffer:
            yield b"\n".join(buffer) + b"\n"

    suffix = ".provenance" if provenance else ""
    filename = f"{access.project.name}-{fmt}{suffix}.jsonl"
    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/projects/{name}/export")
def export(
    format: str, provenance: bool = False, access: ProjectAccess = Depends(require("reviewer")),
    fb: Feedback = Depends(feedback),
) -> StreamingResponse:  # fmt: skip
    return stream_export(fb, access, format, provenance)


def import_upload(fb: Feedback, access: ProjectAccess, upload: UploadFile) -> dict:
    name = Path(upload.filename or "upload.jsonl").name
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        with open(path, "wb") as f:
            while chunk := upload.file.read(1 << 20):
                f.write(chunk)
        summary = fb.import_records(access.project.name, path)
    return {"added": summary.added, "duplicates": summary.duplicates, "file": name}


@router.post("/projects/{name}/import")
def import_file(
    file: UploadFile = File(...), access: ProjectAccess = Depends(require("admin")), fb: Feedback = Depends(feedback)
) -> dict:
    return import_upload(fb, access, file)
