"""The example recipes a newcomer runs first do what their comments promise, on the bundled data."""

from __future__ import annotations

import re
from pathlib import Path

from winnow import Recipe, read_output, run
from winnow.report.dedup import dedup_report

ROOT = Path(__file__).resolve().parents[1]
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[A-Za-z]{2,}")


def run_example(name: str, out: Path, monkeypatch) -> dict:
    """Run examples/<name>.yaml as the README says (paths relative to the repository root) into ``out``."""
    monkeypatch.chdir(ROOT)
    recipe = Recipe.load(f"examples/{name}.yaml")
    recipe.output.path = str(out)
    return run(recipe, workers=2)


def test_quickstart_recipe_runs_on_its_sample(tmp_path, monkeypatch):
    counts = run_example("quickstart", tmp_path / "quickstart", monkeypatch)["counts"]
    assert counts["input"] == 400 and counts["kept"] + counts["rejected"] == 400
    kept = read_output(str(tmp_path / "quickstart"))
    assert kept.num_rows == counts["kept"] > 200
    assert all(s.startswith("deb:") for s in kept.column("source").to_pylist())
    assert "Apache-2.0" in set(kept.column("license").to_pylist())


def test_curate_example_cleans_dedups_redacts_and_splits(tmp_path, monkeypatch):
    manifest = run_example("curate", tmp_path / "curate", monkeypatch)
    counts = manifest["counts"]
    assert counts["input"] == 400 == counts["kept"] + counts["rejected"]
    steps = {s["name"]: s for s in manifest["steps"]}
    # the sample holds generated API pages that are exact and near copies of each other
    assert steps["exact_dedup"]["dropped"]["duplicate"] > 0 and steps["minhash_dedup"]["dropped"]["duplicate"] > 0
    assert "exact_dedup:" in dedup_report(str(tmp_path / "curate"))

    kept = read_output(str(tmp_path / "curate"))
    assert set(kept.column("split").to_pylist()) == {"train", "val", "test"}
    assert {p.name for p in (tmp_path / "curate" / "data").iterdir()} == {"train", "val", "test"}
    # e-mail addresses (package maintainers, bug report addresses) are replaced by placeholders
    texts = kept.column("text").to_pylist()
    assert not [m for t in texts for m in EMAIL.findall(t)]
    assert sum("<EMAIL>" in t for t in texts) > 10
    # declared Debian licence names became SPDX expressions
    licenses = dict(zip(kept.column("license.declared").to_pylist(), kept.column("license").to_pylist(), strict=True))
    assert licenses["GPL2 with Classpath exception"] == "GPL-2.0-only WITH Classpath-exception-2.0"
    assert licenses["BSD-3"] == "BSD-3-Clause" and licenses["Expat"] == "MIT"
    languages = kept.column("language.lang").to_pylist()
    assert "de" in languages and languages.count("en") > 0.9 * len(languages)  # one German page in the sample
