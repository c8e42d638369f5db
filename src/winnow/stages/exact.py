"""Exact deduplication: records whose normalised texts are equal form one cluster."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash
from pydantic import Field

from winnow.stages.dedup import DedupParams, DedupStage
from winnow.steps.registry import register


def normalise(texts: pa.Array | pa.ChunkedArray, mode: str) -> pa.Array | pa.ChunkedArray:
    """The text that is compared, per ``normalization`` mode (vectorised with Arrow).

    ``whitespace_case``: lower-cased, runs of whitespace collapsed, ends trimmed.
    ``fineweb``: as DataTrove/FineWeb's ``simplify_text``: Unicode NFKD with accents removed,
    lower-cased, each run of digits → 0, punctuation → space, whitespace collapsed.
    """
    texts = pc.coalesce(texts, pa.scalar("", pa.string()))
    if mode == "none":
        return texts
    if mode == "fineweb":
        texts = pc.utf8_normalize(texts, "NFKD")
        texts = pc.replace_substring_regex(texts, r"\p{Mn}+", "")
        texts = pc.replace_substring_regex(texts, r"\p{N}+", "0")
        texts = pc.replace_substring_regex(texts, r"[\p{P}\p{S}]+", " ")
    texts = pc.utf8_lower(texts)
    texts = pc.replace_substring_regex(texts, r"\s+", " ")
    return pc.utf8_trim_whitespace(texts)


@register
class ExactDedup(DedupStage):
    """Drop records whose (normalised) text equals another's; keep one representative per group."""

    name = "exact_dedup"
    produces = ("exact_dedup.cluster_id", "exact_dedup.cluster_size", "exact_dedup.duplicate_of")

    class Params(DedupParams):
        normalization: Literal["none", "whitespace_case", "fineweb"] = Field(
            "whitespace_case",
            description="How texts are normalised before comparing: 'none' (byte-exact), 'whitespace_case' "
            "(lower-case, collapse whitespace), 'fineweb' (also strip accents, punctuation, digits → 0).",
        )

    def entries(self, batch: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        texts = normalise(batch.column("text"), self.params.normalization)
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks()
        n = len(texts)
        key, key2 = np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64)
        # 128-bit xxh3: two 64-bit halves, so collisions stay negligible at billions of texts.
        for i, text in enumerate(texts.cast(pa.binary()).to_pylist()):
            digest = xxhash.xxh3_128_intdigest(text)
            key[i], key2[i] = digest & 0xFFFFFFFFFFFFFFFF, digest >> 64
        return np.arange(n), key, key2
