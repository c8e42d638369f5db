"""Reading the corpus excerpt for the ablation tests."""

from __future__ import annotations

import io
import json
from pathlib import Path

import zstandard


def read_corpus(path: Path, limit: int | None = None) -> list[dict]:
    """The first ``limit`` rows of a JSONL.zst file."""
    with open(path, "rb") as raw:
        lines = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8")
        return [json.loads(line) for _, line in zip(range(limit or 10**9), lines, strict=False)]
