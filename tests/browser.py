"""Browser fixtures shared by every test folder (a pytest plugin, registered in tests/conftest.py).

pytest-playwright provides ``browser`` (one per session), ``context`` and ``page`` (one per test);
``browser_type_launch_args`` below makes them launch Debian's /usr/bin/chromium (installed by
scripts/install-browser.sh, which ``make test`` runs) instead of a browser downloaded by
``playwright install``, which we never use. A missing chromium fails the test, never skips it.

``watch(page)`` (or the ``page_log`` fixture) records what a page reports: console errors, uncaught
exceptions and every network request. Tests that use a browser fixture get the ``browser`` marker."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, Request

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",  # chromium refuses to start as root with its sandbox
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BROWSER_FIXTURES = {"browser", "context", "page", "new_context", "launch_browser", "page_log"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options (--headed, --slowmo, ...) plus Debian's chromium and its flags."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: run `bash scripts/install-browser.sh` (make test does); "
            "the browser tests need Debian's chromium, not `playwright install`",
            pytrace=False,
        )
    args = [*FLAGS, *browser_type_launch_args.get("args", [])]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": args}


@dataclass
class PageLog:
    """What one page reported since ``watch`` was called."""

    console_errors: list[str] = field(default_factory=list)  # console.error/assert and browser log errors
    page_errors: list[str] = field(default_factory=list)  # uncaught exceptions and rejected promises
    requests: list[str] = field(default_factory=list)  # every URL the page asked for, in order
    failed: list[str] = field(default_factory=list)  # requests that failed (refused, blocked, missing file)

    @property
    def errors(self) -> list[str]:
        return self.console_errors + self.page_errors + self.failed


def watch(page: Page) -> PageLog:
    """Start recording the console errors, page errors and network requests of ``page``."""
    log = PageLog()

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "assert"):
            log.console_errors.append(
                f"{message.text} ({message.location.get('url')}:{message.location.get('lineNumber')})"
            )

    def on_failed(request: Request) -> None:
        log.failed.append(f"{request.url}: {request.failure}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: log.page_errors.append(f"{error.name}: {error.message}\n{error.stack}"))
    page.on("request", lambda request: log.requests.append(request.url))
    page.on("requestfailed", on_failed)
    return log


@pytest.fixture
def page_log(page: Page) -> PageLog:
    """The ``PageLog`` of pytest-playwright's ``page``, recording from before the first navigation."""
    return watch(page)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
