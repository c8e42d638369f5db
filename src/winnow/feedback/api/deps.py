"""Who is asking, and may they: the signed session cookie, CSRF tokens, API tokens, project roles.

A session is an itsdangerous-signed cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) holding
the user id and that session's CSRF token; the signing secret is made at ``init`` and kept in the
database, so every worker shares it and there is no default. Every state-changing request made with
the cookie must carry the CSRF token (a form field ``csrf`` or the ``X-CSRF-Token`` header). An
``Authorization: Bearer`` API token needs no CSRF token: a browser never sends it on its own."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import NoReturn

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from winnow.feedback.service import Account, Feedback, ProjectInfo

COOKIE = "wfb_session"
SESSION_SECONDS = 12 * 3600
RANK = {"annotator": 0, "reviewer": 1, "admin": 2, "owner": 3}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass
class Session:
    user_id: int | None
    csrf: str
    changed: bool = False


class Sessions:
    def __init__(self, secret: str):
        self.signer = URLSafeTimedSerializer(secret, salt="winnow-feedback-session")

    def load(self, cookie: str | None) -> Session:
        if cookie:
            try:
                data = self.signer.loads(cookie, max_age=SESSION_SECONDS)
                return Session(data.get("u"), data["c"])
            except (BadSignature, KeyError, TypeError):
                pass
        return Session(None, secrets.token_urlsafe(24), changed=True)

    def dump(self, session: Session) -> str:
        return self.signer.dumps({"u": session.user_id, "c": session.csrf})


async def feedback(request: Request) -> Feedback:  # trivial dependencies are async: no thread hop
    return request.app.state.feedback


async def session(request: Request) -> Session:
    return request.state.session


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def check_csrf(request: Request, sent: str | None) -> None:
    if request.method in SAFE_METHODS or _bearer(request):
        return
    expected = request.state.session.csrf
    if not sent or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "missing or wrong CSRF token")


async def csrf_guard(request: Request) -> None:
    """Every state-changing request made with the session cookie carries the session's CSRF token."""
    if request.method in SAFE_METHODS or _bearer(request):
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        sent = form.get("csrf")  # type: ignore[assignment]
    check_csrf(request, sent if isinstance(sent, str) else None)


def optional_user(request: Request, fb: Feedback = Depends(feedback)) -> Account | None:
    token = _bearer(request)
    if token:
        account = fb.users.by_token(token)
        if account is None:
            raise HTTPException(401, "unknown API token", headers={"WWW-Authenticate": "Bearer"})
        return account
    user_id = request.state.session.user_id
    return fb.users.by_id(user_id) if user_id is not None else None


class LoginRequired(Exception):
    """Raised for a page (not the API) when nobody is logged in: the app redirects to /login."""


async def current_user(request: Request, account: Account | None = Depends(optional_user)) -> Account:
    if account is None:
        _not_logged_in(request)
    return account


def _not_logged_in(request: Request) -> NoReturn:
    if request.url.path.startswith("/api/"):
        raise HTTPException(401, "log in or send an API token", headers={"WWW-Authenticate": "Bearer"})
    raise LoginRequired


@dataclass
class ProjectAccess:
    project: ProjectInfo
    user: Account
    role: str

    def at_least(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


def project_access(name: str, request: Request, fb: Feedback = Depends(feedback)) -> ProjectAccess:
    """The project and the caller's role in it (one query: user or token, project, membership); a
    project they are not in is 404, as if it did not exist."""
    token = _bearer(request)
    user_id = request.state.session.user_id
    if token is None and user_id is None:
        _not_logged_in(request)
    account, project, role = fb.projects.access(name, user_id=user_id, token=token)
    if account is None:
        if token is not None:
            raise HTTPException(401, "unknown API token", headers={"WWW-Authenticate": "Bearer"})
        _not_logged_in(request)
    if project is None or role is None:
        raise HTTPException(404, f"no project {name!r}")
    return ProjectAccess(project, account, role)


def require(role: str):  # type: ignore[no-untyped-def]
    """A dependency: the caller's role in the project is at least ``role``."""

    async def check(access: ProjectAccess = Depends(project_access)) -> ProjectAccess:
        if not access.at_least(role):
            raise HTTPException(403, f"needs the {role} role in {access.project.name}")
        return access

    return check


async def admin_user(user: Account = Depends(current_user)) -> Account:
    if not user.is_admin:
        raise HTTPException(403, "needs the admin or owner role")
    return user
