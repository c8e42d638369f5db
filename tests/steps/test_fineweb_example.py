"""examples/fineweb-style.yaml runs end to end on its real WARC sample (once the quality filters exist)."""

from __future__ import annotations

from pathlib import Path

import yaml

from winnow import Recipe, read_output, run
from winnow.steps.registry import all_steps

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "fineweb-style.yaml"
QUALITY_STEPS = ("gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality")


def test_fineweb_style_recipe(tmp_path, monkeypatch):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["output"]["path"] = str(tmp_path / "out")
    missing = [name for name in QUALITY_STEPS if name not in all_steps()]
    if missing:
        # The quality filters are built separately (issue 3, part B); until they are registered, run
        # the WARC -> text -> language part of the recipe, which is what this part of the work owns.
        data["steps"] = [s for s in data["steps"] if next(iter(s)) not in QUALITY_STEPS]
    monkeypatch.chdir(ROOT)  # the recipe names its input relative to the repository
    recipe = Recipe.from_dict(data)
    manifest = run(recipe, workers=2)
    kept = read_output(tmp_path / "out")
    rejected = read_output(tmp_path / "out", rejected=True)
    assert kept.num_rows >= 20
    assert set(kept.column("language.lang").to_pylist()) == {"en"}
    reasons = set(rejected.column("reason").to_pylist())
    assert "language_filter: other_language" in reasons  # the translated Debian pages
    assert all(url.startswith("http") for url in kept.column("url").to_pylist())
    steps = (
        [s["name"] for s in manifest["steps"]] if isinstance(manifest.get("steps"), list) else list(manifest["steps"])
    )
    assert steps[:4] == ["html_extract", "fix_unicode", "language", "language_filter"]
