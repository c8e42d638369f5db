"""The linear head on embeddings (train-classifier --embeddings, the FineWeb-Edu recipe) on DCLM's human
labels, with a static model trained here on real corpus documents; the classifier step loads the head."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stages"))
from dedup_helpers import corpus_docs  # noqa: E402

from winnow import read_output, run  # noqa: E402
from winnow.cli import main  # noqa: E402
from winnow.models.labels import read_labels  # noqa: E402
from winnow.models.linear_head import HeadParams, LinearHead, fit_softmax  # noqa: E402
from winnow.models.metrics import roc_auc  # noqa: E402
from winnow.models.registry import load_embedder  # noqa: E402
from winnow.models.train_classifier import stratified_folds  # noqa: E402
from winnow.records import make_batch  # noqa: E402
from winnow.steps.registry import build_step  # noqa: E402


@pytest.fixture(scope="module")
def dclm(sample_data) -> Path:
    return sample_data / "quality" / "dclm" / "majority_data.jsonl"


@pytest.fixture(scope="module")
def head(sample_data, dclm, tmp_path_factory) -> Path:
    """A 64-dim static model trained on 300 corpus documents (no labels), and a head trained on it."""
    folder = tmp_path_factory.mktemp("head")
    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": d["text"]}) + "\n" for d in corpus_docs(sample_data, 300)))
    argv = ["train-embeddings", str(corpus), "-o", str(folder / "emb"), "--dim", "64", "--min-count", "2"]
    assert main(argv) == 0
    argv = ["train-classifier", str(dclm), "--embeddings", str(folder / "emb"), "-o", str(folder / "head")]
    assert main(argv) == 0
    return folder / "head"


def test_head_directory_card_and_heldout_numbers_from_the_saved_head(head, dclm):
    assert {"head.json", "head.npz", "card.json", "card.md"} <= {p.name for p in head.iterdir()}
    card = json.loads((head / "card.json").read_text())
    assert card["kind"] == "linear-head" and card["labels"] == ["0", "1"] and card["positive_label"] == "1"
    assert card["train_records"] + card["heldout_records"] == 160 and card["params"]["dim"] == 64
    # the card's held-out AUC is what the saved head gives on the held-out fifth
    data = read_labels(str(dclm))
    heldout = np.flatnonzero(stratified_folds(data.labels, 5, 0) == 0)
    scores = LinearHead(head).scores([data.texts[i] for i in heldout], "1")
    truth = np.asarray([data.labels[i] == "1" for i in heldout])
    assert roc_auc(scores, truth) == pytest.approx(card["heldout"]["roc_auc"], abs=1e-6)
    assert card["heldout"]["roc_auc"] > 0.5  # it learnt something from 128 texts
    assert "## held-out" in (head / "card.md").read_text()


def test_fit_softmax_reaches_the_optimum(head, dclm):
    """At the optimum the gradient of the penalised cross-entropy vanishes: the head is a real fit."""
    data = read_labels(str(dclm))
    vectors = load_embedder(json.loads((head / "head.json").read_text())["embeddings"]).encode(data.texts)
    target = np.asarray([int(label) for label in data.labels])
    params = HeadParams(l2=1e-2)
    w = fit_softmax(vectors, target, 2, params)
    x = np.hstack([vectors, np.ones((len(vectors), 1))])
    logits = x @ w
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(2)[target]
    penalty = np.ones_like(w)
    penalty[-1] = 0
    gradient = x.T @ (p - onehot) / len(x) + params.l2 * penalty * w
    assert np.abs(gradient).max() < 1e-4
    # and it separates the training labels better than chance, the same on a second fit (deterministic)
    assert roc_auc(p[:, 1], target == 1) > 0.7
    assert np.array_equal(fit_softmax(vectors, target, 2, params), w)


def test_classifier_step_loads_a_head(head, dclm, tmp_path):
    data = read_labels(str(dclm))
    batch = make_batch({"id": [f"d{i}" for i in range(len(data))], "text": data.texts, "source": ["dclm"] * len(data)})
    tagged = build_step("classifier", {"model": str(head), "name": "edu"}).process(batch).kept
    expected = LinearHead(head).scores(data.texts, "1")
    assert np.allclose(tagged.column("edu.score").to_numpy(), expected)
    assert set(tagged.column("edu.label").to_pylist()) <= {"0", "1"}
    out = tmp_path / "out"
    recipe = {
        "input": {"path": str(dclm)},
        "steps": [{"classifier": {"model": str(head), "threshold": 0.5}}],
        "output": {"path": str(out)},
    }
    run(recipe, workers=2)
    assert len(read_output(str(out))) == int((expected >= 0.5).sum())
    rejected = read_output(str(out), rejected=True)
    assert set(rejected.column("reason").to_pylist()) <= {"classifier: below_threshold"}
    assert len(rejected) == int((expected < 0.5).sum())


def test_benchmark_cross_validates_the_head(head, dclm, tmp_path):
    out = tmp_path / "cv.json"
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "classifier_vs_heuristics.py"
    emb = json.loads((head / "head.json").read_text())["embeddings"]
    command = [sys.executable, str(script), "--labels", str(dclm), "--folds", "3", "--bucket", "20000"]
    subprocess.run([*command, "--head", "--embeddings", emb, "--json", str(out)], check=True, capture_output=True)
    result = json.loads(out.read_text())
    assert result["head"] == {"dim": 64, "l2": HeadParams.l2} and len(result["per_fold"]) == 3
    for who in ("classifier", "head", "heuristics"):
        assert 0.0 < result["pooled"][who]["roc_auc"] < 1.0
    assert all("head" in fold for fold in result["per_fold"])
