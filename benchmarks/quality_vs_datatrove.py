"""Quality filters, Winnow vs DataTrove 0.10, side by side on the same documents in one run.

    .venv/bin/python benchmarks/quality_vs_datatrove.py [--docs 5000] [--batch 1000]

On the first N documents of the corpus, one worker (one process each):

1. Speed: the chain gopher_repetition -> gopher_quality -> c4_quality -> fineweb_quality, ours
   (Winnow steps on Arrow batches) and DataTrove's same four filters (its pipeline generators,
   default English word tokenizer = spaCy). Per step: docs in, seconds, docs/s and MB/s of the text
   the step read, and the ratio. Our word-split cache is cleared first: both sides start cold.
2. Decisions: each filter alone on all N documents at default parameters (DataTrove's C4 filter
   rewrites the text, so every filter gets fresh copies). Agreement = same keep/drop decision;
   disagreements are listed by (our reason, DataTrove's reason).

DataTrove runs in benchmarks/.venv-peers (bash benchmarks/setup_peers.sh), as a subprocess of
this same script (``--peer``), and sends its numbers back as JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILTERS = ["gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality"]


def load_texts(path: str) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            ids.append(record["id"])
            texts.append(record["text"])
    return ids, texts


# --- DataTrove side (runs under benchmarks/.venv-peers/bin/python) -------------------------------
def peer_main(corpus: str, skip_agreement: bool) -> None:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    ids, texts = load_texts(corpus)
    classes = dict(
        zip(FILTERS, [GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter, FineWebQualityFilter], strict=True)
    )
    # Warm up spaCy (model construction is not per-document work).
    from datatrove.utils.text import split_into_words

    split_into_words("Warm up the tokenizer.")

    # 1. The chain, as DataTrove runs it: each filter's run() generator feeding the next.
    filters = [classes[name]() for name in FILTERS]
    docs_in = {name: [0, 0] for name in FILTERS}  # docs, bytes

    def counted(name, stream):
        for doc in stream:
            docs_in[name][0] += 1
            docs_in[name][1] += len(doc.text.encode("utf-8"))
            yield doc

    stream = iter([Document(text=t, id=i) for i, t in zip(ids, texts, strict=True)])
    for name, f in zip(FILTERS, filters, strict=True):
        stream = f.run(counted(name, stream))
    start = time.perf_counter()
    kept = sum(1 for _ in stream)
    chain_seconds = time.perf_counter() - start
    steps = {
        name: {"docs": docs_in[name][0], "bytes": docs_in[name][1], "seconds": f.stats.time_stats.total}
        for name, f in zip(FILTERS, filters, strict=True)
    }

    # 2. Each filter alone on every document (fresh documents: C4 rewrites text in place).
    decisions = {}
    for name in [] if skip_agreement else FILTERS:
        f = classes[name]()
        out = []
        for i, t in zip(ids, texts, strict=True):
            result = f.filter(Document(text=t, id=i))
            if isinstance(result, tuple):
                out.append(result[1] or "dropped")
            else:
                out.append(None if result else "dropped")
        decisions[name] = out
    print(json.dumps({"chain_seconds": chain_seconds, "kept": kept, "steps": steps, "decisions": decisions}))


# --- our side -----------------------------------------------------------------------------------
def ours(ids: list[str], texts: list[str], batch_size: int, skip_agreement: bool) -> dict:
    import pyarrow as pa

    from winnow.records import make_batch
    from winnow.registry import build_step
    from winnow.steps import words

    batches = [
        make_batch({"id": ids[i : i + batch_size], "text": texts[i : i + batch_size]})
        for i in range(0, len(ids), batch_size)
    ]
    words._CHUNKS.words.clear()  # start cold, like DataTrove
    words._LAST.__init__()
    steps = [build_step(name, {}) for name in FILTERS]
    stats = {name: {"docs": 0, "bytes": 0, "seconds": 0.0} for name in FILTERS}
    kept = 0
    chain_start = time.perf_counter()
    for batch in batches:
        for name, step in zip(FILTERS, steps, strict=True):
            stats[name]["docs"] += batch.num_rows
            stats[name]["bytes"] += pa.compute.sum(pa.compute.binary_length(batch.column("text"))).as_py() or 0
            start = time.perf_counter()
            batch = step.process(batch).kept
            stats[name]["seconds"] += time.perf_counter() - start
        kept += batch.num_rows
    chain_seconds = time.perf_counter() - chain_start

    decisions = {}
    for name in [] if skip_agreement else FILTERS:
        step = build_step(name, {})
        out = []
        for batch in batches:
            result = step.process(batch)
            reasons = dict.fromkeys(result.kept.column("id").to_pylist())
            if result.rejected is not None:
                for rid, reason in zip(
                    result.rejected.column("id").to_pylist(), result.rejected.column("reason").to_pylist(), strict=True
                ):
                    reasons[rid] = reason.split(": ", 1)[1]
            out.extend(reasons[i] for i in batch.column("id").to_pylist())
        decisions[name] = out
    return {"chain_seconds": chain_seconds, "kept": kept, "steps": stats, "decisions": decisions}


def rate(step: dict) -> tuple[float, float]:
    seconds = max(step["seconds"], 1e-9)
    return step["docs"] / seconds, step["bytes"] / 1e6 / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=5000, help="first N corpus documents (default 5000)")
    parser.add_argument("--batch", type=int, default=1000, help="our batch size (default 1000)")
    parser.add_argument("--skip-agreement", action="store_true", help="only measure speed")
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if args.peer:
        peer_main(args.peer, args.skip_agreement)
        return 0

    sys.path.insert(0, str(HERE))
    from common import PEER_PYTHON, corpus_head

    if not PEER_PYTHON.exists():
        print("DataTrove is not installed: run  bash benchmarks/setup_peers.sh", file=sys.stderr)
        return 2
    corpus = str(corpus_head(args.docs))
    ids, texts = load_texts(corpus)
    total_mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    print(f"{len(ids)} documents, {total_mb:.1f} MB of text, one worker each\n", flush=True)

    mine = ours(ids, texts, args.batch, args.skip_agreement)
    command = [str(PEER_PYTHON), __file__, "--peer", corpus] + (["--skip-agreement"] if args.skip_agreement else [])
    peer_run = subprocess.run(command, capture_output=True, text=True)
    if peer_run.returncode != 0:
        print(peer_run.stderr[-3000:], file=sys.stderr)
        return 1
    theirs = json.loads(peer_run.stdout.strip().splitlines()[-1])

    print("Speed: chain gopher_repetition -> gopher_quality -> c4_quality -> fineweb_quality")
    header = f"{'step':<18} {'docs in':>8} {'ours docs/s':>12} {'ours MB/s':>10} {'DT docs/s':>10} {'DT MB/s':>8} {'ratio':>7}"
    print(header)
    for name in FILTERS:
        o_docs, o_mb = rate(mine["steps"][name])
        t_docs, t_mb = rate(theirs["steps"][name])
        # Ratio of time per step on the same documents (our docs in may differ by a few).
        ratio = (theirs["steps"][name]["seconds"] / max(theirs["steps"][name]["docs"], 1)) / (
            mine["steps"][name]["seconds"] / max(mine["steps"][name]["docs"], 1)
        )
        print(
            f"{name:<18} {mine['steps'][name]['docs']:>8} {o_docs:>12.0f} {o_mb:>10.2f} "
            f"{t_docs:>10.1f} {t_mb:>8.2f} {ratio:>6.1f}x"
        )
    o_rate = len(ids) / mine["chain_seconds"]
    t_rate = len(ids) / theirs["chain_seconds"]
    print(
        f"{'chain':<18} {len(ids):>8} {o_rate:>12.0f} {total_mb / mine['chain_seconds']:>10.2f} "
        f"{t_rate:>10.1f} {total_mb / theirs['chain_seconds']:>8.2f} {o_rate / t_rate:>6.1f}x"
    )
    print(f"kept after the chain: ours {mine['kept']}, DataTrove {theirs['kept']}")
    print(f"chain wall time: ours {mine['chain_seconds']:.2f} s, DataTrove {theirs['chain_seconds']:.1f} s\n")

    results = {"docs": len(ids), "mb": total_mb, "ours": mine, "datatrove": theirs}
    if not args.skip_agreement:
        print("Decisions (each filter alone on every document, default parameters)")
        agreement = {}
        for name in FILTERS:
            a, b = mine["decisions"][name], theirs["decisions"][name]
            same = sum((x is None) == (y is None) for x, y in zip(a, b, strict=True))
            agreement[name] = same / len(a)
            both_drop = sum(x is not None and y is not None for x, y in zip(a, b, strict=True))
            print(
                f"{name:<18} agreement {same / len(a):.2%}  dropped: ours {sum(x is not None for x in a)}, "
                f"DataTrove {sum(y is not None for y in b)}, both {both_drop}"
            )
            differ = Counter((x, y) for x, y in zip(a, b, strict=True) if (x is None) != (y is None))
            for (x, y), count in differ.most_common(6):
                print(f"    {count:>4}  ours: {x or 'keep'}  DataTrove: {y or 'keep'}")
        results["agreement"] = agreement
    if args.json:
        for side in ("ours", "datatrove"):
            results[side] = {k: v for k, v in results[side].items() if k != "decisions"}
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
