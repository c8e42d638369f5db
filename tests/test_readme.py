"""The README stays true: its step table is what `winnow steps --markdown` prints, and the
quickstart it promises runs."""

from __future__ import annotations

import re
from pathlib import Path

from winnow import Recipe, read_output, run
from winnow.cli import steps_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_readme_step_table_is_generated():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- steps:start[^>]*-->\n(.*?)<!-- steps:end -->", readme, re.S)
    assert block, "README lost its step table markers"
    assert block.group(1).strip() == steps_markdown().strip(), "run: python scripts/update_readme.py"


def test_quickstart_recipe_runs_on_its_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    recipe = Recipe.load("examples/quickstart.yaml")
    recipe.output.path = str(tmp_path / "quickstart")
    manifest = run(recipe, workers=2)
    counts = manifest["counts"]
    assert counts["input"] == 400 and counts["kept"] + counts["rejected"] == 400
    kept = read_output(str(tmp_path / "quickstart"))
    assert kept.num_rows == counts["kept"] > 200
    assert all(s.startswith("deb:") for s in kept.column("source").to_pylist())
    assert "Apache-2.0" in set(kept.column("license").to_pylist())
