"""The shared browser plugin (tests/browser.py) on a page that misbehaves on purpose: Debian's
chromium is the browser driven, and every kind of error and request is recorded."""

from __future__ import annotations

import subprocess
from pathlib import Path

from playwright.sync_api import Browser, Page

from browser import CHROMIUM, PageLog

BAD_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>bad</title></head><body>
<img src="missing.png">
<script>
console.log("fine");
console.error("logged error");
fetch("http://127.0.0.1:9/refused").catch(() => {});
setTimeout(() => { throw new Error("thrown later"); }, 0);
</script></body></html>"""


def test_the_browser_is_debians_chromium(browser: Browser) -> None:
    version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=True).stdout
    assert browser.browser_type.name == "chromium"
    assert browser.version.split(".")[0] in version  # "Chromium 156.0.... built on Debian"


def test_page_log_records_errors_and_requests(page: Page, page_log: PageLog, tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text(BAD_PAGE)
    page.goto(bad.as_uri())
    page.wait_for_timeout(500)
    assert any(e.startswith("logged error") for e in page_log.console_errors), page_log.console_errors
    assert not any("fine" in e for e in page_log.console_errors)
    assert [e.splitlines()[0] for e in page_log.page_errors] == ["Error: thrown later"]
    assert page_log.requests[0] == bad.as_uri()
    assert (tmp_path / "missing.png").as_uri() in page_log.requests
    assert "http://127.0.0.1:9/refused" in page_log.requests
    assert {url.split(": ")[0] for url in page_log.failed} >= {
        (tmp_path / "missing.png").as_uri(),
        "http://127.0.0.1:9/refused",
    }
    assert len(page_log.errors) >= 4
