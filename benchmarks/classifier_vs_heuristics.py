"""A fastText classifier trained on human labels vs the heuristic chain, at agreeing with held-out labels.

    .venv/bin/python benchmarks/classifier_vs_heuristics.py [--labels FILE] [--folds 5] [--json OUT]

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
from common import SHARED_DATA  # noqa: E402

from winnow.models.classifier import FastTextClassifier  # noqa: E402
from winnow.models.labels import read_labels  # noqa: E402
from winnow.models.metrics import at_threshold  # noqa: E402
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


def cross_validate(labels_file: Path, folds: int, params: FastTextParams, agreed: set[str]) -> dict:
    data = read_labels(str(labels_file))
    truth = np.asarray([label == "1" for label in data.labels])
    fold = stratified_folds(data.labels, folds, params.seed)
    scores = np.zeros(len(data), dtype=np.float64)
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
        per_fold.append(
            {
                "fold": k,
                "n": int(test.sum()),
                "classifier": summary(scores[test], scores[test] >= 0.5, truth[test]),
                "heuristics": summary(alone[test].astype(np.float64), passes[test], truth[test]),
            }
        )
    subset = np.asarray([t in agreed for t in data.texts])
    result = {
        "labels": str(labels_file),
        "documents": len(data),
        "keep_share": float(truth.mean()),
        "folds": folds,
        "fasttext": params.__dict__,
        "per_fold": per_fold,
        "pooled": {
            "classifier": summary(scores, scores >= 0.5, truth),
            "heuristics": summary(alone.astype(np.float64), passes, truth),
        },
    }
    for who in ("classifier", "heuristics"):
        values = [f[who] for f in per_fold]
        result.setdefault("mean", {})[who] = {m: float(np.mean([v[m] for v in values])) for m in values[0]}
        result.setdefault("std", {})[who] = {m: float(np.std([v[m] for v in values])) for m in values[0]}
    if subset.any():
        result["agreed_subset"] = {
            "n": int(subset.sum()),
            "classifier": summary(scores[subset], scores[subset] >= 0.5, truth[subset]),
            "heuristics": summary(alone[subset].astype(np.float64), passes[subset], truth[subset]),
        }
    return result


def print_table(result: dict) -> None:
    print(f"{result['documents']} labelled documents ({result['keep_share']:.0%} keep), {result['folds']}-fold CV")
    print(f"{'':12s} {'metric':10s} {'classifier':>18s} {'heuristics':>18s}")
    for metric in ("roc_auc", "accuracy", "precision", "recall", "f1"):
        row = [
            f"{result['mean'][w][metric]:.3f} ± {result['std'][w][metric]:.3f}" for w in ("classifier", "heuristics")
        ]
        print(f"{'mean±std':12s} {metric:10s} {row[0]:>18s} {row[1]:>18s}")
    for name in ("pooled", "agreed_subset"):
        if name in result:
            part = result[name]
            for metric in ("roc_auc", "accuracy", "f1"):
                print(f"{name:12s} {metric:10s} {part['classifier'][metric]:18.3f} {part['heuristics'][metric]:18.3f}")


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
    args = parser.parse_args()
    agreed_file = args.agreed or args.labels.with_name("agreement_data.jsonl")
    agreed = set(read_labels(str(agreed_file)).texts) if agreed_file.is_file() else set()
    params = FastTextParams(
        word_ngrams=args.word_ngrams, dim=args.dim, epoch=args.epoch, lr=args.lr, bucket=args.bucket, seed=args.seed
    )
    result = cross_validate(args.labels, args.folds, params, agreed)
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
