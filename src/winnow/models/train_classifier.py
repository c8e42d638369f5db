"""Training a classifier from labelled texts — fastText (the DCLM recipe) or a linear head on embeddings
(the FineWeb-Edu recipe, ``train_head_classifier``) — and measuring it on held-out labels.

DCLM's quality classifier is a fastText supervised model over word uni- and bigrams; this trains the
same kind of model on a team's own labels. Training needs ``fasttext-numpy2-wheel``
(``pip install 'winnow[models]'``); the model it writes is read by ``FastTextClassifier`` with the
core dependencies only. One thread and a fixed seed: the same labels give the same model."""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from winnow.errors import WinnowError
from winnow.models.card import ModelCard
from winnow.models.classifier import LABEL_PREFIX, FastTextClassifier, one_line
from winnow.models.fasttext_training import fasttext_trainer, in_fresh_process
from winnow.models.labels import LabelledTexts
from winnow.models.linear_head import HeadParams, LinearHead, fit_softmax, save_head
from winnow.models.metrics import BinaryMetrics, at_threshold, best_threshold
from winnow.models.registry import load_embedder

NAN_RETRIES = 20


@dataclass(frozen=True)
class FastTextParams:
    """fastText ``train_supervised`` settings: word bigrams as DCLM; epochs, learning rate and a small
    dimension chosen by cross-validation on DCLM's 499 human labels (benchmarks/classifier_vs_heuristics.py:
    fastText's own defaults, lr 0.1 and 5 epochs, leave every score near 0.5 on a few hundred texts)."""

    word_ngrams: int = 2
    dim: int = 32
    epoch: int = 25
    lr: float = 1.0
    min_count: int = 1
    bucket: int = 200_000  # hash buckets of the word n-grams: the model's size is (words + bucket) × dim floats
    seed: int = 0


def train_fasttext(texts: list[str], labels: list[str], out: Path, params: FastTextParams) -> int:
    """Train on ``texts``/``labels`` and save the model to ``out`` (written atomically); returns the seed
    that trained it (``params.seed``, or a later one after a NaN)."""
    fasttext_trainer("training a classifier")  # fail here, with the install hint, not in the training process
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".train-") as tmp:
        train_file = Path(tmp) / "train.txt"
        with open(train_file, "w", encoding="utf-8") as f:
            for text, label in zip(texts, labels, strict=True):
                f.write(f"{LABEL_PREFIX}{label.replace(' ', '_')} {one_line(text)}\n")
        staged = Path(tmp) / "model.bin"
        seed, problem = in_fresh_process(_train_with_retries, str(train_file), asdict(params), str(staged))
        if problem:
            raise WinnowError(problem)
        os.replace(staged, out)
    return seed


def _train_with_retries(train_file: str, params: dict, staged: str) -> tuple[int, str | None]:
    """Train and save; returns (the seed that trained it, None) or (last seed, the problem)."""
    fasttext = fasttext_trainer("training a classifier")
    chosen = FastTextParams(**params)
    # fastText 0.9.2 sometimes stops with "Encountered NaN" on a few hundred texts, at any learning
    # rate, depending on the seed alone: try the next seeds, in order (so still reproducible).
    seed = chosen.seed
    for seed in range(chosen.seed, chosen.seed + NAN_RETRIES):
        try:
            model = _supervised(fasttext, Path(train_file), replace(chosen, seed=seed))
        except RuntimeError as error:
            if "NaN" not in str(error):
                return seed, f"fastText training failed: {error}"
            continue
        model.save_model(staged)
        return seed, None
    return seed, f"fastText training gave NaN with seeds {chosen.seed}..{seed}; try a lower --lr"


def _supervised(fasttext, train_file: Path, params: FastTextParams):
    return fasttext.train_supervised(
        input=str(train_file),
        wordNgrams=params.word_ngrams,
        dim=params.dim,
        epoch=params.epoch,
        lr=params.lr,
        minCount=params.min_count,
        bucket=params.bucket,
        seed=params.seed,
        thread=1,  # fastText's threads race on the weights: one thread keeps training reproducible
        verbose=0,
    )


