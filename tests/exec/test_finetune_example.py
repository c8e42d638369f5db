"""examples/finetune.yaml: the whole curation of the bundled real SFT sample (ShareGPT + HH-RLHF) on the local
executor and on Ray with the same records, and resumed after SIGKILL with nothing lost or doubled."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from engine_helpers import cli_run, kill_and_resume, shards_done
from winnow import Recipe, read_output, run
from winnow.conversation import render_record
from winnow.report.stats import run_summary

ROOT = Path(__file__).resolve().parents[2]
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[A-Za-z]{2,}")


def finetune_recipe(out: Path, **changes) -> Recipe:
    """examples/finetune.yaml with its paths made absolute and the output in ``out``."""
    data = Recipe.load(ROOT / "examples" / "finetune.yaml").to_dict()
    for spec in data["input"]:
        spec["path"] = str(ROOT / spec["path"])
    for step in data["steps"]:
        for spec in step.get("decontaminate", {}).get("benchmarks", []):
            spec["path"] = str(ROOT / spec["path"])
    data["output"]["path"] = str(out)
    for key, value in changes.items():
        data[key] = value(data[key]) if callable(value) else value
    return Recipe.from_dict(data)


def outcome(out: Path) -> dict:
    """Everything a run decided, in a comparable form: kept records and their columns, drops and reasons."""
    kept = read_output(str(out)).to_pylist()
    rejected = read_output(str(out), rejected=True).to_pylist()
    columns = ("text", "kind", "messages", "chosen", "rejected", "split", "source", "license")
    return {
        "kept": sorted((r["id"], *(json.dumps(r.get(c), sort_keys=True) for c in columns)) for r in kept),
        "rejected": sorted((r["id"], r["reason"]) for r in rejected),
    }


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finetune") / "local"
    run(finetune_recipe(out), workers=2)
    return out


def test_the_example_curates_the_sample(local_run):
    manifest = json.loads((local_run / "_winnow" / "manifest.json").read_text())
    sharegpt = json.loads((ROOT / "examples/data/sft/sharegpt-sample.json").read_text())
    with gzip.open(ROOT / "examples/data/sft/hh-rlhf-harmless-sample.jsonl.gz", "rt") as lines:
        hh = [json.loads(line) for line in lines]
    counts = manifest["counts"]
    assert counts["input"] == len(sharegpt) + len(hh) == counts["kept"] + counts["rejected"]
    steps = {s["name"]: s for s in manifest["steps"]}
    # The sample's own faults: cut-off HH answers, assistant boilerplate, prompts asked many times over.
    assert steps["response_filter"]["dropped"]["truncated_response"] > 0
    assert steps["refusal_filter"]["dropped"]["refusal"] > 0
    assert steps["exact_dedup"]["dropped"]["duplicate"] > 0
    kept = read_output(str(local_run)).to_pylist()
    assert {r["kind"] for r in kept} == {"conversation", "preference"}
    assert {r["split"] for r in kept} == {"train", "val", "test"}
    prompts = set()
    for r in kept:
        assert r["text"] == render_record(r)  # every rewrite reached the messages and the rendering
        assert not any(EMAIL.search(m["content"]) for m in r["messages"] + (r["chosen"] or []))
        prompt = "\n\n".join(m["content"] for m in r["messages"] if m["role"] == "user")
        assert re.sub(r"\s+", " ", prompt.lower()).strip() not in prompts
        prompts.add(re.sub(r"\s+", " ", prompt.lower()).strip())
    summary = run_summary(str(local_run))
    assert summary["conversations"].records == len(kept)
    assert summary["conversations"].preference_pairs == sum(r["kind"] == "preference" for r in kept)


@pytest.mark.ray
def test_ray_gives_the_same_records(local_run, tmp_path):
    out = tmp_path / "ray"
    manifest = run(finetune_recipe(out), executor="ray", workers=2)
    assert manifest["executor"] == "ray"
    assert outcome(out) == outcome(local_run)


def test_killed_and_resumed_gives_the_same_records(local_run, tmp_path):
    # Small shards and batches, and a step that sleeps on each batch, so that a kill lands mid-run.
    def slow(steps):
        return [{"python": {"function": "engine_helpers:slow_batch", "mode": "batch"}}, *steps]

    def small(inputs):
        return [{**spec, "shard_mb": 0.01} for spec in inputs]

    changes = {"steps": slow, "input": small, "batch_size": 25}
    reference = tmp_path / "reference"
    run(finetune_recipe(reference, **changes), workers=2)
    assert outcome(reference) == outcome(local_run)  # the slow step and the small shards change nothing
    recipe_path = tmp_path / "killed.yaml"
    finetune_recipe(tmp_path / "killed", **changes).to_yaml(recipe_path)
    kills = kill_and_resume(recipe_path, tmp_path / "killed", shards_done(reference), (0.2, 0.45, 0.7))
    assert kills >= 2, "the run finished before it could be killed; the test proves nothing"
    finish = cli_run(recipe_path, "--resume")
    _, err = finish.communicate(timeout=300)
    assert finish.returncode == 0, err.decode()
    assert outcome(tmp_path / "killed") == outcome(reference)
    manifest = json.loads((tmp_path / "killed" / "_winnow" / "manifest.json").read_text())
    assert manifest["counts"] == json.loads((reference / "_winnow" / "manifest.json").read_text())["counts"]
