"""Real tokens for the trainer tests: a byte-level BPE and a ``winnow tokenize`` output of the corpus excerpt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_corpus import read_corpus


@pytest.fixture(scope="session")
def corpus_tokens(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(tokenizer.json, tokens dir) for 150 documents of the corpus excerpt, 2% of them held out."""
    from winnow.export.tokenize import tokenize
    from winnow.export.tokenizer import train_tokenizer

    root = tmp_path_factory.mktemp("corpus-tokens")
    docs = root / "docs.jsonl"
    rows = read_corpus(sample_data / "corpus" / "web.jsonl.zst", 150)
    docs.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in rows))
    tokenizer = root / "tokenizer.json"
    train_tokenizer([str(docs)], 512, str(tokenizer))
    tokenize([str(docs)], str(tokenizer), str(root / "tokens"), val_fraction=0.05)
    return tokenizer, root / "tokens"
