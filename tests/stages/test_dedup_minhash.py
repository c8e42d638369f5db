"""minhash_dedup on shared/data/neardup: the same page in two releases, exact Jaccard given."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest
from dedup_helpers import dedup, neardup, tags

from winnow.errors import RecipeError
from winnow.stages.minhash import MinHashDedup
from winnow.steps.registry import build_step


@pytest.fixture(scope="module")
def near(sample_data):
    return neardup(sample_data)


def _score(cluster: dict[str, str], pairs: list[dict], threshold: float) -> tuple[float, float]:
    positives = [p for p in pairs if p["relation"] == "same-page-different-release" and p["jaccard_w5"] >= threshold]
    negatives = [p for p in pairs if p["relation"] == "different-page-same-release"]
    recall = sum(cluster[p["a"]] == cluster[p["b"]] for p in positives) / len(positives)
    merged_negatives = sum(cluster[p["a"]] == cluster[p["b"]] for p in negatives) / len(negatives)
    return recall, merged_negatives


@pytest.fixture(scope="module")
def default_run(near, tmp_path_factory):
    batch, _ = near
    stage = MinHashDedup()
    kept, rejected = dedup(stage, batch, tmp_path_factory.mktemp("default"), n_parts=4)
    return stage, kept, rejected


def test_default_parameters_meet_the_accuracy_bar(near, default_run):
    _, pairs = near
    stage, kept, rejected = default_run
    cluster = {i: t[0] for i, t in tags(stage, kept, rejected).items()}
    recall, merged_negatives = _score(cluster, pairs, 0.8)
    assert recall >= 0.95
    assert merged_negatives <= 0.01


def test_tags_and_reasons(near, default_run):
    batch, _ = near
    stage, kept, rejected = default_run
    assert kept.num_rows + rejected.num_rows == batch.num_rows
    assert set(pc.unique(rejected.column("reason")).to_pylist()) == {"minhash_dedup: duplicate"}
    found = tags(stage, kept, rejected)
    kept_ids = set(kept.column("id").to_pylist())
    sizes: dict[str, int] = {}
    for cluster_id, _, _ in found.values():
        sizes[cluster_id] = sizes.get(cluster_id, 0) + 1
    for doc_id, (cluster_id, size, duplicate_of) in found.items():
        assert sizes[cluster_id] == size
        assert cluster_id in kept_ids  # the representative is kept …
        assert duplicate_of == (None if doc_id == cluster_id else cluster_id)  # … and is the smallest id
        assert cluster_id <= doc_id
    assert stage.counters["duplicates"] == rejected.num_rows
    assert stage.counters["clusters"] == sum(1 for s in sizes.values() if s > 1)


def test_verify_keeps_recall_and_removes_false_merges(near, default_run, tmp_path):
    batch, pairs = near
    stage, kept, rejected = default_run
    plain = {i: t[0] for i, t in tags(stage, kept, rejected).items()}
    verified_stage = MinHashDedup(verify=True)
    verified = {i: t[0] for i, t in tags(verified_stage, *dedup(verified_stage, batch, tmp_path, n_parts=3)).items()}
    recall, merged = _score(verified, pairs, 0.8)
    _, merged_plain = _score(plain, pairs, 0.8)
    assert recall >= 0.95
    assert merged < merged_plain


def test_parameters_are_checked():
    with pytest.raises(RecipeError, match="exceeds num_perm"):
        build_step("minhash_dedup", {"bands": 20, "rows": 8})
    with pytest.raises(RecipeError, match="give both"):
        build_step("minhash_dedup", {"bands": 20})
    with pytest.raises(RecipeError, match="did you mean 'threshold'"):
        build_step("minhash_dedup", {"treshold": 0.9})
    step = build_step("minhash_dedup", {"threshold": 0.9})
    assert (step.bands, step.rows) == (8, 13)
