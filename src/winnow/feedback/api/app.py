"""The ASGI app: ``create_app(Feedback)``. One router per concern (pages, REST API); the service
layer's errors become HTTP statuses here and nowhere else."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie
from pathlib import Path

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from winnow.feedback.api.deps import COOKIE, SESSION_SECONDS, LoginRequired, Sessions, csrf_guard
from winnow.feedback.service import Conflict, Feedback, FeedbackError, Forbidden, NotFound
from winnow.feedback.service.users import RateLimited

HERE = Path(__file__).parent
STATUS = [(RateLimited, 429), (NotFound, 404), (Forbidden, 403), (Conflict, 409), (FeedbackError, 400)]
THREADS_ENV = "WINNOW_FEEDBACK_THREADS"
THREADS = 8  # worker threads for the sync endpoints: enough to overlap database waits, few enough to not thrash
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    ),
]


class SessionMiddleware:
    """The session cookie in (``request.state.session``) and out (set when the session changed), and
    the security headers on every response. A plain ASGI middleware: no extra task or stream per
    request, as Starlette's ``BaseHTTPMiddleware`` would add."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        store: Sessions = scope["app"].state.sessions
        cookie = None
        for key, value in scope["headers"]:
            if key == b"cookie":
                cookie = cookie_parser(value.decode("latin-1")).get(COOKIE)
                break
        session = store.load(cookie)
        scope.setdefault("state", {})["session"] = session

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                headers += [(key, value) for key, value in SECURITY_HEADERS if key not in present]
                if session.changed:
                    headers.append((b"set-cookie", _cookie(store.dump(session), scope["scheme"] == "https")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookie(value: str, secure: bool) -> bytes:
    cookie: SimpleCookie = SimpleCookie()
    cookie[COOKIE] = value
    morsel = cookie[COOKIE]
    morsel["max-age"], morsel["path"], morsel["httponly"], morsel["samesite"] = SESSION_SECONDS, "/", True, "strict"
    if secure:
        morsel["secure"] = True
    return cookie.output(header="").strip().encode("latin-1")


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = int(os.environ.get(THREADS_ENV) or THREADS)
    yield


def create_app(fb: Feedback) -> FastAPI:
    from winnow.feedback.api import pages, rest

    app = FastAPI(
        title="Winnow feedback", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
        dependencies=[Depends(csrf_guard)], lifespan=_lifespan,
    )  # fmt: skip
    app.state.feedback = fb
    app.state.sessions = Sessions(fb.users.secret())
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(rest.router)
    app.include_router(pages.router)

    app.add_middleware(SessionMiddleware)

    @app.exception_handler(LoginRequired)
    async def login_first(request: Request, _error: LoginRequired):  # type: ignore[no-untyped-def]
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(FeedbackError)
    async def service_error(request: Request, error: FeedbackError):  # type: ignore[no-untyped-def]
        status = next(code for kind, code in STATUS if isinstance(error, kind))
        return JSONResponse({"detail": str(error)}, status_code=status)

    return app
