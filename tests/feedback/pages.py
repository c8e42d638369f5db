"""What the browser tests do the same way on every page: log in with the keyboard, create a project
through the admin page, keep a screenshot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import Page


def shot(page: Page, tmp_path: Path, name: str) -> None:
    """A full-page screenshot in the test's tmp dir (WINNOW_SCREENSHOTS=DIR keeps a copy)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("WINNOW_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def login_with_keys(page: Page, url: str, name: str, password: str) -> None:
    page.bring_to_front()
    page.goto(url + "/login")
    # The name field has autofocus, which a person's focused window honours; a headless page opened
    # beside another one does not always get the focus, so put the cursor there as autofocus would.
    page.focus("input[name=name]")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(url + "/")


def create_project(
    page: Page, url: str, name: str, task: str, overlap: int, fields: dict[str, str | bool] | None = None
) -> None:
    """Fill the admin page's new-project form and wait for the project's page. ``fields``: selector →
    text to type, or True to tick a checkbox."""
    page.goto(url + "/admin")
    page.fill("input[name=name] >> nth=1", name)  # nth=0 is the new-user form's
    page.select_option("select[name=task]", task)
    page.fill("input[name=overlap]", str(overlap))
    for selector, value in (fields or {}).items():
        if value is True:
            page.check(selector)
        else:
            page.fill(selector, str(value))
    page.click("text=Create project")
    page.wait_for_url(url + f"/p/{name}")
