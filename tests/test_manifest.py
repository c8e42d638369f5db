"""The typed manifest: step numbers add up, old manifests load, the report finds steps by section."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from winnow import run
from winnow.manifest import Manifest, Section, ShardStats, StepStats
from winnow.report.card import write_card
from winnow.report.html import write_report
from winnow.report.stats import read_manifest


@pytest.mark.core
def test_step_stats_add_up_and_keep_the_step_s_names():
    a = StepStats(index=2, records_in=10, out=8, chars_in=100, chars_out=80, dropped={"short": 2}, counters={"x": 1})
    b = StepStats(index=2, records_in=5, out=5, chars_in=50, chars_out=50, counters={"x": 2, "y": 1.5})
    total = a + b
    assert (total.index, total.records_in, total.out, total.chars_in, total.chars_out) == (2, 15, 13, 150, 130)
    assert total.dropped == {"short": 2} and total.counters == {"x": 3, "y": 1.5}
    assert a.counters == {"x": 1}  # the operands are not changed
    # A marker's step holds only what applies to it; the JSON keys are the manifest's ("in", not records_in).
    assert a.model_dump(by_alias=True) == {
        "index": 2,
        "in": 10,
        "out": 8,
        "chars_in": 100,
        "chars_out": 80,
        "dropped": {"short": 2},
        "wall_seconds": 0.0,
        "cpu_seconds": 0.0,
        "counters": {"x": 1},
    }


# A manifest as winnow 0.1.0 wrote it before the typed manifest (no report sections), trimmed.
OLD_MANIFEST = {
    "winnow_version": "0.1.0",
    "recipe": {"input": [{"path": "in.jsonl"}], "steps": [{"license": {}}, {"exact_dedup": {}}]},
    "executor": "local",
    "workers": 2,
    "started_at": "2026-11-30T10:00:00+00:00",
    "finished_at": "2026-11-30T10:00:01+00:00",
    "versions": {"python": "3.11.2"},
    "inputs": [{"path": "in.jsonl", "source": "in", "license": None, "format": "jsonl", "files": []}],
    "shards": 1,
    "counts": {"input": 3, "kept": 2, "rejected": 1, "quarantined": 0},
    "steps": [
        {
            "name": "license",
            "params": {},
            "global": False,
            "in": 3,
            "out": 3,
            "chars_in": 30,
            "chars_out": 30,
            "dropped": {},
            "wall_seconds": 0.01,
            "cpu_seconds": 0.01,
            "counters": {"renamed.MIT License -> MIT": 2, "normalised": 2},
        },
        {
            "name": "exact_dedup",
            "params": {"normalization": "whitespace_case"},
            "global": True,
            "in": 3,
            "out": 2,
            "chars_in": 30,
            "chars_out": 20,
            "dropped": {"duplicate": 1},
            "wall_seconds": 0.2,
            "cpu_seconds": 0.1,
            "counters": {"clusters": 1, "duplicates": 1},
            "prepare_wall_seconds": 0.1,
            "prepare_cpu_seconds": 0.05,
        },
    ],
    "by_source": {"in": {"input_docs": 3, "input_chars": 30, "kept_docs": 2, "kept_chars": 20}},
    "by_license": {"unknown": {"input_docs": 3, "input_chars": 30, "kept_docs": 2, "kept_chars": 20}},
    "outputs": {"data": [{"path": "data/part-00000.parquet", "records": 2}], "rejected": [], "quarantine": []},
    "wall_seconds": 1.0,
    "cpu_seconds": 0.5,
}


@pytest.mark.core
def test_an_old_manifest_loads_and_its_steps_get_their_report_sections(tmp_path: Path):
    manifest = Manifest.model_validate(OLD_MANIFEST)
    assert manifest.counts.kept == 2 and manifest.steps[1].prepare_wall_seconds == 0.1
    assert manifest.to_dict() == OLD_MANIFEST  # nothing lost, nothing added
    (tmp_path / "_winnow").mkdir()
    (tmp_path / "_winnow" / "manifest.json").write_text(json.dumps(OLD_MANIFEST))
    read = read_manifest(str(tmp_path))  # the report's reader fills the sections from the step classes
    assert [s.section for s in read.steps] == [Section.LICENSE, Section.DEDUP]
    assert read.renamings() == [("MIT License", "MIT", 2)]
    assert read.counters_of(Section.DEDUP) == {"clusters": 1, "duplicates": 1}


@pytest.mark.core
def test_a_shard_marker_round_trips():
    stats = ShardStats(segment=1, shard=3, read=5, kept=4, rejected=1, steps=[StepStats(index=4, records_in=5, out=4)])
    assert ShardStats.from_json(stats.to_json()) == stats


def test_report_and_card_of_a_run_whose_manifest_has_no_sections(quickstart_recipe, tmp_path: Path):
    """An output written before steps named their report section reports the same as a new one."""
    recipe = quickstart_recipe(tmp_path / "new")
    recipe["steps"] = [*recipe["steps"], {"exact_dedup": {}}]
    manifest = run(recipe, workers=1)
    assert [s.section for s in manifest.steps][-1] == Section.DEDUP
    assert manifest["counts"] == manifest.counts.model_dump()  # the JSON form by key, as before
    shutil.copytree(tmp_path / "new", tmp_path / "old")
    path = tmp_path / "old" / "_winnow" / "manifest.json"
    data = json.loads(path.read_text())
    for step in data["steps"]:
        step.pop("section", None)
    path.write_text(json.dumps(data))
    for name in ("new", "old"):
        write_card(str(tmp_path / name), str(tmp_path / f"{name}.md"))
        write_report(str(tmp_path / name), str(tmp_path / f"{name}.html"))
    new, old = ((tmp_path / f"{n}.md").read_text().split("\n", 3)[3] for n in ("new", "old"))
    assert "## Deduplication\n\n| step |" in new and old.replace("/old", "/new") == new
    assert (tmp_path / "old.html").read_text().replace("/old", "/new") == (tmp_path / "new.html").read_text()


@pytest.fixture
def quickstart_recipe():
    import yaml

    root = Path(__file__).parent.parent

    def make(out: Path) -> dict:
        recipe = yaml.safe_load((root / "examples" / "quickstart.yaml").read_text())
        for spec in recipe["input"] if isinstance(recipe["input"], list) else [recipe["input"]]:
            spec["path"] = str(root / spec["path"])
        recipe["output"]["path"] = str(out)
        return recipe

    return make
