"""The two tiers of the suite: the second tier fails loudly, never skips, when its data is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = ROOT / "tests" / "data" / "shared"


def test_second_tier_fails_naming_the_missing_folder(tmp_path):
    missing = tmp_path / "no-shared-data"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "full", "-k", "constructed_warc_pages"],
        cwd=ROOT,
        env={**os.environ, "WINNOW_DATA": str(missing)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert f"shared data not found at {missing}" in result.stdout
    assert "1 error" in result.stdout and "skipped" not in result.stdout


def test_first_tier_data_lies_in_the_repository():
    assert SAMPLE_DATA.is_relative_to(ROOT)
    # The excerpts stay small enough to keep in git (the issue asks for a few MB).
    size = sum(p.stat().st_size for p in SAMPLE_DATA.rglob("*") if p.is_file())
    assert 1e6 < size < 12e6, size
