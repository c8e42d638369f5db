"""The server-rendered pages (Jinja2, autoescaped; record markdown through ``render.markdown``)."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from winnow.feedback.api.deps import (
    RANK,
    ProjectAccess,
    Session,
    admin_user,
    current_user,
    feedback,
    require,
    session,
)
from winnow.feedback.api.plots import bar_chart
from winnow.feedback.api.render import answer_text, markdown, pre_text
from winnow.feedback.api.rest import import_upload
from winnow.feedback.service import FORMATS, Account, Feedback, FeedbackError, Forbidden, ProjectInfo
from winnow.feedback.service.questions import TASKS, parse_question
from winnow.feedback.service.users import RateLimited

router = APIRouter()
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["markdown"] = markdown
templates.env.filters["answer"] = answer_text
templates.env.filters["pre_text"] = pre_text


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("user", None)
    return templates.TemplateResponse(
        request, name, {"csrf": request.state.session.csrf, **context}, status_code=status
    )


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def local_path(target: str) -> str:
    """``target`` when it is a path on this site, else ``/`` (no open redirect through ?next=)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or ":" in target.split("?")[0]:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return page(request, "login.html", next=local_path(next))


@router.post("/login")
def login(
    request: Request, name: str = Form(...), password: str = Form(...), next: str = Form("/"),
    fb: Feedback = Depends(feedback), s: Session = Depends(session),
):  # type: ignore[no-untyped-def]  # fmt: skip
    address = request.client.host if request.client else ""
    try:
        account = fb.users.login(name, password, address)
    except RateLimited as error:
        return page(request, "login.html", 429, error=str(error), next=next)
    except Forbidden as error:
        return page(request, "login.html", 401, error=str(error), next=next)
    s.user_id = account.id
    s.csrf = secrets.token_urlsafe(24)  # a new session: no fixation of the old token
    s.changed = True
    return back(local_path(next))


@router.post("/logout")
def logout(s: Session = Depends(session)) -> RedirectResponse:
    s.user_id, s.changed = None, True
    s.csrf = secrets.token_urlsafe(24)
    return back("/login")


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: Account = Depends(current_user), fb: Feedback = Depends(feedback)) -> HTMLResponse:
    projects = [(p, fb.tasks.progress(p, user)) for p in fb.projects.list(user)]
    return page(request, "home.html", user=user, projects=projects)


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, user: Account = Depends(admin_user), fb: Feedback = Depends(feedback)) -> HTMLResponse:
    return page(request, "admin.html", user=user, users=fb.users.list(), tasks=TASKS, created=None)


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(
    request: Request, name: str = Form(...), role: str = Form(...), user: Account = Depends(admin_user),
    fb: Feedback = Depends(feedback),
) -> HTMLResponse:  # fmt: skip
    if role == "owner" and user.role != "owner":
        raise HTTPException(403, "only an owner makes owners")
    account, password = fb.users.add(name, role)
    return page(request, "admin.html", user=user, users=fb.users.list(), tasks=TASKS, created=(account, password))


@router.post("/admin/projects")
def add_project(
    name: str = Form(...), task: str = Form(...), overlap: int = Form(1), blind: bool = Form(False),
    guidelines: str = Form(""), labels: str = Form(""), questions: str = Form(""),
    user: Account = Depends(admin_user), fb: Feedback = Depends(feedback),
) -> RedirectResponse:  # fmt: skip
    label_list = [x.strip() for x in labels.split(",") if x.strip()] or None
    further = [parse_question(line.strip()) for line in questions.splitlines() if line.strip()]
    fb.projects.create(name, task, guidelines, overlap, blind, labels=label_list, questions=further or None)
    return back(f"/p/{name}")


