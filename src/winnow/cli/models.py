"""Training models from local data: ``winnow train-classifier``, ``winnow train-embeddings``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from winnow.cli.base import add_command, add_param_flags, params_from_args
from winnow.errors import WinnowError

if TYPE_CHECKING:
    from winnow.models.labels import LabelledTexts

CLASSIFIER_EXAMPLES = """examples:
  winnow train-classifier labels.jsonl -o models/quality.bin
  winnow train-classifier out/judged --label-column judge.label --positive good -o models/judge.bin
  winnow train-classifier labels.parquet -o q.bin --holdout 0.2 --epoch 25 --lr 1.0 --dim 32
  winnow train-classifier labels.jsonl --embeddings models/emb -o models/quality-head   # a linear head
  winnow train-classifier --from-feedback sqlite:///feedback.db quality -o models/quality.bin

LABELS is a JSONL or Parquet file of {text, label} rows, or a Winnow output directory with a label
column. Writes the model, and its card (model.card.json, model.card.md) with held-out precision,
recall, F1 and ROC AUC (a head directory holds card.json, card.md). Use it in a recipe:  - classifier: {model: models/quality.bin, threshold: 0.5}"""

EMBEDDINGS_EXAMPLES = """examples:
  winnow train-embeddings corpus.jsonl.zst -o models/emb
  winnow train-embeddings out/curated -o models/emb --method skipgram --dim 100

CORPUS is a JSONL/Parquet file with a text column, or a Winnow output directory. Writes a static
embedding model (model2vec layout: tokenizer.json, model.safetensors, config.json, card.json).
Use it in a recipe:  - embed: {model: models/emb}"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    help = "train a classifier (fastText, or a linear head on embeddings) from labelled texts"
    p = add_command(sub, "train-classifier", _cmd_train_classifier, help, CLASSIFIER_EXAMPLES)
    p.add_argument("labels", nargs="?", help="a {text, label} JSONL/Parquet file or a Winnow output directory")
    p.add_argument(
        "--from-feedback",
        nargs=2,
        metavar=("DB_URL", "PROJECT"),
        help="labels from a feedback-app label or rating project: its adjudicated, else majority, answers",
    )
    p.add_argument(
        "--feedback-question",
        metavar="NAME",
        help="with --from-feedback: the labels of the project's further rating or label question NAME",
    )
    p.add_argument("-o", "--output", required=True, help="the model file to write (.bin)")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--positive", help="the label scored as positive (default: '1' if present, else the last label)")
    p.add_argument("--holdout", type=float, default=0.2, help="share held out for the metrics (0: train on all)")
    p.add_argument("--embeddings", help="train a linear head on this local embedding model's vectors (-o: a directory)")
    p.add_argument("--l2", type=float, default=None, help="linear head: weight of the L2 penalty")
    from winnow.models.train_classifier import FastTextParams

    names = ("word_ngrams", "dim", "epoch", "lr", "min_count", "bucket", "seed")
    add_param_flags(p, FastTextParams(), names, help="fastText {name}")

    help = "train a static embedding model on a local corpus (model2vec layout)"
    p = add_command(sub, "train-embeddings", _cmd_train_embeddings, help, EMBEDDINGS_EXAMPLES)
    p.add_argument("corpus", help="a JSONL/Parquet file with a text column, or a Winnow output directory")
    p.add_argument("-o", "--output", required=True, help="the model directory to write")
    p.add_argument("--text-column", default="text")
    p.add_argument("--max-docs", type=int, default=None, help="train on the first N documents")
    from winnow.models.train_embeddings import EmbeddingParams

    defaults = EmbeddingParams()
    p.add_argument("--method", choices=["ppmi-svd", "skipgram"], default=defaults.method)
    add_param_flags(p, defaults, ("dim", "min_count", "max_vocab", "window", "epoch", "sif", "seed"))
    add_topics_command(sub)


TOPICS_EXAMPLES = """examples:
  winnow train-topics corpus.jsonl.zst --embeddings models/emb -o models/topics --clusters 20

Clusters the corpus (seeded k-means on its embeddings) and names each cluster by its top terms.
Use it in a recipe:  - domain: {topics: models/topics}   (tags domain.topic, domain.domain)"""


