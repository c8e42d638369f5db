"""A real uvicorn server on a free loopback port, in a thread or in its own process."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from winnow.feedback.api.app import create_app
from winnow.feedback.service import Feedback


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/login", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


@contextmanager
def thread_server(fb: Feedback) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(create_app(fb), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_up(url)
    yield url
    server.should_exit = True
    thread.join(10)


@contextmanager
def process_server(db_url: str, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    env = {**os.environ, "WINNOW_FEEDBACK_DB": db_url}
    cmd = [sys.executable, "-m", "winnow.cli", "feedback", "serve", "--db", db_url, "--port", str(port)]
    cmd += ["--workers", str(workers)]
    # its own process group: uvicorn's worker processes (--workers N) go down with it, even after a
    # SIGKILL of the supervisor, which would leave them orphaned and serving
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url)
        yield url, proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def login(url: str, name: str, password: str) -> httpx.Client:
    """A client logged in through the login form (CSRF token from the page, session cookie kept)."""
    client = httpx.Client(base_url=url, timeout=30, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"name": name, "password": password, "csrf": token, "next": "/"})
    assert response.status_code == 303, response.text
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/").text)
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
