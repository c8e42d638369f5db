"""Shared fixtures, and the two tiers of the suite.

* First tier (``make test``): runs on a fresh clone with nothing beside it. Real data comes from
  ``tests/data/shared/`` — small excerpts of the shared data sets, laid out with the same relative
  paths, cut by ``scripts/make_fixtures.py`` (origins and licences in tests/data/README.md).
* Second tier (``make test-full``, the ``full`` marker): tests that need the whole shared sets
  (the corpus, the full PII/langid/bench sets), read from ``WINNOW_DATA`` (default
  ``../shared/data`` beside the checkout). A missing folder fails these tests loudly; they are
  never skipped in silence.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"
SAMPLE_DATA = TEST_DATA / "shared"
FULL_DATA = Path(os.environ.get("WINNOW_DATA", ROOT.parent / "shared" / "data"))
pytest_plugins = ["browser"]  # Playwright on Debian's chromium: tests/browser.py


@pytest.fixture(scope="session")
def sample_data() -> Path:
    """The first tier's real data: excerpts of the shared sets kept in the repository."""
    return SAMPLE_DATA


@pytest.fixture
def full_data(request: pytest.FixtureRequest) -> Path:
    """The whole shared sets, for second-tier tests (marked ``full``). Missing data is an error."""
    if request.node.get_closest_marker("full") is None:
        pytest.fail(f"{request.node.nodeid} reads the whole shared data but is not marked full")
    if not FULL_DATA.is_dir():
        pytest.fail(f"shared data not found at {FULL_DATA}: set WINNOW_DATA to the shared data folder")
    return FULL_DATA


@pytest.fixture(scope="session")
def test_data() -> Path:
    return TEST_DATA


@dataclass(frozen=True)
class Tier:
    """Which data a two-tier test runs on: the repository's excerpts, or the whole shared sets."""

    path: Path
    full: bool

    def pick(self, sample: int, full: int) -> int:
        """A count a test expects, as it is in the excerpt and in the whole set."""
        return full if self.full else sample


@pytest.fixture(params=["sample", pytest.param("full", marks=pytest.mark.full)])
def tier(request: pytest.FixtureRequest) -> Tier:
    """Runs a test twice: on the excerpts (first tier) and on the whole shared sets (second tier)."""
    if request.param == "sample":
        return Tier(SAMPLE_DATA, full=False)
    return Tier(request.getfixturevalue("full_data"), full=True)