@router.get("/p/{name}", response_class=HTMLResponse)
def project_page(
    request: Request, message: str = "", access: ProjectAccess = Depends(require("annotator")),
    fb: Feedback = Depends(feedback),
) -> HTMLResponse:  # fmt: skip
    p = access.project
    context: dict[str, Any] = {"progress": fb.tasks.progress(p, access.user), "report": None, "chart": None}
    if access.at_least("reviewer"):
        report = fb.agreement(p.name)
        context["report"] = report
        bars = [(a.user, a.agreement_with_consensus) for a in report.annotators]
        context["chart"] = bar_chart(bars, "agreement with the others' consensus")
    context["members"] = fb.projects.members(p.name) if access.at_least("admin") else []
    return page(
        request, "project.html", user=access.user, project=p, access=access, formats=FORMATS, message=message,
        **context,
    )  # fmt: skip


@router.post("/p/{name}/import")
def import_page(
    file: UploadFile = File(...), access: ProjectAccess = Depends(require("admin")), fb: Feedback = Depends(feedback)
) -> RedirectResponse:
    result = import_upload(fb, access, file)
    message = f"{result['added']} records added ({result['duplicates']} already there) from {result['file']}"
    return back(f"/p/{access.project.name}?message={quote(message)}")


@router.post("/p/{name}/members")
def add_member(
    user: str = Form(...), role: str = Form(...), access: ProjectAccess = Depends(require("admin")),
    fb: Feedback = Depends(feedback),
) -> RedirectResponse:  # fmt: skip
    if RANK.get(role, 99) > RANK[access.role]:
        raise HTTPException(403, "cannot give a role above your own")
    fb.projects.add_member(access.project.name, user, role)
    return back(f"/p/{access.project.name}")


@router.post("/p/{name}/assign")
def assign_page(
    user: str = Form(...), count: int = Form(...), access: ProjectAccess = Depends(require("admin")),
    fb: Feedback = Depends(feedback),
) -> RedirectResponse:  # fmt: skip
    """Reserve the next ``count`` records for one member (explicit assignment)."""
    if count < 1:
        raise FeedbackError("assign: a count of 1 or more")
    n = fb.assign(access.project.name, user, count=count)
    return back(f"/p/{access.project.name}?message={quote(f'{n} of {count} records reserved for {user}')}")


@router.post("/p/{name}/guidelines")
def guidelines_page(
    guidelines: str = Form(""), access: ProjectAccess = Depends(require("admin")), fb: Feedback = Depends(feedback)
) -> RedirectResponse:
    """New guideline text: the version goes up, and every answer keeps the version it was given under."""
    p = fb.projects.set_guidelines(access.project.name, guidelines)
    return back(f"/p/{p.name}?message={quote(f'guidelines saved as version {p.guideline_version}')}")


@router.get("/p/{name}/annotate", response_class=HTMLResponse)
def annotate(
    request: Request, access: ProjectAccess = Depends(require("annotator")), fb: Feedback = Depends(feedback)
) -> HTMLResponse:
    p = access.project
    task = fb.tasks.next(p, access.user)
    progress = fb.tasks.progress(p, access.user)
    others = fb.review.others(p, task.record_id, access.user) if task and not p.blind else []
    shortcuts = p.question.shortcuts(len(task.candidates)) if task else []
    return page(
        request, "annotate.html", user=access.user, project=p, task=task, progress=progress, shortcuts=shortcuts,
        others=others,
    )  # fmt: skip


def _value_from_form(form: Any, project: ProjectInfo) -> dict[str, Any]:
    """The answer a page's form sent: the main question's, and the further questions' (``q.<name>``
    fields; always a ``questions`` object when the project asks some, so a missing one is named)."""
    value = _main_value_from_form(form, project.task)
    extras = project.question.extras
    if extras:
        value["questions"] = {}
        for q in extras:
            picked = [str(x) for x in form.getlist(f"q.{q.name}")]
            if not picked and not q.settings.get("multi"):  # a multi-label one left blank: none applies
                continue
            if q.task == "rating":
                value["questions"][q.name] = {"rating": int(picked[0]) if picked[0].isdigit() else None}
            else:
                value["questions"][q.name] = {"labels": picked}
    return value


