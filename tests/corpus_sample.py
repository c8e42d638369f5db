"""Real documents from shared/data/corpus for engine tests (the corpus is hash-shuffled,
so its first N lines are a uniform sample)."""

from __future__ import annotations

import io
from pathlib import Path

import zstandard


def corpus_lines(sample_data: Path, n: int) -> list[bytes]:
    lines = []
    with open(sample_data / "corpus" / "web.jsonl.zst", "rb") as raw:
        reader = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw))
        for line in reader:
            lines.append(line if line.endswith(b"\n") else line + b"\n")
            if len(lines) >= n:
                break
    return lines


def write_corpus(sample_data: Path, path: Path, n: int) -> Path:
    path.write_bytes(b"".join(corpus_lines(sample_data, n)))
    return path
