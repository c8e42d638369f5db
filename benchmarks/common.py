"""Shared by the benchmarks: the corpus sample every benchmark reads, and timing helpers."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("WINNOW_DATA", ROOT.parent / "shared" / "data"))
CORPUS = SHARED_DATA / "corpus" / "web.jsonl.zst"
WORK = ROOT / "benchmarks" / "work"
PEER_PYTHON = ROOT / "benchmarks" / ".venv-peers" / "bin" / "python"


def corpus_head(n: int) -> Path:
    """The first n corpus documents as plain JSONL (made once, kept under benchmarks/work)."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"corpus-{n}.jsonl"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with open(CORPUS, "rb") as raw, open(tmp, "wb") as out:
            reader = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw))
            for i, line in enumerate(reader):
                if i >= n:
                    break
                out.write(line)
        tmp.rename(path)
    return path


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def corpus_embedding_model(docs: int = 3000, dim: int = 128) -> Path:
    """A static embedding model (train-embeddings, PPMI-SVD) trained on the first ``docs`` corpus
    documents, made once and kept under benchmarks/work."""
    model = corpus_head(docs).with_name(f"emb-{docs}-{dim}")
    if not model.is_dir():
        from winnow.models.labels import read_texts
        from winnow.models.train_embeddings import EmbeddingParams, train_embeddings

        train_embeddings(read_texts(str(corpus_head(docs))), model, EmbeddingParams(dim=dim), f"corpus-{docs}")
    return model


def print_ablation(result) -> None:
    """An ablation's verdicts and paired differences (variant − baseline, 95% t interval), per model size."""
    for summary in result.sizes:
        print(summary.size, summary.verdicts)
        for d in summary.differences:
            print(
                f"  {d.eval_set:20s} {d.metric:8s} {d.mean:+.4f} ± {d.half_width:.4f}  better on {d.better_seeds}/{d.n} seeds"
            )
