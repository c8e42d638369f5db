"""Fuzzy dedup end to end, side by side: winnow minhash_dedup vs DataTrove's 4-stage MinHash vs datasketch MinHashLSH.

Same input (the shared corpus, 55,655 docs / 355 MB, cut into 8 JSONL files so every tool can use 2 workers),
same shingles (word 5-grams), same 112 hashes as 14 bands × 8 rows, 2 workers each, read → signatures →
buckets → clusters → write the kept documents. Each tool runs in its own subprocess (the peers in
benchmarks/.venv-peers), timed from start to exit.

"True duplicate pairs": a reference set built independently of the three runs (a very sensitive LSH, 37 bands ×
3 rows, every candidate pair checked by exact word-5-gram Jaccard >= 0.8); a tool finds a pair when it puts both
documents in one cluster.

    .venv/bin/python benchmarks/dedup_vs_peers.py [--limit N] [--skip datasketch,datatrove]

Only the standard library is imported at the top: the same file runs the peers under their own Python.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT.parent / "shared" / "data" / "corpus" / "web.jsonl.zst"
PEER_PYTHON = HERE / ".venv-peers" / "bin" / "python"
NUM_FILES = 8
NGRAM, BANDS, ROWS, WORKERS = 5, 14, 8, 2


def prepare_input(work: Path, limit: int | None) -> Path:
    """The corpus as NUM_FILES plain JSONL files (round-robin), written once per limit."""
    import zstandard

    folder = work / f"input-{limit or 'all'}"
    if (folder / "_done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    outs = [open(folder / f"part-{i:02d}.jsonl", "w", encoding="utf-8") for i in range(NUM_FILES)]
    with zstandard.open(CORPUS, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f):
            if limit and n >= limit:
                break
            outs[n % NUM_FILES].write(line)
    for o in outs:
        o.close()
    (folder / "_done").write_text("")
    return folder


# -- the three runs; each writes clusters.jsonl: {"id", "cluster", "kept"} for every document in a cluster ----
def run_winnow(input_dir: Path, out: Path) -> None:
    from winnow import read_output, run

    recipe = {
        "input": {"path": str(input_dir / "*.jsonl")},
        "steps": [{"minhash_dedup": {"ngram": NGRAM, "num_perm": BANDS * ROWS, "bands": BANDS, "rows": ROWS}}],
        "output": {"path": str(out / "run")},
    }
    run(recipe, executor="local", workers=WORKERS)
    with open(out / "clusters.jsonl", "w") as f:
        for table, kept in (
            (read_output(str(out / "run")), True),
            (read_output(str(out / "run"), rejected=True), False),
        ):
            ids = table.column("id").to_pylist()
            sizes = table.column("minhash_dedup.cluster_size").to_pylist()
            clusters = table.column("minhash_dedup.cluster_id").to_pylist()
            for i, size, cluster in zip(ids, sizes, clusters, strict=True):
                if size > 1:
                    f.write(json.dumps({"id": i, "cluster": cluster, "kept": kept}) + "\n")


def run_datatrove(input_dir: Path, out: Path) -> None:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    config = MinhashConfig(
        hash_config=HashConfig(precision=64), n_grams=NGRAM, num_buckets=BANDS, hashes_per_bucket=ROWS
    )
    tasks = NUM_FILES

    def reader() -> JsonlReader:
        return JsonlReader(str(input_dir), glob_pattern="*.jsonl", compression=None)

    stages = [
        ([reader(), MinhashDedupSignature(output_folder=str(out / "sigs"), config=config)], tasks),
        (
            [MinhashDedupBuckets(input_folder=str(out / "sigs"), output_folder=str(out / "buckets"), config=config)],
            config.num_buckets,
        ),
        (
            [
                MinhashDedupCluster(
                    input_folder=str(out / "buckets"),
                    output_folder=str(out / "remove"),
                    config=config,
                    save_cluster_id=True,
                )
            ],
            1,
        ),
        (
            [
                reader(),
                MinhashDedupFilter(
                    input_folder=str(out / "remove"),
                    load_cluster_ids=True,
                    exclusion_writer=JsonlWriter(str(out / "removed"), compression=None),
                ),
                JsonlWriter(str(out / "kept"), compression=None),
            ],
            tasks,
        ),
    ]
    for i, (pipeline, n) in enumerate(stages):
        LocalPipelineExecutor(
            pipeline=pipeline, tasks=n, workers=WORKERS, logging_dir=str(out / f"logs{i}"), skip_completed=False
        ).run()
    with open(out / "clusters.jsonl", "w") as f:
        for folder, kept in (("kept", True), ("removed", False)):
            for path in sorted((out / folder).glob("*.jsonl")):
                for line in open(path):
                    doc = json.loads(line)
                    cluster = doc.get("metadata", {}).get("minhash_cluster_id", -1)
                    if cluster != -1:
                        f.write(json.dumps({"id": doc["id"], "cluster": cluster, "kept": kept}) + "\n")


def _datasketch_signatures(texts: list[str]) -> list:
    import re

    import numpy as np
    from datasketch import MinHash

    word = re.compile(r"\w+")
    out = []
    for text in texts:
        words = word.findall(text.lower())
        grams = {" ".join(words[i : i + NGRAM]) for i in range(max(1, len(words) - NGRAM + 1))} if words else set()
        m = MinHash(num_perm=BANDS * ROWS, seed=1, scheme="affine32")
        m.update_batch([g.encode() for g in grams])
        out.append(np.asarray(m.hashvalues))
    return out


def run_datasketch(input_dir: Path, out: Path) -> None:
    from multiprocessing import Pool

    from datasketch import MinHash, MinHashLSH

    docs = []
    for path in sorted(input_dir.glob("*.jsonl")):
        docs.extend(json.loads(line) for line in open(path))
    chunk = 500
    with Pool(WORKERS) as pool:
        sigs = [
            s
            for part in pool.map(
                _datasketch_signatures, [[d["text"] for d in docs[i : i + chunk]] for i in range(0, len(docs), chunk)]
            )
            for s in part
        ]
    lsh = MinHashLSH(num_perm=BANDS * ROWS, params=(BANDS, ROWS))
    minhashes = [MinHash(num_perm=BANDS * ROWS, hashvalues=s, scheme="affine32") for s in sigs]
    for i, m in enumerate(minhashes):
        lsh.insert(i, m)
    parent = list(range(len(docs)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, m in enumerate(minhashes):
        for j in lsh.query(m):
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    roots = [find(i) for i in range(len(docs))]
    sizes: dict[int, int] = {}
    for r in roots:
        sizes[r] = sizes.get(r, 0) + 1
    (out / "kept").mkdir(parents=True, exist_ok=True)
    with open(out / "kept" / "kept.jsonl", "w") as kept_file, open(out / "clusters.jsonl", "w") as f:
        for i, doc in enumerate(docs):
            r = roots[i]
            if r == i:
                kept_file.write(json.dumps(doc) + "\n")
            if sizes[r] > 1:
                f.write(json.dumps({"id": doc["id"], "cluster": r, "kept": r == i}) + "\n")


RUNS = {"winnow": run_winnow, "datatrove": run_datatrove, "datasketch": run_datasketch}


# -- scoring (project venv) -------------------------------------------------------------------------------------
def reference_pairs(input_dir: Path, work: Path, threshold: float = 0.8) -> set[tuple[str, str]]:
    """True duplicate pairs, independent of the three runs: candidates from a very sensitive LSH (37 bands × 3
    rows finds a pair at Jaccard 0.8 with probability > 0.9999), each checked by exact Jaccard >= threshold."""
    import numpy as np
    import pyarrow.parquet as pq

    from winnow import run

    cache = work / f"reference-{input_dir.name}.json"
    if cache.exists():
        return {tuple(p) for p in json.loads(cache.read_text())}
    out = work / f"reference-{input_dir.name}"
    shutil.rmtree(out, ignore_errors=True)
    step = {
        "minhash_dedup": {
            "ngram": NGRAM,
            "num_perm": 111,
            "bands": 37,
            "rows": 3,
            "verify": True,
            "threshold": threshold,
        }
    }
    run({"input": {"path": str(input_dir / "*.jsonl")}, "steps": [step], "output": {"path": str(out)}}, workers=WORKERS)
    stage_dir = next((out / "_winnow" / "work").glob("*minhash_dedup"))
    docs = pq.read_table(sorted((stage_dir / "docs").glob("*.parquet")), columns=["doc", "id"])
    id_of = dict(zip(docs.column("doc").to_pylist(), docs.column("id").to_pylist(), strict=True))
    edges = [np.load(p) for p in sorted((stage_dir / "verified").glob("*.npy"))]
    pairs = sorted({tuple(sorted((id_of[int(a)], id_of[int(b)]))) for e in edges for a, b in e})
    cache.write_text(json.dumps(pairs))
    return set(pairs)


def score(clusters_file: Path, reference: set[tuple[str, str]]) -> dict[str, int]:
    cluster_of, removed = {}, 0
    for line in open(clusters_file):
        r = json.loads(line)
        cluster_of[r["id"]] = r["cluster"]
        removed += not r["kept"]
    found = sum(1 for a, b in reference if a in cluster_of and cluster_of.get(a) == cluster_of.get(b))
    return {"removed": removed, "true_pairs": found}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents (a uniform sample)")
    parser.add_argument("--skip", default="", help="comma-separated tools to leave out")
    parser.add_argument("--work", default="/tmp/winnow-dedup-bench")
    parser.add_argument("--tool", help=argparse.SUPPRESS)  # internal: run one tool in this process
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tool:
        RUNS[args.tool](Path(args.input), Path(args.out))
        return
    work = Path(args.work)
    input_dir = prepare_input(work, args.limit)
    n_docs = sum(1 for path in input_dir.glob("*.jsonl") for _ in open(path))
    megabytes = sum(p.stat().st_size for p in input_dir.glob("*.jsonl")) / 1e6
    print(
        f"input: {n_docs:,} docs, {megabytes:.0f} MB in {NUM_FILES} JSONL files; {WORKERS} workers; "
        f"{NGRAM}-gram shingles, {BANDS}x{ROWS} hashes"
    )
    reference = reference_pairs(input_dir, work)
    print(f"reference: {len(reference):,} true duplicate pairs (exact word-5-gram Jaccard >= 0.8)")
    results = {}
    for tool in RUNS:
        if tool in args.skip.split(","):
            continue
        out = work / f"out-{tool}-{args.limit or 'all'}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        python = sys.executable if tool == "winnow" else str(PEER_PYTHON)
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        start = time.perf_counter()
        done = subprocess.run(
            [python, __file__, "--tool", tool, "--input", str(input_dir), "--out", str(out)],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            print(f"{tool}: FAILED\n{done.stderr[-3000:]}")
            continue
        results[tool] = {"seconds": seconds, **score(out / "clusters.jsonl", reference)}
        r = results[tool]
        print(
            f"{tool:11s} {seconds:8.1f} s {n_docs / seconds:9.0f} docs/s {megabytes / seconds:7.2f} MB/s  "
            f"removed {r['removed']:6d}  true duplicate pairs found {r['true_pairs']:6d} of {len(reference)}",
            flush=True,
        )
    if "winnow" in results:
        for peer in ("datatrove", "datasketch"):
            if peer in results:
                ratio = results[peer]["seconds"] / results["winnow"]["seconds"]
                print(
                    f"winnow vs {peer}: {ratio:.1f}x faster, true pairs {results['winnow']['true_pairs']} vs "
                    f"{results[peer]['true_pairs']}"
                )


if __name__ == "__main__":
    main()