def add_topics_command(sub: argparse._SubParsersAction) -> None:
    help = "cluster a corpus into topics named by their top terms (for the domain step)"
    p = add_command(sub, "train-topics", _cmd_train_topics, help, TOPICS_EXAMPLES)
    p.add_argument("corpus", help="a JSONL/Parquet file with a text column, or a Winnow output directory")
    p.add_argument("--embeddings", required=True, help="a local embedding model (as for embed)")
    p.add_argument("-o", "--output", required=True, help="the topics directory to write")
    p.add_argument("--clusters", type=int, default=20)
    p.add_argument("--text-column", default="text")
    p.add_argument("--max-docs", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)


def _cmd_train_topics(args: argparse.Namespace) -> int:
    from winnow.models.labels import read_texts
    from winnow.models.topics import train_topics

    texts = read_texts(args.corpus, args.text_column, args.max_docs)
    topics = train_topics(texts, args.embeddings, Path(args.output), args.clusters, args.seed)
    for topic in sorted(topics, key=lambda t: -t.documents):
        print(f"{topic.index:4d} {topic.documents:8,d}  {topic.name}")
    print(f"wrote {args.output}")
    return 0


def _cmd_train_classifier(args: argparse.Namespace) -> int:
    from winnow.models.labels import read_labels
    from winnow.models.train_classifier import FastTextParams, train_classifier

    if (args.labels is None) == (args.from_feedback is None):
        raise WinnowError("train-classifier: give LABELS or --from-feedback DB_URL PROJECT (one of them)")
    data = read_labels(args.labels, args.text_column, args.label_column) if args.labels else _feedback_labels(args)
    params = params_from_args(FastTextParams, args)
    print(f"training on {len(data):,} labelled texts ({', '.join(data.classes())}) from {data.source}")
    if args.embeddings:
        from winnow.models.linear_head import HeadParams
        from winnow.models.train_classifier import train_head_classifier

        head = HeadParams() if args.l2 is None else HeadParams(l2=args.l2)
        out = Path(args.output)
        trained = train_head_classifier(data, args.embeddings, out, args.positive, args.holdout, head, params.seed)
    else:
        trained = train_classifier(data, Path(args.output), args.positive, args.holdout, params)
    card = trained.card
    if card.heldout and card.heldout_best:
        m, b = card.heldout, card.heldout_best
        print(
            f"held out {card.heldout_records:,}: ROC AUC {m['roc_auc']:.3f}; at 0.5 precision {m['precision']:.3f} "
            f"recall {m['recall']:.3f} F1 {m['f1']:.3f}; best F1 {b['f1']:.3f} at {b['threshold']:.3f}"
        )
    from winnow.models.card import card_path

    card_md = card_path(trained.path).with_suffix(".md")
    print(f"wrote {trained.path} and {card_md}")
    return 0


def _feedback_labels(args: argparse.Namespace) -> LabelledTexts:
    from winnow.feedback.service import Feedback

    url, project = args.from_feedback
    feedback = Feedback.open(url)
    try:
        found = feedback.labels(project, args.feedback_question)
    finally:
        feedback.close()
    left_out = ", ".join(f"{n:,} {why}" for why, n in sorted(found.left_out.items()))
    print(
        f"{project}: {len(found.data):,} labelled records ({found.adjudicated:,} adjudicated)"
        + (f"; left out: {left_out}" if left_out else "")
    )
    if len(found.data.classes()) < 2:
        raise WinnowError(f"{project}: needs at least two distinct labels to train on, found {found.data.classes()}")
    return found.data


def _cmd_train_embeddings(args: argparse.Namespace) -> int:
    from winnow.models.labels import read_texts
    from winnow.models.train_embeddings import EmbeddingParams, train_embeddings

    texts = read_texts(args.corpus, args.text_column, args.max_docs)
    params = params_from_args(EmbeddingParams, args)
    print(f"training {params.method} embeddings on {len(texts):,} documents from {args.corpus}")
    card = train_embeddings(texts, Path(args.output), params, args.corpus)
    print(f"wrote {args.output} ({'; '.join(card.notes)})")
    return 0
