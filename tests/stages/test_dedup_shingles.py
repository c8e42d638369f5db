"""Shingling and MinHash against the exact Jaccard given in shared/data/neardup."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from dedup_helpers import neardup

from winnow.stages.minhash import candidate_probability, choose_bands
from winnow.text import shingles


@pytest.fixture(scope="module")
def near(sample_data):
    batch, pairs = neardup(sample_data)
    words, offsets = shingles.word_hashes(batch.column("text"))
    values, value_offsets = shingles.shingle_hashes(words, offsets, 5)
    index = {i: k for k, i in enumerate(batch.column("id").to_pylist())}
    return values, value_offsets, index, pairs


def _set(values, offsets, k):
    return values[offsets[k] : offsets[k + 1]]


def test_shingle_jaccard_equals_the_ground_truth(near):
    values, offsets, index, pairs = near
    # Every pair: both relations, identical and rewritten pages, long and short texts.
    errors = [
        abs(
            shingles.jaccard(_set(values, offsets, index[p["a"]]), _set(values, offsets, index[p["b"]]))
            - p["jaccard_w5"]
        )
        for p in pairs
    ]
    assert max(errors) < 1e-3  # the ground truth is rounded to 4 decimals


def test_minhash_estimates_jaccard(near):
    values, offsets, index, pairs = near
    a, b = shingles.permutations(256, seed=7)
    signatures = shingles.minhash(values, offsets, a, b)
    rng = np.random.default_rng(0)
    errors = []
    for p in rng.choice(pairs, 400, replace=False):
        x, y = signatures[index[p["a"]]], signatures[index[p["b"]]]
        errors.append(abs(np.mean(x == y) - p["jaccard_w5"]))
    # Standard error of a 256-hash estimate is at most 1/32.
    assert np.mean(errors) < 0.03 and max(errors) < 0.15


def test_minhash_blocks_do_not_change_signatures(near):
    values, offsets, _, _ = near
    a, b = shingles.permutations(16, seed=1)
    whole = shingles.minhash(values[: offsets[300]], offsets[:301], a, b, block=1 << 30)
    blocked = shingles.minhash(values[: offsets[300]], offsets[:301], a, b, block=257)
    assert (whole == blocked).all()


def test_short_and_empty_texts():
    texts = pa.array(["Hello, World!", "hello world", "", None, "one two three four five six"])
    words, offsets = shingles.word_hashes(texts)
    assert np.diff(offsets).tolist() == [2, 2, 0, 0, 6]
    values, value_offsets = shingles.shingle_hashes(words, offsets, 5)
    assert np.diff(value_offsets).tolist() == [1, 1, 0, 0, 2]  # short texts get one shingle of all their words
    assert values[0] == values[1]  # case and punctuation do not matter
    signatures = shingles.minhash(values, value_offsets, *shingles.permutations(8, 1))
    assert (signatures[0] == signatures[1]).all() and (signatures[2] == 0xFFFFFFFF).all()


def test_bands_chosen_from_the_threshold():
    assert choose_bands(0.8, 112) == (14, 8)  # also DataTrove's default split
    for threshold in (0.5, 0.7, 0.8, 0.9, 0.95):
        for num_perm in (64, 112, 256):
            bands, rows = choose_bands(threshold, num_perm)
            assert bands * rows <= num_perm
            assert candidate_probability(threshold, bands, rows) >= 0.9
            assert candidate_probability(threshold - 0.3, bands, rows) < 0.5
