"""The command line as a user runs it: run, stats, inspect, steps."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.core  # needs only the core dependencies

ROOT = Path(__file__).resolve().parents[1]


def winnow(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "winnow.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_run_then_stats_inspect_and_steps(tmp_path):
    recipe = tmp_path / "quickstart.yaml"
    text = (ROOT / "examples" / "quickstart.yaml").read_text()
    text = text.replace("examples/data/", str(ROOT / "examples" / "data") + "/").replace(
        "out/quickstart", str(tmp_path / "out")
    )
    recipe.write_text(text)
    result = winnow("run", str(recipe), "--workers", "2", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "400 records in" in result.stdout and "too_few_words" in result.stdout
    manifest = json.loads((tmp_path / "out" / "_winnow" / "manifest.json").read_text())

    stats = json.loads(winnow("stats", str(tmp_path / "out"), "--json").stdout)
    assert stats["docs"] == manifest["counts"]["kept"]
    assert sum(stats["rejected_by_reason"].values()) == manifest["counts"]["rejected"]
    assert sum(row["docs"] for row in stats["by_license"].values()) == stats["docs"]
    assert {k: v["docs"] for k, v in stats["by_source"].items()} == {
        k: v["kept_docs"] for k, v in manifest["by_source"].items() if v["kept_docs"]
    }

    shown = winnow("inspect", str(tmp_path / "out"), "--rejected", "--n", "2").stdout
    assert "reason: string" in shown and shown.count("--- record") == 2

    one = winnow("steps", "length_filter").stdout
    assert "min_words" in one and "drop documents with fewer words" in one
    listing = winnow("steps").stdout
    assert "length_filter" in listing and "sample" in listing


def test_unknown_step_fails_before_reading_with_a_suggestion(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"input: {{path: {tmp_path}/missing.jsonl}}\nsteps: [{{lenght_filter: {{}}}}]\noutput: {{path: {tmp_path}/o}}\n"
    )
    result = winnow("run", str(recipe))
    assert result.returncode == 2
    assert "did you mean 'length_filter'" in result.stderr and "Traceback" not in result.stderr
