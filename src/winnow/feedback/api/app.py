"""The ASGI app: ``create_app(Feedback)``. One router per concern (pages, REST API); the service
layer's errors become HTTP statuses here and nowhere else."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from winnow.feedback.api.deps import COOKIE, SESSION_SECONDS, LoginRequired, Sessions, csrf_guard
from winnow.feedback.service import Conflict, Feedback, FeedbackError, Forbidden, NotFound
from winnow.feedback.service.users import RateLimited

HERE = Path(__file__).parent
STATUS = [(RateLimited, 429), (NotFound, 404), (Forbidden, 403), (Conflict, 409), (FeedbackError, 400)]


def create_app(fb: Feedback) -> FastAPI:
    from winnow.feedback.api import pages, rest

    app = FastAPI(
        title="Winnow feedback", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
        dependencies=[Depends(csrf_guard)],
    )  # fmt: skip
    app.state.feedback = fb
    app.state.sessions = Sessions(fb.users.secret())
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(rest.router)
    app.include_router(pages.router)

    @app.middleware("http")
    async def sessions(request: Request, call_next):  # type: ignore[no-untyped-def]
        store: Sessions = request.app.state.sessions
        request.state.session = store.load(request.cookies.get(COOKIE))
        response = await call_next(request)
        session = request.state.session
        if session.changed:
            response.set_cookie(
                COOKIE, store.dump(session), max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                secure=request.url.scheme == "https", path="/",
            )  # fmt: skip
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        )
        return response

    @app.exception_handler(LoginRequired)
    async def login_first(request: Request, _error: LoginRequired):  # type: ignore[no-untyped-def]
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(FeedbackError)
    async def service_error(request: Request, error: FeedbackError):  # type: ignore[no-untyped-def]
        status = next(code for kind, code in STATUS if isinstance(error, kind))
        return JSONResponse({"detail": str(error)}, status_code=status)

    return app