def _main_value_from_form(form: Any, task: str) -> dict[str, Any]:
    if task == "pairwise":
        return {"choice": form.get("choice")}
    if task == "rating":
        return {"rating": int(form["rating"]) if str(form.get("rating", "")).isdigit() else None}
    if task == "label":
        return {"labels": form.getlist("label") if hasattr(form, "getlist") else [form.get("label")]}
    if task == "spans":  # the page keeps the spans as JSON in a hidden field
        try:
            return {"spans": orjson.loads(str(form.get("spans") or "[]"))}
        except orjson.JSONDecodeError as error:
            raise FeedbackError("spans: the spans field is not JSON") from error
    if task == "ranking":
        raw = str(form.get("order", ""))
        return {"order": [int(x) - 1 for x in raw.replace(" ", "").split(",") if x.isdigit()]}
    return {"text": form.get("text")}


@router.post("/p/{name}/annotate/{task_id}")
async def submit_page(request: Request, task_id: int, access: ProjectAccess = Depends(require("annotator"))):  # type: ignore[no-untyped-def]
    from starlette.concurrency import run_in_threadpool

    fb: Feedback = request.app.state.feedback
    form = await request.form()
    comment = str(form.get("comment") or "") or None
    try:
        value = _value_from_form(form, access.project)
        await run_in_threadpool(fb.tasks.submit, access.project, access.user, task_id, value, comment)
    except FeedbackError as error:
        return page(request, "error.html", 400, user=access.user, error=str(error), project=access.project)
    return back(f"/p/{access.project.name}/annotate")


@router.post("/p/{name}/annotate/{task_id}/skip")
def skip_page(
    task_id: int, reason: str = Form(""), access: ProjectAccess = Depends(require("annotator")),
    fb: Feedback = Depends(feedback),
) -> RedirectResponse:  # fmt: skip
    fb.tasks.skip(access.project, access.user, task_id, reason)
    return back(f"/p/{access.project.name}/annotate")


@router.post("/p/{name}/undo")
def undo_page(access: ProjectAccess = Depends(require("annotator")), fb: Feedback = Depends(feedback)):  # type: ignore[no-untyped-def]
    fb.tasks.undo(access.project, access.user)
    return back(f"/p/{access.project.name}/annotate")


@router.get("/p/{name}/review", response_class=HTMLResponse)
def review(
    request: Request, threshold: float = 1.0, access: ProjectAccess = Depends(require("reviewer")),
    fb: Feedback = Depends(feedback),
) -> HTMLResponse:  # fmt: skip
    items = fb.review.disagreements(access.project, threshold)
    return page(request, "review.html", user=access.user, project=access.project, items=items, threshold=threshold)


@router.get("/p/{name}/review/{record_id}", response_class=HTMLResponse)
def review_item(
    request: Request, record_id: int, access: ProjectAccess = Depends(require("reviewer")),
    fb: Feedback = Depends(feedback),
) -> HTMLResponse:  # fmt: skip
    item = fb.review.item(access.project, record_id)
    shortcuts = access.project.question.shortcuts(len(item.candidates))
    return page(
        request, "review_item.html", user=access.user, project=access.project, item=item, shortcuts=shortcuts,
        answers=[dataclasses.asdict(a) for a in item.answers],
    )  # fmt: skip


@router.post("/p/{name}/review/{record_id}")
async def adjudicate_page(request: Request, record_id: int, access: ProjectAccess = Depends(require("reviewer"))):  # type: ignore[no-untyped-def]
    from starlette.concurrency import run_in_threadpool

    fb: Feedback = request.app.state.feedback
    form = await request.form()
    try:
        value = _value_from_form(form, access.project)
        await run_in_threadpool(fb.review.adjudicate, access.project, access.user, record_id, value, "")
    except FeedbackError as error:
        return page(request, "error.html", 400, user=access.user, error=str(error), project=access.project)
    return back(f"/p/{access.project.name}/review")
