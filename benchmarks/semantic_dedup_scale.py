"""Semantic dedup end to end through `winnow run`: wall time and peak RSS, on the whole corpus or on N
documents scaled from it.

The input is dedup_memory.py's: the shared corpus repeated with seeded random edits (copy k of a
document has about k % 10 percent of its words replaced, dropped or duplicated), texts cut to
--max-chars, in 16 JSONL files; with the default --docs (the corpus size) it is the corpus itself.
The recipe is one `semantic_dedup` stage (threshold 0.95, one k-means cluster per ~1,000 records)
embedding with a static model trained here on the first 3,000 corpus documents (train-embeddings,
PPMI-SVD, 128 dims). Peak RSS is sampled every 0.2 s over the whole process tree.

    .venv/bin/python benchmarks/semantic_dedup_scale.py [--docs N] [--workers 2] [--max-chars 3000] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import CORPUS, corpus_embedding_model  # noqa: E402
from dedup_memory import NUM_FILES, make_input, run_with_peak_rss  # noqa: E402


def corpus_size() -> int:
    import zstandard

    with zstandard.open(CORPUS, "rt", encoding="utf-8") as f:
        return sum(1 for _ in f)


def run_measured(recipe: dict, workers: int) -> tuple[float, int, int, list]:
    """Run ``recipe`` in a child process: (seconds, peak RSS of the tree, of the largest process, steps)."""
    code = (
        f"from winnow import run; import json; m = run({recipe!r}, workers={workers}); "
        "print(json.dumps([[s['name'], s['in'], s['out'], s.get('prepare_wall_seconds')] for s in m['steps']]))"
    )
    env = {**os.environ, "RAYON_NUM_THREADS": "1"}  # tokenizers: one thread per worker on a shared machine
    seconds, peak_total, peak_single, stdout = run_with_peak_rss([sys.executable, "-c", code], env)
    return seconds, peak_total, peak_single, json.loads(stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=0, help="documents (default: the corpus size, no copies)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-chars", type=int, default=3000)
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--work", default="/tmp/winnow-semantic-scale")
    parser.add_argument("--json", type=Path, help="write the numbers here")
    args = parser.parse_args()
    docs = args.docs or corpus_size()
    model = corpus_embedding_model(3000, 128)
    work = Path(args.work)
    folder = work / f"input-{docs}-{args.max_chars}"
    started = time.perf_counter()
    make_input(folder, docs, args.max_chars, args.workers)
    megabytes = sum(p.stat().st_size for p in folder.glob("*.jsonl")) / 1e6
    print(
        f"input: {docs:,} docs, {megabytes:,.0f} MB in {NUM_FILES} JSONL files ({time.perf_counter() - started:.0f} s)"
    )
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    recipe = {
        "input": {"path": str(folder / "*.jsonl")},
        "steps": [{"semantic_dedup": {"model": str(model), "threshold": args.threshold}}],
        "output": {"path": str(out)},
    }
    seconds, peak_total, peak_single, steps = run_measured(recipe, args.workers)
    for name, n_in, n_out, _ in steps:
        print(f"  {name:14s} {n_in:>10,} -> {n_out:>10,}")
    print(f"{seconds:.0f} s, {docs / seconds:,.0f} docs/s, {args.workers} workers")
    print(f"peak RSS: {peak_total / 2**30:.2f} GiB (process tree), {peak_single / 2**30:.2f} GiB (largest process)")
    print(f"load average: {os.getloadavg()}")
    if args.json:
        result = {
            "docs": docs,
            "max_chars": args.max_chars,
            "workers": args.workers,
            "seconds": seconds,
            "peak_rss_tree_bytes": peak_total,
            "peak_rss_largest_bytes": peak_single,
            "steps": steps,
            "load_average_after": os.getloadavg(),
        }
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
