"""Novelty of a generated text against what is already there (seeds, earlier generations): the highest
estimated Jaccard similarity of its word n-gram shingles, by MinHash (``winnow.text.shingles``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from winnow.text.shingles import minhash, permutations, shingle_hashes, word_hashes


class NoveltyIndex:
    def __init__(self, ngram: int = 2, num_perm: int = 128, seed: int = 0):
        self.ngram = ngram
        self.a, self.b = permutations(num_perm, seed)
        self.signatures = np.empty((0, num_perm), dtype=np.uint32)

    def signatures_of(self, texts: list[str]) -> np.ndarray:
        words, offsets = word_hashes(pa.array(texts, pa.string()))
        shingles, shingle_offsets = shingle_hashes(words, offsets, self.ngram)
        return minhash(shingles, shingle_offsets, self.a, self.b)

    def add(self, texts: list[str]) -> None:
        if texts:
            self.signatures = np.vstack([self.signatures, self.signatures_of(texts)])

    def closest(self, text: str) -> float:
        """The highest estimated Jaccard similarity to any text added (0.0 when none)."""
        if len(self.signatures) == 0:
            return 0.0
        signature = self.signatures_of([text])[0]
        if (signature == 0xFFFFFFFF).all():  # too short to have a shingle: compare as one word set
            return 1.0 if text.strip() == "" else 0.0
        return float((self.signatures == signature).mean(axis=1).max())
