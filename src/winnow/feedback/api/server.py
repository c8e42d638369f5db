"""Running the app: ``serve`` (uvicorn; N worker processes share the database and its session
secret). ``app_from_env`` is the factory uvicorn's workers import (the URL in WINNOW_FEEDBACK_DB)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from winnow.feedback.api.app import create_app
from winnow.feedback.service import Feedback

ENV = "WINNOW_FEEDBACK_DB"


def app_from_env() -> FastAPI:
    return create_app(Feedback.open(os.environ[ENV]))


def serve(db_url: str, host: str = "127.0.0.1", port: int = 8642, workers: int = 1) -> None:
    import uvicorn

    Feedback.open(db_url).users.secret()  # fails here, with the fix, when init was not run
    os.environ[ENV] = db_url
    uvicorn.run(
        "winnow.feedback.api.server:app_from_env", factory=True, host=host, port=port, workers=workers,
        log_level="warning", access_log=False,
    )  # fmt: skip
