"""How well embedding cosine separates paraphrases from non-paraphrases (MSRP), for models trained here.

    .venv/bin/python benchmarks/embeddings_msrp.py [--corpus-docs 20000] [--method ppmi-svd skipgram] [--json OUT]
        [--model DIR ...]   # also score models a user brings (any local model the embed step loads)

Trains static embedding models (``winnow.models.train_embeddings``) locally, then scores every MSRP
pair (train + validation: 4,076 pairs, 1 = paraphrase) by the cosine of the two sentences' vectors:
ROC AUC and the F1 at the best threshold. Training corpora: the documentation-web corpus (its first
N documents: not news, so a domain mismatch), and the same plus the MSRP sentences themselves
(unlabelled text only — labels are never seen). Word-set Jaccard is shown as the lexical baseline;
embeddings earn their place where they beat it. Also reports encode throughput (docs/s, one process).

``--model DIR`` scores a local model as it is (``winnow.models.registry.load_embedder``: a model2vec
directory, a sentence-transformers directory — ``pip install -e ".[sentence-transformers]"`` — or a
fastText ``.bin``), beside the locally trained ones: what a real pretrained model buys. ``--method``
with no names trains none.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import SHARED_DATA, corpus_head  # noqa: E402

from winnow.models.metrics import best_threshold  # noqa: E402
from winnow.models.registry import load_embedder  # noqa: E402
from winnow.models.static import StaticEmbeddings  # noqa: E402
from winnow.models.train_embeddings import EmbeddingParams, train_embeddings  # noqa: E402


def msrp_pairs(folder: Path) -> tuple[list[str], list[str], np.ndarray]:
    a, b, labels = [], [], []
    for name in ("msrp-train.tsv", "msrp-val.tsv"):
        path = folder / name
        if not path.is_file():
            continue
        with open(path, encoding="utf-8-sig", newline="") as f:
            for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                if row[0] in ("0", "1") and len(row) == 5:
                    labels.append(int(row[0]))
                    a.append(row[3])
                    b.append(row[4])
    return a, b, np.asarray(labels)


def jaccard(a: list[str], b: list[str]) -> np.ndarray:
    out = []
    for x, y in zip(a, b, strict=True):
        s, t = set(x.lower().split()), set(y.lower().split())
        out.append(len(s & t) / max(len(s | t), 1))
    return np.asarray(out)


def evaluate(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    best = best_threshold(scores, labels)
    return {"roc_auc": best.roc_auc, "best_f1": best.f1, "threshold": best.threshold}


def score(model, a: list[str], b: list[str], labels: np.ndarray, docs: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """AUC and best-threshold F1 of the pairs' cosine, and encode speed (sentences/s, documents/s)."""
    started = time.perf_counter()
    va, vb = model.encode(a), model.encode(b)
    rate = 2 * len(a) / (time.perf_counter() - started)
    started = time.perf_counter()
    model.encode(docs)
    doc_rate = len(docs) / (time.perf_counter() - started)
    return {
        **evaluate((va * vb).sum(axis=1), labels),
        "sentences_per_s": round(rate),
        "corpus_docs_per_s": round(doc_rate),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paraphrase", type=Path, default=SHARED_DATA / "paraphrase")
    parser.add_argument("--corpus-docs", type=int, default=20000)
    parser.add_argument("--corpus", type=Path, default=None, help="a JSONL corpus (default: the shared corpus head)")
    parser.add_argument("--method", nargs="*", default=["ppmi-svd", "skipgram"])
    parser.add_argument("--model", nargs="*", type=Path, default=[], help="local models to score as they are")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    a, b, labels = msrp_pairs(args.paraphrase)
    corpus_file = args.corpus or corpus_head(args.corpus_docs)
    corpus = [json.loads(line)["text"] for line in open(corpus_file, encoding="utf-8")][: args.corpus_docs]
    result = {"pairs": len(labels), "paraphrases": int(labels.sum()), "jaccard": evaluate(jaccard(a, b), labels)}
    print(f"{len(labels)} MSRP pairs ({labels.mean():.0%} paraphrases); word Jaccard: {result['jaccard']}")
    for method in args.method:
        for name, texts in (("corpus", corpus), ("corpus+msrp", corpus + a + b)):
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                params = EmbeddingParams(method=method, dim=args.dim)
                train_embeddings(texts, Path(tmp) / "emb", params, name)
                trained = time.perf_counter() - started
                scores = score(StaticEmbeddings(Path(tmp) / "emb"), a, b, labels, corpus[:5000])
            key = f"{method}/{name}"
            result[key] = {**scores, "train_docs": len(texts), "train_seconds": round(trained, 1)}
            print(f"{key}: {result[key]}", flush=True)
    for path in args.model:
        key = f"model/{path.name}"
        result[key] = {**score(load_embedder(path), a, b, labels, corpus[:1000]), "path": str(path)}
        print(f"{key}: {result[key]}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