def stratified_folds(labels: list[str], folds: int, seed: int) -> np.ndarray:
    """A fold number per record: each label's records shuffled (seeded) and dealt round-robin."""
    fold = np.zeros(len(labels), dtype=np.int64)
    rng = np.random.default_rng(seed)
    values = np.asarray(labels)
    for label in sorted(set(labels)):
        members = np.flatnonzero(values == label)
        fold[rng.permutation(members)] = np.arange(len(members)) % folds
    return fold


@dataclass(frozen=True)
class TrainedClassifier:
    path: Path
    card: ModelCard
    heldout: BinaryMetrics | None


def _positive_and_split(data: LabelledTexts, positive: str | None, holdout: float, seed: int):
    classes = data.classes()
    positive = positive or ("1" if "1" in classes else classes[-1])
    if positive not in classes:
        raise WinnowError(f"positive label {positive!r} is not among the labels {classes}")
    heldout_mask = np.zeros(len(data), dtype=bool)
    if holdout > 0:
        folds = max(2, round(1 / holdout))
        heldout_mask = stratified_folds(data.labels, folds, seed) == 0
    return positive, np.flatnonzero(~heldout_mask), np.flatnonzero(heldout_mask)


def _written_card(
    kind: str, out: Path, data: LabelledTexts, params: dict, labels: list[str], positive: str, split, scores, note: str
) -> TrainedClassifier:
    """Measure the held-out ``scores`` and write the model card beside ``out``."""
    train_idx, test_idx = split
    metrics = best = None
    if len(test_idx):
        truth = np.asarray([data.labels[i] == positive for i in test_idx])
        metrics, best = at_threshold(scores, truth, 0.5), best_threshold(scores, truth)
    card = ModelCard(
        kind=kind,
        model_file=out.name,
        source=data.source,
        params=params,
        labels=labels,
        positive_label=positive,
        train_records=len(train_idx),
        heldout_records=len(test_idx),
        heldout=metrics.as_dict() if metrics else None,
        heldout_best=best.as_dict() if best else None,
        notes=[note],
    )
    card.write(out)
    return TrainedClassifier(out, card, metrics)


def train_classifier(
    data: LabelledTexts,
    out: Path,
    positive: str | None = None,
    holdout: float = 0.2,
    params: FastTextParams | None = None,
) -> TrainedClassifier:
    """Train on all but a stratified ``holdout`` share of ``data``, measure on that share, write the
    model and its card. ``holdout=0`` trains on everything (no held-out numbers)."""
    params = params or FastTextParams()
    positive, train_idx, test_idx = _positive_and_split(data, positive, holdout, params.seed)
    seed = train_fasttext([data.texts[i] for i in train_idx], [data.labels[i] for i in train_idx], out, params)
    params = replace(params, seed=seed)
    model = FastTextClassifier(out)
    scores = model.scores([data.texts[i] for i in test_idx], positive) if len(test_idx) else np.zeros(0)
    note = "text is given to fastText as one line (newlines as spaces), as at inference"
    split = (train_idx, test_idx)
    return _written_card("fasttext-classifier", out, data, asdict(params), model.labels, positive, split, scores, note)


def train_head_classifier(
    data: LabelledTexts,
    embeddings: str,
    out: Path,
    positive: str | None = None,
    holdout: float = 0.2,
    params: HeadParams | None = None,
    seed: int = 0,
) -> TrainedClassifier:
    """A linear head (softmax logistic regression) on the vectors of the local embedding model
    ``embeddings``, trained on all but a stratified ``holdout`` share and measured on it; writes the
    head directory ``out`` with its card (``card.json``/``card.md``)."""
    params = params or HeadParams()
    positive, train_idx, test_idx = _positive_and_split(data, positive, holdout, seed)
    embedder = load_embedder(embeddings)
    vectors = embedder.encode(data.texts)
    labels = data.classes()
    target = np.asarray([labels.index(label) for label in data.labels])
    weights = fit_softmax(vectors[train_idx], target[train_idx], len(labels), params)
    save_head(out, weights, labels, embeddings)
    head = LinearHead(out, embedder)
    scores = head.probabilities_of_vectors(vectors[test_idx])[:, head.label_index(positive)]
    card_params = {**asdict(params), "embeddings": head.embeddings, "dim": int(vectors.shape[1]), "seed": seed}
    note = "softmax logistic regression (L-BFGS) on the embedding model's vectors (the FineWeb-Edu recipe)"
    return _written_card("linear-head", out, data, card_params, labels, positive, (train_idx, test_idx), scores, note)
