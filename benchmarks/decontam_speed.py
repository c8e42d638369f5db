"""Speed and flag rate of `decontaminate` against all 90,912 items of all_benchmarks.jsonl.zst.

    .venv/bin/python benchmarks/decontam_speed.py [--docs 10000] [--n 13]

Input: the first --docs documents of ../shared/data/corpus/web.jsonl.zst (a uniform sample). Ours: the
registered `decontaminate` stage (index built by ``prepare`` into a temporary work directory, then
``process`` on record batches of 2,048, as a run does). Timed: index build, and the streaming pass
(MB/s per core: one process). Reported: documents flagged on the untouched corpus, with the items named.

Peer: no peer can run here. DataTrove's n-gram decontamination (``NGramsDecontIndexer``) fetches its
benchmarks from the Hugging Face hub through lighteval at run time, and NeMo Curator's task
decontamination needs its GPU/Dask stack. So the side-by-side row is the textbook baseline those tools
implement, run in benchmarks/.venv-peers on the same texts: a Python ``set`` of the benchmarks'
normalised 13-gram strings, and each document's 13-grams looked up one by one.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DATA = ROOT.parent / "shared" / "data"
CORPUS = DATA / "corpus" / "web.jsonl.zst"
BENCH = DATA / "bench" / "all_benchmarks.jsonl.zst"
PEER_PYTHON = ROOT / "benchmarks" / ".venv-peers" / "bin" / "python"

BASELINE = r"""
import io, json, re, sys, time
import zstandard
n = int(sys.argv[3])
WORD = re.compile(r"[^\W_]+|_")  # letters/digits runs, like ours
def words(t):
    return [w for w in re.split(r"[^\w]+|_", t.lower()) if w]
start = time.process_time()
index = set()
with open(sys.argv[2], "rb") as raw:
    for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8"):
        w = words(json.loads(line)["text"])
        for i in range(len(w) - n + 1):
            index.add(" ".join(w[i:i + n]))
build = time.process_time() - start
texts = [json.loads(line)["text"] for line in open(sys.argv[1])]
start = time.process_time()
flagged = 0
for t in texts:
    w = words(t)
    if any(" ".join(w[i:i + n]) in index for i in range(len(w) - n + 1)):
        flagged += 1
print(json.dumps({"build": build, "cpu_seconds": time.process_time() - start, "flagged": flagged}))
"""


def load_texts(n: int) -> list[dict]:
    docs = []
    with open(CORPUS, "rb") as raw:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8"):
            docs.append(json.loads(line))
            if len(docs) >= n:
                break
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10000)
    parser.add_argument("--n", type=int, default=13)
    parser.add_argument("--show", type=int, default=10, help="flagged documents shown")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()

    from winnow.records import make_batch
    from winnow.stages.decontaminate import index_summary
    from winnow.steps.base import TaskRunner
    from winnow.steps.registry import build_step

    docs = load_texts(args.docs)
    texts = [d["text"] for d in docs]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts)} documents, {mb:.1f} MB of text; index: {BENCH.name}")

    step = build_step(
        "decontaminate",
        {
            "benchmarks": [{"path": str(BENCH), "fields": ["text"], "name_field": "benchmark", "id_field": "id"}],
            "n": args.n,
            "mode": "tag",
        },
    )
    step.check()
    with tempfile.TemporaryDirectory() as workdir:
        start = time.process_time()
        step.prepare([], workdir, TaskRunner())
        build = time.process_time() - start
        summary = index_summary(workdir)
        print(
            f"index built in {build:.1f} s CPU: {summary['items']} items, {summary['ngrams']} distinct {args.n}-grams, "
            f"{summary['template_ngrams_dropped']} template n-grams left out, "
            f"{summary['items_without_ngrams']} items left without n-grams"
        )
        batches = [
            make_batch({"id": [d["id"] for d in docs[s : s + 2048]], "text": texts[s : s + 2048]})
            for s in range(0, len(texts), 2048)
        ]
        step._index()  # load once before timing, as a worker does on its first batch
        start = time.process_time()
        flagged = []
        for batch in batches:
            out = step.process(batch).kept
            for doc_id, items, count in zip(
                out.column("id").to_pylist(),
                out.column("decontaminate.items").to_pylist(),
                out.column("decontaminate.ngrams").to_pylist(),
                strict=True,
            ):
                if items:
                    flagged.append((doc_id, items, count))
        seconds = time.process_time() - start
    ours = mb / seconds
    print(f"winnow decontaminate   {len(texts) / seconds:>8.0f} docs/s {ours:>7.1f} MB/s per core")
    print(
        f"flagged on the untouched corpus: {len(flagged)} of {len(texts)} documents "
        f"({100 * len(flagged) / len(texts):.3f}%); counters {dict(step.counters)}"
    )
    by_id = {d["id"]: d for d in docs}
    for doc_id, items, count in flagged[: args.show]:
        print(f"    {doc_id} ({by_id[doc_id]['source']}): {count} shared n-grams with {items}")

    if args.no_peer or not PEER_PYTHON.exists():
        print("baseline skipped" if args.no_peer else "peer environment missing: run `bash benchmarks/setup_peers.sh`")
        return
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    result = subprocess.run(
        [str(PEER_PYTHON), "-c", BASELINE, f.name, str(BENCH), str(args.n)], capture_output=True, text=True, check=True
    )
    Path(f.name).unlink()
    peer = json.loads(result.stdout.strip().splitlines()[-1])
    base = mb / peer["cpu_seconds"]
    print(
        f"python set baseline    {len(texts) / peer['cpu_seconds']:>8.0f} docs/s {base:>7.1f} MB/s per core "
        f"(index {peer['build']:.1f} s, flagged {peer['flagged']})"
    )
    print(f"ratio winnow / baseline: {ours / base:.2f}x")


if __name__ == "__main__":
    main()
