"""Classifiers trained on human labels (fastText; a linear head on embeddings) vs the heuristic chain,
at agreeing with held-out labels.

    .venv/bin/python benchmarks/classifier_vs_heuristics.py [--labels FILE] [--folds 5] [--json OUT]
        [--head] [--embeddings EMB_DIR | --embedding-docs 3000] [--l2 0.001]

On DCLM's human-annotated web documents (``quality/dclm/majority_data.jsonl``: 499 documents,
1 = keep; ``agreement_data.jsonl`` is the subset of 281 on which the annotators agreed), with
stratified k-fold cross-validation (seeded): each fold's documents are scored by a classifier
trained (``winnow.models.train_classifier``) on the other folds, and judged by the heuristic chain
gopher_quality → c4_quality → fineweb_quality (Winnow's steps at their default thresholds; they
learn nothing, so the folds only group their numbers the same way). Reported per fold and pooled:

* ROC AUC: the classifier's score; for the heuristics, the number of the three filters a document
  passes (0-3), each run alone on the original text — their only graded signal;
* accuracy, precision, recall, F1 of the keep decision: the classifier at score ≥ 0.5, the chain
  keeping a document that passes all three.

With ``--head``, a third column: the linear head (``winnow.models.linear_head``, the FineWeb-Edu
recipe) trained on the same folds over the vectors of a static embedding model — ``--embeddings``, or
one trained here (``train-embeddings``, PPMI-SVD, 128 dims) on the first ``--embedding-docs`` corpus
documents, which holds no label and none of the labelled texts.

The agreed-on subset is reported separately (the labels there are the least noisy).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import SHARED_DATA, corpus_embedding_model  # noqa: E402

from winnow.models.classifier import FastTextClassifier  # noqa: E402
from winnow.models.labels import read_labels  # noqa: E402
from winnow.models.linear_head import HeadParams, fit_softmax, softmax  # noqa: E402
from winnow.models.metrics import at_threshold  # noqa: E402
from winnow.models.registry import load_embedder  # noqa: E402
from winnow.models.train_classifier import FastTextParams, stratified_folds, train_fasttext  # noqa: E402
from winnow.records import make_batch  # noqa: E402
from winnow.steps.registry import build_step  # noqa: E402

CHAIN = ["gopher_quality", "c4_quality", "fineweb_quality"]


def heuristic_passes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per text: how many of the chain's filters it passes alone, and whether it passes the chain."""
    batch = make_batch({"id": [str(i) for i in range(len(texts))], "text": texts, "source": ["dclm"] * len(texts)})
    alone = np.zeros(len(texts), dtype=np.int64)
    for name in CHAIN:
        kept = build_step(name, {}).process(batch).kept
        alone[[int(i) for i in kept.column("id").to_pylist()]] += 1
    chained = batch
    for name in CHAIN:
        chained = build_step(name, {}).process(chained).kept
    passes = np.zeros(len(texts), dtype=bool)
    passes[[int(i) for i in chained.column("id").to_pylist()]] = True
    return alone, passes


