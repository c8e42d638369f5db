"""Quality filters, Winnow vs DataTrove 0.10, side by side on the same documents in one run.

    .venv/bin/python benchmarks/quality_vs_datatrove.py [--docs 5000] [--batch 1000]

On the first N documents of the corpus, one worker (one process each):

1. Speed: the chain gopher_repetition -> gopher_quality -> c4_quality -> fineweb_quality, ours
   (Winnow steps on Arrow batches) and DataTrove's same four filters (its pipeline generators,
   default English word tokenizer = spaCy). Per step: docs in, seconds, docs/s and MB/s of the text
   the step read, and the ratio, in wall time and in CPU time (the machine may be shared: CPU time
   is the steadier measure). Our caches are cleared before each run, so both sides start cold;
   our chain (seconds) runs --repeats times and the median run is shown, DataTrove's (minutes) once.
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

    cpu = dict.fromkeys(FILTERS, 0.0)

    def cpu_timed(name, judge):
        def timed(doc):
            start = time.process_time()
            try:
                return judge(doc)
            finally:
                cpu[name] += time.process_time() - start

        return timed

    stream = iter([Document(text=t, id=i) for i, t in zip(ids, texts, strict=True)])
    for name, f in zip(FILTERS, filters, strict=True):
        f.filter = cpu_timed(name, f.filter)
        stream = f.run(counted(name, stream))
    start, start_cpu = time.perf_counter(), time.process_time()
    kept = sum(1 for _ in stream)
    chain_seconds, chain_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    steps = {
        name: {
            "docs": docs_in[name][0],
            "bytes": docs_in[name][1],
            "seconds": f.stats.time_stats.total,
            "cpu_seconds": cpu[name],
        }
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
    print(
        json.dumps(
            {
                "chain_seconds": chain_seconds,
                "chain_cpu_seconds": chain_cpu,
                "kept": kept,
                "steps": steps,
                "decisions": decisions,
            }
        )
    )


# --- our side -----------------------------------------------------------------------------------
def ours(ids: list[str], texts: list[str], batch_size: int, skip_agreement: bool, repeats: int) -> dict:
    from winnow.records import make_batch
    from winnow.steps.registry import build_step

    batches = [
        make_batch({"id": ids[i : i + batch_size], "text": texts[i : i + batch_size]})
        for i in range(0, len(ids), batch_size)
    ]
    runs = [_our_chain(batches) for _ in range(repeats)]
    median = sorted(runs, key=lambda r: r["chain_seconds"])[len(runs) // 2]

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
    return {**median, "decisions": decisions, "runs_wall_seconds": [r["chain_seconds"] for r in runs]}


def _our_chain(batches: list) -> dict:
    import pyarrow.compute as pc

    from winnow.steps.base import share_kernels
    from winnow.steps.registry import build_step

    steps = [build_step(name, {}) for name in FILTERS]  # new steps start cold, like DataTrove
    share_kernels(steps)  # one word splitter for the chain, as in a recipe
    stats = {name: {"docs": 0, "bytes": 0, "seconds": 0.0, "cpu_seconds": 0.0} for name in FILTERS}
    kept = 0
    chain_start, chain_cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        for name, step in zip(FILTERS, steps, strict=True):
            stats[name]["docs"] += batch.num_rows
            stats[name]["bytes"] += pc.sum(pc.binary_length(batch.column("text"))).as_py() or 0
            start, start_cpu = time.perf_counter(), time.process_time()
            batch = step.process(batch).kept
            stats[name]["seconds"] += time.perf_counter() - start
            stats[name]["cpu_seconds"] += time.process_time() - start_cpu
        kept += batch.num_rows
    return {
        "chain_seconds": time.perf_counter() - chain_start,
        "chain_cpu_seconds": time.process_time() - chain_cpu,
        "kept": kept,
        "steps": stats,
    }


def rate(step: dict, key: str) -> tuple[float, float]:
    seconds = max(step[key], 1e-9)
    return step["docs"] / seconds, step["bytes"] / 1e6 / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=5000, help="first N corpus documents (default 5000)")
    parser.add_argument("--batch", type=int, default=1000, help="our batch size (default 1000)")
    parser.add_argument("--skip-agreement", action="store_true", help="only measure speed")
    parser.add_argument("--repeats", type=int, default=3, help="runs of our chain; the median is reported")
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

    mine = ours(ids, texts, args.batch, args.skip_agreement, args.repeats)
    command = [str(PEER_PYTHON), __file__, "--peer", corpus] + (["--skip-agreement"] if args.skip_agreement else [])
    peer_run = subprocess.run(command, capture_output=True, text=True)
    if peer_run.returncode != 0:
        print(peer_run.stderr[-3000:], file=sys.stderr)
        return 1
    theirs = json.loads(peer_run.stdout.strip().splitlines()[-1])

    for clock, key, chain_key in (("wall", "seconds", "chain_seconds"), ("CPU", "cpu_seconds", "chain_cpu_seconds")):
        print(f"Speed ({clock} time): chain gopher_repetition -> gopher_quality -> c4_quality -> fineweb_quality")
        print(
            f"{'step':<18} {'docs in':>8} {'ours docs/s':>12} {'ours MB/s':>10} {'DT docs/s':>10} {'DT MB/s':>8} {'ratio':>7}"
        )
        for name in FILTERS:
            o_docs, o_mb = rate(mine["steps"][name], key)
            t_docs, t_mb = rate(theirs["steps"][name], key)
            print(
                f"{name:<18} {mine['steps'][name]['docs']:>8} {o_docs:>12.0f} {o_mb:>10.2f} "
                f"{t_docs:>10.1f} {t_mb:>8.2f} {o_docs / t_docs:>6.1f}x"
            )
        o_rate, t_rate = len(ids) / mine[chain_key], len(ids) / theirs[chain_key]
        print(
            f"{'chain':<18} {len(ids):>8} {o_rate:>12.0f} {total_mb / mine[chain_key]:>10.2f} "
            f"{t_rate:>10.1f} {total_mb / theirs[chain_key]:>8.2f} {o_rate / t_rate:>6.1f}x"
        )
        print(f"chain {clock} seconds: ours {mine[chain_key]:.2f}, DataTrove {theirs[chain_key]:.1f}\n")
    print(f"our chain, wall seconds of each run: {', '.join(f'{s:.2f}' for s in mine['runs_wall_seconds'])}")
    print(f"kept after the chain: ours {mine['kept']}, DataTrove {theirs['kept']}\n")

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
