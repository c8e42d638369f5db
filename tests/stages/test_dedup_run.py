"""Dedup through winnow.run: local with 1 and 2 workers, Ray, the manifest, rejected/, dedup_report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pyarrow.compute as pc
import pytest
from dedup_helpers import corpus_docs

from winnow import read_output, run
from winnow.report.dedup import dedup_report


@pytest.fixture(scope="module")
def corpus(sample_data, tmp_path_factory) -> Path:
    """1,500 real corpus documents plus, for 40 of them, a lightly edited copy (a changed line and a
    trailing sentence), so both exact and near duplicates are there."""
    docs = corpus_docs(sample_data, 1500)
    edited = []
    for k, d in enumerate(d for d in docs if 2000 < len(d["text"]) < 20000):
        if k >= 40:
            break
        lines = d["text"].split("\n")
        lines[len(lines) // 2] = "This line was changed in the copy."
        edited.append({**d, "id": f"edited/{d['id']}", "text": "\n".join(lines) + "\nLast updated 2024."})
    path = tmp_path_factory.mktemp("dedup") / "docs.jsonl"
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs + edited))
    return path


def _recipe(corpus: Path, out: Path) -> dict:
    return {
        "input": {"path": str(corpus), "shard_mb": 2},
        "steps": [{"exact_dedup": {"normalization": "whitespace_case"}}, {"minhash_dedup": {}}],
        "output": {"path": str(out)},
    }


def _outcome(out: Path) -> dict:
    kept = read_output(str(out))
    rejected = read_output(str(out), rejected=True)
    return {
        "kept": sorted(kept.column("id").to_pylist()),
        "clusters": sorted(
            zip(
                kept.column("id").to_pylist(),
                kept.column("minhash_dedup.cluster_id").to_pylist(),
                kept.column("minhash_dedup.cluster_size").to_pylist(),
                strict=True,
            )
        ),
        "rejected": sorted(zip(rejected.column("id").to_pylist(), rejected.column("reason").to_pylist(), strict=True)),
    }


@pytest.fixture(scope="module")
def local_two(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("local2") / "out"
    return run(_recipe(corpus, out), workers=2), out


def test_run_finds_the_edited_copies(local_two):
    manifest, out = local_two
    rejected = read_output(str(out), rejected=True)
    by_reason = dict(
        zip(*[c.to_pylist() for c in rejected.group_by("reason").aggregate([("id", "count")]).columns], strict=True)
    )
    steps = {s["name"]: s for s in manifest["steps"]}
    assert steps["exact_dedup"]["out"] == steps["minhash_dedup"]["in"]
    assert steps["minhash_dedup"]["dropped"]["duplicate"] == by_reason["minhash_dedup: duplicate"]
    near = rejected.filter(pc.equal(rejected.column("reason"), "minhash_dedup: duplicate"))
    kept = read_output(str(out))
    cluster = dict(zip(kept.column("id").to_pylist(), kept.column("minhash_dedup.cluster_id").to_pylist(), strict=True))
    cluster.update(zip(near.column("id").to_pylist(), near.column("minhash_dedup.cluster_id").to_pylist(), strict=True))
    edited = [i for i in cluster if i.startswith("edited/")]
    # every edited copy is in one cluster with its original, and that cluster keeps one of them
    assert len(edited) == 40
    assert all(cluster[i] == cluster[i.removeprefix("edited/")] for i in edited)
    kept_ids = set(kept.column("id").to_pylist())
    for i in edited:
        assert (i in kept_ids) + (i.removeprefix("edited/") in kept_ids) <= 1
        assert cluster[i] in kept_ids
    assert set(near.column("minhash_dedup.duplicate_of").to_pylist()) <= kept_ids
    assert steps["minhash_dedup"]["counters"]["duplicates"] == len(near)
    # the corpus has natural exact duplicates too
    assert by_reason["exact_dedup: duplicate"] > 0


def test_same_result_with_one_worker(corpus, local_two, tmp_path):
    _, out_two = local_two
    run(_recipe(corpus, tmp_path / "one"), workers=1)
    assert _outcome(tmp_path / "one") == _outcome(out_two)


def test_dedup_report(local_two):
    _, out = local_two
    report = dedup_report(str(out), top=3)
    assert "exact_dedup:" in report and "minhash_dedup:" in report
    assert "largest clusters (top 3)" in report
    kept = read_output(str(out))
    sizes = kept.column("minhash_dedup.cluster_size").to_pylist()
    largest = max(sizes)
    assert f"- {largest:,} records, kept" in report


def test_dedup_report_counts_every_record_each_step_saw_with_splits(corpus, local_two, tmp_path):
    """Steps before and after dedup drop records, and kept records are written by split
    (data/train/, data/val/...): the report still counts exactly the records each step saw."""
    recipe = _recipe(corpus, tmp_path / "split")
    recipe["steps"] = [{"length_filter": {"min_words": 30}}, *recipe["steps"], {"length_filter": {"max_words": 3000}}]
    recipe["split"] = {"val": 0.1, "test": 0.1}
    manifest = run(recipe, workers=2)
    assert (tmp_path / "split" / "data" / "train").is_dir()
    steps = {s["name"]: s for s in manifest["steps"]}
    report = dedup_report(str(tmp_path / "split"))
    for step in ("exact_dedup", "minhash_dedup"):
        seen, out = steps[step]["in"], steps[step]["out"]
        assert f"{step}: {seen:,} records, {out:,} clusters, {seen - out:,} duplicates removed" in report
    assert "None" not in report


@pytest.mark.ray
def test_ray_gives_the_same_clusters_and_kept_records(corpus, local_two, tmp_path):
    _, out_local = local_two
    manifest = run(_recipe(corpus, tmp_path / "ray"), executor="ray", workers=2)
    assert manifest["executor"] == "ray"
    assert _outcome(tmp_path / "ray") == _outcome(out_local)


def test_killed_during_minhash_then_resumed_gives_the_same_result(corpus, local_two, tmp_path):
    """Kill a real run (SIGKILL to the whole process group) once the MinHash stage has written its first
    phase files, then resume: the output equals an uninterrupted run's."""
    _, out_clean = local_two
    out = tmp_path / "killed"
    code = f"from winnow import run; run({_recipe(corpus, out)!r}, workers=2)"
    process = subprocess.Popen(
        [sys.executable, "-c", code], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if list(out.glob("_winnow/work/*minhash_dedup/keys/part-*.npy")):
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait()
    killed = process.returncode == -signal.SIGKILL
    print("killed" if killed else "finished before the kill")
    assert list(out.glob("_winnow/work/*minhash_dedup/_fingerprint"))  # it got as far as the MinHash stage
    run(_recipe(corpus, out), workers=2, resume=True)
    assert _outcome(out) == _outcome(out_clean)
    assert killed or process.returncode == 0
