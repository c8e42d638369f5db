"""Train/val/test assignment by a hash of a stable key.

A document's split depends only on its key (its id, or its near-duplicate cluster), never
on the other documents: when the dataset grows, no document moves from one split to another."""

from __future__ import annotations

from collections.abc import Iterable

import xxhash

SPLITS = ("train", "val", "test")
_SCALE = float(2**64)
SPLIT_HASH_SEED = 0x5E1175  # fixed: changing it would move documents between splits


def split_of(key: str, val: float, test: float) -> str:
    u = xxhash.xxh64_intdigest(key.encode(), seed=SPLIT_HASH_SEED) / _SCALE
    if u < val:
        return "val"
    if u < val + test:
        return "test"
    return "train"


def splits_of(keys: Iterable[str], val: float, test: float = 0.0) -> list[str]:
    return [split_of(key, val, test) for key in keys]
