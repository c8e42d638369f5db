"""The real question of issue 15: raw corpus vs benchmarks/whole_corpus_pipeline.yaml's output, equal tokens.

    nice -n 10 .venv/bin/python benchmarks/ablation_real.py [--tokens 83000] [--raw-docs 8000] [--aside 200] [--jobs 2]

1. Runs the pipeline on ../shared/data/corpus/web.jsonl.zst into benchmarks/work/ablation-real/pipeline
   (skipped when it finished before).
2. Keeps documents aside from every variant: ``--aside`` documents of the curated output
   (aside-curated.jsonl, their curated text) and ``--aside`` documents of the raw corpus
   (aside-raw.jsonl), chosen by a hash of the id; no variant trains on any of them.
3. Writes the variants: curated.jsonl.zst (the pipeline's output) and raw.jsonl.zst (a random
   ``--raw-docs`` documents of the corpus, by id hash: at these budgets a model sees well under one
   epoch of either, and tokenising all 355 MB would take longer than the training).
4. Runs benchmarks/ablation_real.yaml (``--tokens`` overrides its budget) into
   benchmarks/work/ablation-real/ablation/ (``--out``; resumed, so a finished run is not trained again) and
   prints the verdict and the paired differences."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import zstandard
from common import print_ablation

from winnow.evaluate.ablate import ablate
from winnow.evaluate.config import AblationConfig
from winnow.exec.runner import run
from winnow.export.documents import find_files, read_batches
from winnow.recipe import Recipe

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work" / "ablation-real"


def _rank(doc_id: str) -> str:
    return hashlib.sha1(doc_id.encode()).hexdigest()


def _corpus(path: Path) -> Iterator[dict]:
    with open(path, "rb") as raw:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8"):
            if line.strip():
                row = json.loads(line)
                if row.get("text"):
                    yield {"id": str(row["id"]), "text": row["text"]}


def _curated(output: Path) -> list[dict]:
    rows = []
    for file in find_files([str(output)]):
        for table in read_batches(file, ["id", "text"]):
            rows += [
                {"id": str(i), "text": t}
                for i, t in zip(table["id"].to_pylist(), table["text"].to_pylist(), strict=True)
                if t
            ]
    return rows


def _write(path: Path, rows: list[dict]) -> None:
    lines = b"".join(json.dumps(r).encode() + b"\n" for r in rows)
    if path.suffix == ".zst":
        path.write_bytes(zstandard.ZstdCompressor(level=3).compress(lines))
    else:
        path.write_bytes(lines)


def prepare(raw_docs: int, aside: int, workers: int) -> None:
    pipeline = Recipe.load(ROOT / "benchmarks" / "whole_corpus_pipeline.yaml").to_dict()
    corpus = (ROOT / pipeline["input"][0]["path"]).resolve()  # relative to the repository root
    pipeline["input"][0]["path"] = str(corpus)
    target = WORK / "pipeline"
    pipeline["output"]["path"] = str(target)
    if not (target / "_winnow" / "manifest.json").is_file():
        began = time.perf_counter()
        run(Recipe.from_dict(pipeline, where="whole_corpus_pipeline.yaml"), workers=workers, overwrite=True)
        print(f"pipeline {time.perf_counter() - began:.0f} s")
    curated = sorted(_curated(target), key=lambda r: _rank(r["id"]))
    raw = sorted(_corpus(corpus), key=lambda r: _rank(r["id"]))
    aside_curated = curated[:aside]
    taken = {r["id"] for r in aside_curated}
    aside_raw = [r for r in raw if r["id"] not in taken][:aside]
    taken |= {r["id"] for r in aside_raw}
    train_curated = [r for r in curated if r["id"] not in taken]
    train_raw = [r for r in raw if r["id"] not in taken][:raw_docs]
    WORK.mkdir(parents=True, exist_ok=True)
    _write(WORK / "aside-curated.jsonl", aside_curated)
    _write(WORK / "aside-raw.jsonl", aside_raw)
    _write(WORK / "curated.jsonl.zst", train_curated)
    _write(WORK / "raw.jsonl.zst", train_raw)
    print(
        f"corpus {len(raw):,} documents, pipeline kept {len(curated):,}; kept aside {len(aside_curated)} curated + "
        f"{len(aside_raw)} raw; train: curated {len(train_curated):,}, raw {len(train_raw):,} documents"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=None, help="training tokens per run (default: the yaml's)")
    parser.add_argument("--raw-docs", type=int, default=8000)
    parser.add_argument("--aside", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=str(WORK / "ablation"), help="the ablation's output directory (resumed)")
    parser.add_argument("--jobs", type=int, default=None, help="runs trained at once (default: the yaml's jobs)")
    args = parser.parse_args()
    os.chdir(ROOT)  # the yaml's paths are relative to the repository root
    if not (WORK / "raw.jsonl.zst").is_file():
        prepare(args.raw_docs, args.aside, args.workers)
    config = AblationConfig.load(ROOT / "benchmarks" / "ablation_real.yaml")
    if args.tokens:
        config = config.model_copy(update={"tokens": args.tokens})
    if args.jobs:
        config = config.model_copy(update={"jobs": args.jobs})
    began = time.perf_counter()
    result = ablate(config, args.out, resume=True)
    print(
        f"ablation wall {time.perf_counter() - began:.0f} s, {config.tokens:,} tokens per run, {config.jobs} at a time"
    )
    print_ablation(result)
    for summary in result.sizes:
        for variant, sets in summary.cells.items():
            print("  " + variant + ": " + ", ".join(f"{e} {c.mean:.4f}±{c.std:.4f}" for e, c in sets.items()))
    speeds = sorted(r.tokens_per_second for r in result.runs)
    print(f"median {speeds[len(speeds) // 2]:,.0f} tokens/s")


if __name__ == "__main__":
    main()
