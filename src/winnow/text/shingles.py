"""Vectorised word shingling and MinHash over a whole batch of documents at once.

Shingling and hashing one document at a time in Python is what makes MinHash dedup slow
(DataTrove spends most of its time there). Here a batch of texts is handled as flat numpy
arrays with per-document offsets:

1. Arrow splits the lower-cased texts into words (``[^\\p{L}\\p{N}_]+`` separators, i.e.
   Unicode ``\\w+`` words, the definition the ground-truth Jaccard in shared/data/neardup uses).
2. The words are dictionary-encoded, so only the *distinct* words of the batch are hashed
   (xxh64, one Python call per distinct word), and numpy gathers the hashes back.
3. Word n-gram shingles are a polynomial combination of n consecutive word hashes, computed
   for all documents in one pass; shingles that would cross a document boundary are dropped.
4. MinHash with ``num_perm`` multiply-shift hash functions ``(a*x + b) >> 32`` over uint64, and
   ``np.minimum.reduceat`` takes the minimum per document, over cache-sized blocks of shingles.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

WORD_SEPARATOR = r"[^\p{L}\p{N}_]+"
_SHINGLE_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_MASK32 = np.uint64(0xFFFFFFFF)


def splitmix64(values: np.ndarray) -> np.ndarray:
    """A well-mixing bijection on uint64 (the SplitMix64 finaliser), vectorised."""
    z = values.astype(np.uint64, copy=True)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def word_hashes(texts: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the lower-cased words of each text, flat, with ``offsets`` (len(texts) + 1)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    texts = pc.coalesce(texts, pa.scalar("", pa.string()))
    words = pc.split_pattern_regex(pc.utf8_lower(texts), WORD_SEPARATOR)
    flat = pc.list_flatten(words)
    parents = pc.list_parent_indices(words).to_numpy()
    keep = pc.greater(pc.utf8_length(flat), 0)  # separators at the ends leave empty strings
    flat = flat.filter(keep)
    parents = parents[keep.to_numpy(zero_copy_only=False)]
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(parents, minlength=len(texts)), out=offsets[1:])
    if len(flat) == 0:
        return np.zeros(0, dtype=np.uint64), offsets
    encoded = pc.dictionary_encode(flat)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    vocabulary = encoded.dictionary.cast(pa.binary()).to_pylist()
    vocabulary_hashes = np.fromiter(
        (xxhash.xxh64_intdigest(word) for word in vocabulary), dtype=np.uint64, count=len(vocabulary)
    )
    return vocabulary_hashes[encoded.indices.to_numpy()], offsets


def shingle_hashes(words: np.ndarray, offsets: np.ndarray, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the word ``ngram``-shingles of each document, flat, with their offsets.

    A document with fewer than ``ngram`` words (but at least one) gets one shingle of all its
    words, so short texts can still be matched; an empty one gets none."""
    n_docs = len(offsets) - 1
    lengths = np.diff(offsets)
    total = len(words)
    if total == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(n_docs + 1, dtype=np.int64)
    # Full shingles: positions i with i + ngram <= the end of i's document.
    count = max(total - ngram + 1, 0)
    combined = np.zeros(count, dtype=np.uint64)
    for j in range(ngram):
        combined *= _SHINGLE_MULTIPLIER
        combined += words[j : j + count]
    doc_of_position = np.repeat(np.arange(n_docs), lengths)[:count]
    valid = np.arange(count) + ngram <= offsets[1:][doc_of_position]
    full = combined[valid]
    full_doc = doc_of_position[valid]
    # Short documents: one shingle of all their words.
    short_docs = np.nonzero((lengths > 0) & (lengths < ngram))[0]
    if len(short_docs):
        short_values = np.zeros(len(short_docs), dtype=np.uint64)
        for j in range(ngram - 1):
            has = lengths[short_docs] > j
            short_values[has] = short_values[has] * _SHINGLE_MULTIPLIER + words[offsets[short_docs[has]] + j]
        full = np.concatenate([full, short_values])
        full_doc = np.concatenate([full_doc, short_docs])
        order = np.argsort(full_doc, kind="stable")
        full, full_doc = full[order], full_doc[order]
    shingle_offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(np.bincount(full_doc, minlength=n_docs), out=shingle_offsets[1:])
    return splitmix64(full), shingle_offsets


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``a`` (odd) and ``b`` coefficients of the ``num_perm`` hash functions, from ``seed``."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def minhash(
    shingles: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray, block: int = 1 << 15
) -> np.ndarray:
    """MinHash signatures, shape (documents, num_perm), uint32. Rows of documents without
    shingles are all 0xFFFFFFFF (callers leave them out of LSH).

    The shingles are taken in blocks of whole documents of about ``block`` values, and every
    permutation is applied to one block before the next: the block stays in the CPU cache, which
    measured 3x faster than streaming all shingles of a batch through memory once per permutation."""
    n_docs = len(offsets) - 1
    signatures = np.full((n_docs, len(a)), 0xFFFFFFFF, dtype=np.uint32)
    if n_docs == 0 or offsets[-1] == 0:
        return signatures
    lengths = np.diff(offsets)
    cuts = np.searchsorted(offsets, np.arange(0, offsets[-1], block), side="right") - 1
    cuts = np.unique(np.concatenate([cuts, [n_docs]]))
    buffer = np.empty(block, dtype=np.uint64)
    shift = np.uint64(32)
    for first, last in zip(cuts[:-1], cuts[1:], strict=True):
        lo, hi = offsets[first], offsets[last]
        if hi == lo:
            continue
        values = shingles[lo:hi]
        docs = np.arange(first, last)[lengths[first:last] > 0]
        starts = offsets[docs] - lo
        out = buffer[: hi - lo] if hi - lo <= block else np.empty(hi - lo, dtype=np.uint64)
        for k in range(len(a)):
            np.multiply(values, a[k], out=out)
            out += b[k]
            out >>= shift
            signatures[docs, k] = np.minimum.reduceat(out, starts)
    return signatures


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 LSH bucket key per (document, band): a hash of the band's ``rows`` values
    and of the band number (so equal values in different bands never collide)."""
    n_docs = signatures.shape[0]
    banded = signatures[:, : bands * rows].reshape(n_docs, bands, rows).astype(np.uint64)
    keys = np.broadcast_to(np.arange(bands, dtype=np.uint64) + np.uint64(1), (n_docs, bands)).copy()
    for j in range(rows):
        keys = splitmix64(keys * _SHINGLE_MULTIPLIER + banded[:, :, j])
    return keys


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sets of shingle hashes."""
    a, b = np.unique(a), np.unique(b)
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
