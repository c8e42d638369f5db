"""Fixtures for the export tests: real documents from the shared corpus and a tokenizer trained on them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson
import pytest
import zstandard

from winnow.export import train_tokenizer

CORPUS_DOCS = 300  # the corpus is hash-shuffled: the first N lines are a uniform sample
OTHER_SCRIPTS = ("ru", "zh", "ja", "ar", "el", "ko", "uk", "he")


def read_jsonl_zst(path: Path, limit: int | None = None, keep=lambda row: True) -> list[dict]:
    rows = []
    with open(path, "rb") as raw:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8"):
            row = orjson.loads(line)
            if keep(row):
                rows.append(row)
                if limit and len(rows) >= limit:
                    break
    return rows


@pytest.fixture(scope="session")
def corpus_docs(sample_data: Path) -> list[dict]:
    """English documentation pages, man pages, Python source and Debian files, plus translated
    documentation in non-Latin scripts (real text, see shared/data/README.md)."""
    web = read_jsonl_zst(sample_data / "corpus" / "web.jsonl.zst", CORPUS_DOCS)
    other = read_jsonl_zst(
        sample_data / "langid" / "labeled-dev.jsonl.zst", 40, keep=lambda row: row["lang"] in OTHER_SCRIPTS
    )
    docs = [{"id": d["id"], "text": d["text"], "source": d["source"], "kind": d["kind"]} for d in web]
    docs += [
        {"id": f"langid:{d['id']}", "text": d["text"], "source": f"langid:{d['lang']}", "kind": "translated"}
        for d in other
    ]
    assert any(d["kind"] == "code" for d in docs) and any(not d["text"].isascii() for d in docs)
    return docs


@pytest.fixture(scope="session")
def corpus_file(corpus_docs: list[dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "docs.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in corpus_docs), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tokenizer_file(corpus_docs: list[dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,048-token byte-level BPE trained on 150 of the documents (uint16 shards)."""
    folder = tmp_path_factory.mktemp("tokenizer")
    sample = folder / "train.jsonl"
    sample.write_text("".join(json.dumps({"text": d["text"]}) + "\n" for d in corpus_docs[:150]), encoding="utf-8")
    train_tokenizer([str(sample)], 2048, str(folder / "tokenizer.json"))
    return folder / "tokenizer.json"
