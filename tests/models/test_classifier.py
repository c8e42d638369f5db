"""Classifiers: train-classifier on DCLM's human labels, the classifier step, keep_top, the CV benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson
import pyarrow.compute as pc
import pytest

from winnow import RecipeError, read_output, run
from winnow.cli import main
from winnow.models.classifier import FastTextClassifier
from winnow.models.labels import read_labels
from winnow.models.metrics import at_threshold, best_threshold, roc_auc
from winnow.records import make_batch
from winnow.steps.registry import build_step

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dclm(sample_data) -> Path:
    return sample_data / "quality" / "dclm" / "majority_data.jsonl"


@pytest.fixture(scope="module")
def model(dclm, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clf") / "quality.bin"
    assert main(["train-classifier", str(dclm), "-o", str(out), "--bucket", "20000"]) == 0
    return out


def test_roc_auc_is_the_share_of_ordered_pairs():
    rng = np.random.default_rng(3)
    scores, labels = rng.integers(0, 5, 200).astype(float), rng.integers(0, 2, 200)
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert roc_auc(scores, labels) == pytest.approx(pairs)
    metrics = at_threshold(np.array([0.9, 0.8, 0.3, 0.1]), np.array([1, 0, 1, 0]), 0.5)
    assert (metrics.precision, metrics.recall, metrics.accuracy) == (0.5, 0.5, 0.5)
    assert best_threshold(np.array([0.9, 0.8, 0.3, 0.1]), np.array([1, 0, 1, 0])).f1 == pytest.approx(0.8)


def test_train_classifier_writes_a_model_and_its_card(model, dclm):
    card = json.loads(model.with_name("quality.card.json").read_text())
    assert card["kind"] == "fasttext-classifier" and card["positive_label"] == "1"
    assert card["train_records"] + card["heldout_records"] == 160 and 30 <= card["heldout_records"] <= 34
    for name in ("precision", "recall", "f1", "roc_auc"):
        assert 0.0 <= card["heldout"][name] <= 1.0
    # Held-out texts really are scored by the saved model: recompute the AUC from the file.
    data = read_labels(str(dclm))
    scores = FastTextClassifier(model).scores(data.texts, "1")
    # fastText adds 1e-5 to each probability before its log: a score can reach 1.00001.
    assert scores.min() >= 0.0 and scores.max() <= 1.0 + 1e-4 and len(np.unique(scores)) > 50
    assert "## held-out" in model.with_name("quality.card.md").read_text()


def test_classifier_step_tags_then_drops_with_a_reason(model, dclm):
    data = read_labels(str(dclm))
    batch = make_batch({"id": [f"d{i}" for i in range(len(data))], "text": data.texts, "source": ["dclm"] * len(data)})
    tagged = build_step("classifier", {"model": str(model), "name": "quality"}).process(batch).kept
    assert tagged.num_rows == len(data)
    expected = FastTextClassifier(model).scores(data.texts, "1")
    assert np.array_equal(tagged.column("quality.score").to_numpy(), expected)
    assert set(tagged.column("quality.label").to_pylist()) <= {"0", "1"}
    result = build_step("classifier", {"model": str(model), "threshold": 0.5}).process(batch)
    assert result.kept.num_rows == int((expected >= 0.5).sum())
    assert set(result.rejected.column("reason").to_pylist()) == {"classifier: below_threshold"}


def test_classifier_errors_name_the_model(tmp_path, model):
    with pytest.raises(RecipeError, match="no such fastText model"):
        build_step("classifier", {"model": str(tmp_path / "missing.bin")}).check()
    with pytest.raises(RecipeError, match="no label 'hq'"):
        build_step("classifier", {"model": str(model), "label": "hq"}).check()


def test_recipe_with_classifier_and_keep_top(model, dclm, tmp_path):
    out = tmp_path / "out"
    recipe = {
        "input": {"path": str(dclm)},
        "steps": [{"classifier": {"model": str(model)}}, {"keep_top": {"column": "classifier.score", "percent": 25}}],
        "output": {"path": str(out)},
    }
    run(recipe, workers=2)
    kept, rejected = read_output(str(out)), read_output(str(out), rejected=True)
    assert kept.num_rows == 40 and rejected.num_rows == 120  # ceil(160 × 25%)
    assert set(rejected.column("reason").to_pylist()) == {"keep_top: below_top"}
    assert pc.min(kept.column("classifier.score")).as_py() >= pc.max(rejected.column("classifier.score")).as_py()


def test_benchmark_computes_both_sides(dclm, tmp_path):
    out = tmp_path / "cv.json"
    script = ROOT / "benchmarks" / "classifier_vs_heuristics.py"
    command = [
        sys.executable,
        str(script),
        "--labels",
        str(dclm),
        "--folds",
        "3",
        "--bucket",
        "20000",
        "--json",
        str(out),
    ]
    subprocess.run(command, check=True, capture_output=True)
    result = orjson.loads(out.read_bytes())
    assert result["documents"] == 160 and len(result["per_fold"]) == 3
    assert sum(f["n"] for f in result["per_fold"]) == 160
    for who in ("classifier", "heuristics"):
        assert 0.0 < result["pooled"][who]["roc_auc"] < 1.0
        assert 0.0 < result["pooled"][who]["accuracy"] < 1.0
    assert result["agreed_subset"]["n"] == 79


@pytest.mark.full
def test_classifier_beats_the_heuristic_chain_on_all_dclm_labels(full_data, tmp_path):
    """The must-hold: 5-fold CV on all 499 human labels."""
    out = tmp_path / "cv.json"
    script = ROOT / "benchmarks" / "classifier_vs_heuristics.py"
    labels = full_data / "quality" / "dclm" / "majority_data.jsonl"
    subprocess.run([sys.executable, str(script), "--labels", str(labels), "--json", str(out)], check=True)
    result = orjson.loads(out.read_bytes())
    assert result["documents"] == 499
    assert result["pooled"]["classifier"]["roc_auc"] > result["pooled"]["heuristics"]["roc_auc"]
    assert result["pooled"]["classifier"]["accuracy"] > result["pooled"]["heuristics"]["accuracy"]
