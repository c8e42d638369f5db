"""Classifier inference, Winnow's ``classifier`` step vs DataTrove 0.10's ``FastTextClassifierFilter``.

    .venv/bin/python benchmarks/classifier_vs_datatrove.py [--docs 5000] [--batch 1000]

The same fastText model file (trained here by ``winnow train-classifier`` on DCLM's human labels,
kept under benchmarks/work) scores the same first N corpus documents, one process each side.
DataTrove is configured to read a document as we do (``newline_replacement=" "``, document mode), so
the scores must be identical; the script reports the largest difference, each side's docs/s in
wall and CPU time (the machine may be shared: CPU time is the steadier measure) and the ratio (the median of 5 runs each).
DataTrove runs in benchmarks/.venv-peers (bash benchmarks/setup_peers.sh) as a subprocess of this
script (``--peer``) and sends its scores back as JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPEATS = 5  # each side scores the documents this many times; the median run (by CPU time) is shown
sys.path.insert(0, str(HERE))
from common import PEER_PYTHON, SHARED_DATA, WORK, corpus_head  # noqa: E402


def load(path: str) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            ids.append(row["id"])
            texts.append(row["text"])
    return ids, texts


def peer_main(corpus: str, model: str) -> None:
    from datatrove.data import Document
    from datatrove.pipeline.filters import FastTextClassifierFilter

    ids, texts = load(corpus)
    docs = [Document(text=t, id=i) for i, t in zip(ids, texts, strict=True)]
    # keep_labels with a 0 threshold keeps everything: DataTrove 0.10 fails to load a model when given
    # neither keep_labels nor remove_labels (it adds None to a list).
    step = FastTextClassifierFilter(
        model_url=model, keep_labels=("1", 0.0), newline_replacement=" ", save_labels_in_metadata=True
    )
    _ = step.model  # load before timing, as ours is
    runs = []
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        for doc in docs:
            step.filter(doc)
        runs.append((time.process_time() - cpu, time.perf_counter() - wall))
    cpu, wall = sorted(runs)[len(runs) // 2]
    scores = [doc.metadata.get("__label__1") for doc in docs]
    print(json.dumps({"wall": wall, "cpu": cpu, "scores": scores}))


def ours(corpus: str, model: str, batch_rows: int) -> dict:
    from winnow.records import make_batch
    from winnow.steps.registry import build_step

    ids, texts = load(corpus)
    step = build_step("classifier", {"model": model})
    step.check()  # loads the model
    batches = [
        make_batch(
            {
                "id": ids[i : i + batch_rows],
                "text": texts[i : i + batch_rows],
                "source": ["c"] * len(ids[i : i + batch_rows]),
            }
        )
        for i in range(0, len(ids), batch_rows)
    ]
    runs = []
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        scores = []
        for batch in batches:
            scores += step.process(batch).kept.column("classifier.score").to_pylist()
        runs.append((time.process_time() - cpu, time.perf_counter() - wall))
    cpu, wall = sorted(runs)[len(runs) // 2]
    return {"wall": wall, "cpu": cpu, "scores": scores}


def ensure_model() -> Path:
    from winnow.models.labels import read_labels
    from winnow.models.train_classifier import train_classifier

    path = WORK / "dclm-quality.bin"
    if not path.exists():
        labels = read_labels(str(SHARED_DATA / "quality" / "dclm" / "majority_data.jsonl"))
        train_classifier(labels, path, holdout=0.0)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--peer", nargs=2, metavar=("CORPUS", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        peer_main(*args.peer)
        return
    corpus, model = str(corpus_head(args.docs)), str(ensure_model())
    mine = ours(corpus, model, args.batch)
    peer_run = subprocess.run([str(PEER_PYTHON), __file__, "--peer", corpus, model], capture_output=True, text=True)
    if peer_run.returncode != 0:
        raise SystemExit(f"DataTrove side failed:\n{peer_run.stderr[-3000:]}")
    peer = json.loads(peer_run.stdout.strip().splitlines()[-1])
    diffs = [abs(a - b) for a, b in zip(mine["scores"], peer["scores"], strict=True)]
    n = len(mine["scores"])
    print(f"{n} documents, one process each, model {model}")
    print(f"largest score difference: {max(diffs):.3g} ({sum(d == 0 for d in diffs)} of {n} identical)")
    for clock in ("wall", "cpu"):
        print(
            f"{clock:4s}: winnow {n / mine[clock]:8.0f} docs/s   datatrove {n / peer[clock]:8.0f} docs/s   "
            f"ratio {peer[clock] / mine[clock]:.2f}x"
        )


if __name__ == "__main__":
    main()