def summary(scores: np.ndarray, decision: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    graded = at_threshold(scores, truth, 0.5)
    decided = at_threshold(decision.astype(np.float64), truth, 0.5)
    return {
        "roc_auc": graded.roc_auc,
        "accuracy": decided.accuracy,
        "precision": decided.precision,
        "recall": decided.recall,
        "f1": decided.f1,
    }


def head_scores(vectors: np.ndarray, truth: np.ndarray, fold: np.ndarray, l2: float) -> np.ndarray:
    """Each fold's score of label 1 by a linear head fitted on the other folds."""
    scores = np.zeros(len(vectors), dtype=np.float64)
    target = truth.astype(np.int64)
    for k in np.unique(fold):
        train, test = fold != k, fold == k
        w = fit_softmax(vectors[train], target[train], 2, HeadParams(l2=l2))
        scores[test] = softmax(vectors[test] @ w[:-1] + w[-1])[:, 1]
    return scores


def cross_validate(
    labels_file: Path, folds: int, params: FastTextParams, agreed: set[str], vectors: np.ndarray | None = None, l2=1e-3
) -> dict:
    data = read_labels(str(labels_file))
    truth = np.asarray([label == "1" for label in data.labels])
    fold = stratified_folds(data.labels, folds, params.seed)
    scores = np.zeros(len(data), dtype=np.float64)
    sides = {"classifier": (scores, 0.5)}
    if vectors is not None:
        sides["head"] = (head_scores(vectors, truth, fold, l2), 0.5)
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(folds):
            train = np.flatnonzero(fold != k)
            model_file = Path(tmp) / f"fold-{k}.bin"
            train_fasttext([data.texts[i] for i in train], [data.labels[i] for i in train], model_file, params)
            test = np.flatnonzero(fold == k)
            scores[test] = FastTextClassifier(model_file).scores([data.texts[i] for i in test], "1")
            model_file.unlink()
    alone, passes = heuristic_passes(data.texts)
    per_fold = []
    for k in range(folds):
        test = fold == k
        row = {"fold": k, "n": int(test.sum())}
        row.update({who: summary(v[test], v[test] >= t, truth[test]) for who, (v, t) in sides.items()})
        row["heuristics"] = summary(alone[test].astype(np.float64), passes[test], truth[test])
        per_fold.append(row)
    subset = np.asarray([t in agreed for t in data.texts])
    result = {
        "labels": str(labels_file),
        "documents": len(data),
        "keep_share": float(truth.mean()),
        "folds": folds,
        "fasttext": params.__dict__,
        "per_fold": per_fold,
        "pooled": {
            **{who: summary(v, v >= t, truth) for who, (v, t) in sides.items()},
            "heuristics": summary(alone.astype(np.float64), passes, truth),
        },
    }
    if vectors is not None:
        result["head"] = {"dim": int(vectors.shape[1]), "l2": l2}
    for who in (*sides, "heuristics"):
        values = [f[who] for f in per_fold]
        result.setdefault("mean", {})[who] = {m: float(np.mean([v[m] for v in values])) for m in values[0]}
        result.setdefault("std", {})[who] = {m: float(np.std([v[m] for v in values])) for m in values[0]}
    if subset.any():
        result["agreed_subset"] = {
            "n": int(subset.sum()),
            **{who: summary(v[subset], v[subset] >= t, truth[subset]) for who, (v, t) in sides.items()},
            "heuristics": summary(alone[subset].astype(np.float64), passes[subset], truth[subset]),
        }
    return result


def print_table(result: dict) -> None:
    print(f"{result['documents']} labelled documents ({result['keep_share']:.0%} keep), {result['folds']}-fold CV")
    sides = [w for w in ("classifier", "head", "heuristics") if w in result["mean"]]
    print(f"{'':12s} {'metric':10s}" + "".join(f" {w:>18s}" for w in sides))
    for metric in ("roc_auc", "accuracy", "precision", "recall", "f1"):
        row = [f"{result['mean'][w][metric]:.3f} ± {result['std'][w][metric]:.3f}" for w in sides]
        print(f"{'mean±std':12s} {metric:10s}" + "".join(f" {r:>18s}" for r in row))
    for name in ("pooled", "agreed_subset"):
        if name in result:
            part = result[name]
            for metric in ("roc_auc", "accuracy", "f1"):
                print(f"{name:12s} {metric:10s}" + "".join(f" {part[w][metric]:18.3f}" for w in sides))


def label_vectors(labels_file: Path, embeddings: Path | None, embedding_docs: int, dim: int) -> np.ndarray:
    """The labelled texts' vectors from ``embeddings``, or from a model trained on corpus documents."""
    model = embeddings or corpus_embedding_model(embedding_docs, dim)
    return load_embedder(model).encode(read_labels(str(labels_file)).texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=Path, default=SHARED_DATA / "quality" / "dclm" / "majority_data.jsonl")
    parser.add_argument("--agreed", type=Path, default=None, help="default: agreement_data.jsonl beside --labels")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epoch", type=int, default=FastTextParams.epoch)
    parser.add_argument("--lr", type=float, default=FastTextParams.lr)
    parser.add_argument("--dim", type=int, default=FastTextParams.dim)
    parser.add_argument("--word-ngrams", type=int, default=FastTextParams.word_ngrams)
    parser.add_argument("--bucket", type=int, default=FastTextParams.bucket)
    parser.add_argument("--json", type=Path, help="write the numbers here")
    parser.add_argument("--head", action="store_true", help="also a linear head on embeddings")
    parser.add_argument("--embeddings", type=Path, help="the head's embedding model (default: train one)")
    parser.add_argument("--embedding-docs", type=int, default=3000, help="corpus documents to train it on")
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--l2", type=float, default=HeadParams.l2)
    args = parser.parse_args()
    agreed_file = args.agreed or args.labels.with_name("agreement_data.jsonl")
    agreed = set(read_labels(str(agreed_file)).texts) if agreed_file.is_file() else set()
    params = FastTextParams(
        word_ngrams=args.word_ngrams, dim=args.dim, epoch=args.epoch, lr=args.lr, bucket=args.bucket, seed=args.seed
    )
    vectors = None
    if args.head:
        vectors = label_vectors(args.labels, args.embeddings, args.embedding_docs, args.embedding_dim)
    result = cross_validate(args.labels, args.folds, params, agreed, vectors, args.l2)
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
