"""Peak memory of exact + fuzzy dedup over 1,000,000 documents, end to end through `winnow run`.

The documents are the shared corpus repeated with random edits: copy k of a document has about
k % 10 percent of its words replaced, dropped or duplicated (seeded: the same input every time), and its own id, so the run has large clusters
of near-duplicates and many records that are only similar. Texts are cut to --max-chars (default 3000)
to keep the input at about 2 GB on a shared machine: the memory that must stay bounded is the per-record
state of the dedup phases (keys, buckets, edges, cluster tables), which does not depend on text length;
texts are only ever held one batch at a time.

Peak RSS is sampled every 0.2 s over the whole process tree (driver + worker processes); both the peak of
the sum and the peak of the largest single process are reported.

    .venv/bin/python benchmarks/dedup_memory.py [--docs 1000000] [--workers 2] [--max-chars 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "corpus" / "web.jsonl.zst"
NUM_FILES = 16


def _write_file(args: tuple[Path, int, int, int]) -> None:
    """Write input file ``index``: documents n = index, index + NUM_FILES, … (copy n // corpus size)."""
    import orjson
    import zstandard

    folder, index, n_docs, max_chars = args
    with zstandard.open(CORPUS, "rt", encoding="utf-8") as f:
        base = [orjson.loads(line) for line in f]
    rng = random.Random(index)
    with open(folder / f"part-{index:02d}.jsonl", "wb") as out:
        for n in range(index, n_docs, NUM_FILES):
            doc = base[n % len(base)]
            copy = n // len(base)
            text = doc["text"][:max_chars]
            if copy:
                words = text.split(" ")
                for _ in range(int(len(words) * (copy % 10) / 100)):
                    i = rng.randrange(len(words))
                    op = rng.random()
                    if op < 0.4:
                        words[i] = rng.choice(("data", "value", "the", "item", "12", "new"))
                    elif op < 0.7 and len(words) > 1:
                        del words[i]
                    else:
                        words.insert(i, words[i])
                text = " ".join(words)
            record = {"id": f"{doc['id']}#{copy}", "text": text, "source": doc["source"]}
            out.write(orjson.dumps(record) + b"\n")


def make_input(folder: Path, n_docs: int, max_chars: int, workers: int) -> None:
    from multiprocessing import Pool

    if (folder / "_done").exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with Pool(workers) as pool:
        pool.map(_write_file, [(folder, i, n_docs, max_chars) for i in range(NUM_FILES)])
    (folder / "_done").write_text("")


def tree_rss(pid: int) -> tuple[int, int]:
    """(sum, max) resident set size in bytes of ``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, largest, stack = 0, 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        largest = max(largest, rss.get(p, 0))
        stack.extend(children.get(p, []))
    return total, largest


def run_with_peak_rss(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, str]:
    """Run ``command``, sampling the RSS of its process tree every 0.2 s: (seconds, peak of the tree's
    sum, peak of its largest process, stdout); exits when the command fails."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    peak_total = peak_single = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_total, peak_single
        while not stop.is_set():
            total, largest = tree_rss(process.pid)
            peak_total, peak_single = max(peak_total, total), max(peak_single, largest)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = process.communicate()
    stop.set()
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"run failed with exit status {process.returncode}")
    return time.perf_counter() - start, peak_total, peak_single, stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-chars", type=int, default=3000)
    parser.add_argument("--work", default="/tmp/winnow-dedup-memory")
    args = parser.parse_args()
    work = Path(args.work)
    folder = work / f"input-{args.docs}-{args.max_chars}"
    start = time.perf_counter()
    make_input(folder, args.docs, args.max_chars, args.workers)
    megabytes = sum(p.stat().st_size for p in folder.glob("*.jsonl")) / 1e6
    print(
        f"input: {args.docs:,} docs, {megabytes:,.0f} MB in {NUM_FILES} JSONL files "
        f"(made in {time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    recipe = {
        "input": {"path": str(folder / "*.jsonl")},
        "steps": [{"exact_dedup": {}}, {"minhash_dedup": {}}],
        "output": {"path": str(out)},
    }
    code = (
        f"from winnow import run; import json; m = run({recipe!r}, workers={args.workers}); "
        "print(json.dumps([[s['name'], s['in'], s['out']] for s in m['steps']]))"
    )
    seconds, peak_total, peak_single, stdout = run_with_peak_rss([sys.executable, "-c", code])
    for name, n_in, n_out in json.loads(stdout.strip().splitlines()[-1]):
        print(f"  {name:14s} {n_in:>10,} -> {n_out:>10,}")
    print(f"{seconds:.0f} s, {args.docs / seconds:,.0f} docs/s, {megabytes / seconds:.1f} MB/s, {args.workers} workers")
    print(
        f"peak RSS: {peak_total / 2**30:.2f} GiB for the whole process tree, "
        f"{peak_single / 2**30:.2f} GiB for the largest process"
    )


if __name__ == "__main__":
    main()
