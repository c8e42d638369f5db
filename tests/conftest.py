"""Shared fixtures. Real data lives in ../shared/data beside the checkout (see its README)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("WINNOW_SHARED_DATA", ROOT.parent / "shared" / "data"))
TEST_DATA = ROOT / "tests" / "data"
pytest_plugins = ["browser"]  # Playwright on Debian's chromium: tests/browser.py


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real corpora and evaluation sets. CI has them beside the clone; a missing folder is
    an error, not a skip, so a broken checkout cannot pass by testing nothing."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA} (set WINNOW_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def test_data() -> Path:
    return TEST_DATA
