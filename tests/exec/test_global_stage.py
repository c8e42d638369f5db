"""Global stages split the pipeline into segments; the stage sees every record first."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

import engine_helpers  # registers the test_keep_longest stage
from corpus_sample import write_corpus
from winnow import read_output, run


@pytest.fixture(scope="module")
def corpus(sample_data, tmp_path_factory) -> Path:
    return write_corpus(sample_data, tmp_path_factory.mktemp("c") / "web.jsonl", 1200)


def _recipe(corpus: Path, out: Path) -> dict:
    return {
        "input": {"path": str(corpus), "shard_mb": 1},
        "steps": [
            {"length_filter": {"max_chars": 50000}},
            {"test_keep_longest": {"keep": 25}},
            {"sample": {"fraction": 0.6}},
        ],
        "output": {"path": str(out)},
    }


def test_global_stage_sees_the_whole_dataset_and_counts_add_up(corpus, tmp_path):
    manifest = run(_recipe(corpus, tmp_path / "out"), workers=2)
    kept = read_output(str(tmp_path / "out"))
    rejected = read_output(str(tmp_path / "out"), rejected=True)
    steps = {s["name"]: s for s in manifest["steps"]}
    assert steps["test_keep_longest"]["out"] == 25 and steps["test_keep_longest"]["global"]
    assert steps["length_filter"]["out"] == steps["test_keep_longest"]["in"]
    survivors = rejected.filter(pc.equal(rejected.column("reason"), "test_keep_longest: not_longest"))
    # every dropped survivor of length_filter is no longer than the shortest of the 25 kept
    chosen_min = min(pc.utf8_length(kept.column("text")).to_pylist() + [10**9])
    assert max(pc.utf8_length(survivors.column("text")).to_pylist()) <= 50000
    assert manifest["counts"]["input"] == 1200 == manifest["counts"]["kept"] + manifest["counts"]["rejected"]
    assert kept.num_rows == steps["sample"]["out"] > 0
    assert chosen_min > 0
    # The stage's prepare ran one task per part in worker processes: its time is in the manifest.
    stage = steps["test_keep_longest"]
    assert stage["prepare_cpu_seconds"] >= engine_helpers.PREPARE_CPU_PER_PART * manifest["shards"]
    assert (
        stage["cpu_seconds"] >= stage["prepare_cpu_seconds"] and stage["wall_seconds"] >= stage["prepare_wall_seconds"]
    )
    assert manifest["cpu_seconds"] >= sum(s["cpu_seconds"] for s in manifest["steps"]) - 0.01


@pytest.mark.ray
def test_ray_executor_gives_the_same_records_as_local(corpus, tmp_path):
    local = run(_recipe(corpus, tmp_path / "local"), workers=2)
    on_ray = run(_recipe(corpus, tmp_path / "ray"), executor="ray", workers=2)
    assert on_ray["executor"] == "ray"

    def records(out):
        t = read_output(str(out))
        return sorted(zip(t.column("id").to_pylist(), t.column("text").to_pylist(), strict=True))

    assert records(tmp_path / "local") == records(tmp_path / "ray")
    assert on_ray["counts"] == local["counts"]
    assert [s["dropped"] for s in on_ray["steps"]] == [s["dropped"] for s in local["steps"]]
