"""The planted experiment: a clean corpus with 30% of its training text replaced by low-quality text.

Every piece of junk is built from the corpus's own words and documents, and is of a kind Winnow's
filters are meant to remove: boilerplate (navigation, cookie and legal lines), spam-like
repetition, exact duplicates and near duplicates of a few documents. A curation that works must
make the model better on clean text it has never seen (the documents kept aside here)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zstandard

BOILERPLATE = (
    "Home | About us | Products | Blog | Contact | Login | Register",
    "We use cookies to improve your experience. By continuing to browse you accept our use of cookies.",
    "Accept all cookies | Manage preferences | Privacy policy | Terms of use",
    "Copyright © All rights reserved. Powered by WordPress.",
    "Subscribe to our newsletter! Enter your email address to receive updates.",
    "Share on Facebook | Share on Twitter | Pin it | Email this page",
    "Please enable JavaScript to view the comments powered by Disqus.",
    "Click here to read more. Back to top.",
)
SPAM = ("buy cheap {w} online", "best {w} price guaranteed", "{w} free shipping today", "click now for {w} deals")


@dataclass(frozen=True)
class PlantedCorpus:
    polluted: Path  # JSONL.zst: the clean training documents with junk in place of 30% of their text
    reference: Path  # JSONL: clean documents kept aside (never trained on)
    clean_chars: int
    junk_chars: int


def make_planted_corpus(
    corpus: list[dict], out: str | Path, junk_fraction: float = 0.3, reference_docs: int = 100, seed: int = 0
) -> PlantedCorpus:
    """Write ``polluted.jsonl.zst`` and ``reference.jsonl`` under ``out`` from ``corpus`` rows (id, text)."""
    rng = np.random.default_rng(seed)
    rows = [r for r in corpus if r.get("text")]
    order = rng.permutation(len(rows))
    reference = [rows[i] for i in order[:reference_docs]]
    train = [rows[i] for i in order[reference_docs:]]
    total = sum(len(r["text"]) for r in train)
    budget = int(junk_fraction * total)  # of the final text: clean documents are dropped to make room
    junk = _junk(train, budget, rng)
    junk_chars = sum(len(r["text"]) for r in junk)
    keep, chars = [], 0
    for row in train:
        if chars + len(row["text"]) > total - junk_chars:
            continue
        keep.append(row)
        chars += len(row["text"])
    mixed = keep + junk
    mixed = [mixed[i] for i in rng.permutation(len(mixed))]
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    lines = b"".join(json.dumps({"id": r["id"], "text": r["text"]}).encode() + b"\n" for r in mixed)
    (target / "polluted.jsonl.zst").write_bytes(zstandard.ZstdCompressor(level=3).compress(lines))
    with open(target / "reference.jsonl", "w", encoding="utf-8") as f:
        for r in reference:
            f.write(json.dumps({"id": r["id"], "text": r["text"]}) + "\n")
    return PlantedCorpus(target / "polluted.jsonl.zst", target / "reference.jsonl", chars, junk_chars)


def _junk(train: list[dict], budget: int, rng: np.random.Generator) -> list[dict]:
    """A quarter of the budget of each kind of junk, made from the corpus's own words and documents."""
    words = [w for r in train[:200] for w in r["text"].split() if w.isalpha() and len(w) > 3] or ["thing"]
    makers = (_boilerplate, _spam, _exact_copies, _near_copies)
    junk: list[dict] = []
    for kind, make in enumerate(makers):
        chars, n = 0, 0
        while chars < budget // len(makers):
            text = make(train, words, rng)
            junk.append({"id": f"junk-{kind}-{n}", "text": text})
            chars += len(text)
            n += 1
    return junk


def _boilerplate(train: list[dict], words: list[str], rng: np.random.Generator) -> str:
    lines = [BOILERPLATE[i] for i in rng.integers(0, len(BOILERPLATE), size=int(rng.integers(20, 40)))]
    return "\n".join(lines)


def _spam(train: list[dict], words: list[str], rng: np.random.Generator) -> str:
    picked = [words[i] for i in rng.integers(0, len(words), size=3)]
    phrases = [SPAM[i % len(SPAM)].format(w=picked[i % 3]) for i in range(int(rng.integers(60, 120)))]
    return " ".join(phrases)


def _exact_copies(train: list[dict], words: list[str], rng: np.random.Generator) -> str:
    return train[int(rng.integers(0, min(5, len(train))))]["text"]  # the same few documents, over and over


def _near_copies(train: list[dict], words: list[str], rng: np.random.Generator) -> str:
    source = train[5 + int(rng.integers(0, min(5, max(1, len(train) - 5))))]["text"].split(" ")
    for i in rng.integers(0, len(source), size=max(1, len(source) // 50)):  # ~2% of the words changed
        source[int(i)] = words[int(rng.integers(0, len(words)))]
    return " ".join(source)
