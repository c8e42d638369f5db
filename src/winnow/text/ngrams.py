"""Repeated word n-grams of a whole batch of texts, counted exactly with vectorised sorts.

The kernel under the Gopher repetition rules (``winnow.steps.quality``): ``group_keys`` numbers equal
keys by one packed sort; ``NGramCounts`` walks n = 2, 3, ... keeping only the positions that repeat.
"""

from __future__ import annotations

import numpy as np

from winnow.text.words import WordSplit


def group_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group equal values of ``keys`` (non-negative int64): a dense group id per key (groups
    numbered in key order), the size of each group, and the index of each group's first key.

    This is np.unique(keys, return_index=True, return_inverse=True, return_counts=True), faster:
    with each key's index packed into its low bits, one plain (vectorised) sort of int64 does it."""
    n = len(keys)
    if n == 0:
        return keys, np.zeros(0, np.int64), np.zeros(0, np.int64)
    bits = (n - 1).bit_length()
    if int(keys.max()).bit_length() + bits > 62:  # too large to pack
        _, first, ids, counts = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
        return ids, counts, first
    packed = np.sort((keys << bits) | np.arange(n, dtype=np.int64))
    index = packed & ((1 << bits) - 1)
    packed >>= bits
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.not_equal(packed[1:], packed[:-1], out=starts[1:])
    ids = np.empty(n, dtype=np.int64)
    ids[index] = np.cumsum(starts, dtype=np.int32 if n < 2**31 else np.int64) - 1  # (int32: faster)
    begins = np.flatnonzero(starts)
    return ids, np.diff(begins, append=n), index[begins]


class NGramCounts:
    """Duplicated word n-grams of every text of a batch, n = 1, 2, 3, ... in turn.

    An n-gram can only repeat where the (n-1)-gram starting at the same word repeats, so each
    level only looks at the positions that were repeated at the level before (few, in most text).
    N-grams are identified exactly (no hashing): a level's group id is a dense id for the pair
    (group id of the (n-1)-gram, id of the n-th word), numbered by sorting (group_keys).
    Single words are never grouped (no rule counts them, and most words repeat anyway): the
    first advance() groups word pairs directly.
    """

    def __init__(self, words: WordSplit):
        self.words = words
        lengths = words.lengths()
        self.cumulative = np.concatenate([[0], np.cumsum(lengths[words.ids])])
        self.doc = words.doc_index
        self.doc_end = words.offsets[1:][self.doc]
        self.vocabulary_size = len(words.vocabulary) + 1
        self.n = 1
        self.positions = np.arange(len(words.ids), dtype=np.int64)
        self.groups = self.counts = np.zeros(0, np.int64)  # not grouped at n = 1

    def drop_docs(self, dropped: np.ndarray) -> None:
        """Stop counting for the texts marked in ``dropped`` (their later numbers are not used)."""
        if self.n > 1 and len(self.positions) and dropped.any():
            keep = ~dropped[self.doc[self.positions]]
            self.positions, self.groups = self.positions[keep], self.groups[keep]

    def advance(self) -> None:
        """Move to n+1, keeping only the positions whose n-gram repeats."""
        if self.n == 1:
            self._pairs()
            return
        repeated = self.counts[self.groups] >= 2
        positions = self.positions[repeated]
        groups = self.groups[repeated]
        fits = positions + self.n < self.doc_end[positions]
        positions, groups = positions[fits], groups[fits]
        self.n += 1
        self.positions = positions
        self.groups, self.counts, first_index = group_keys(
            groups * self.vocabulary_size + self.words.ids[positions + self.n - 1]
        )
        self.first_position = positions[first_index]

    def _pairs(self) -> None:
        ids, offsets = self.words.ids, self.words.offsets
        has_next = np.ones(len(ids), dtype=bool)  # every word but the last of its text
        has_next[offsets[1:][offsets[1:] > offsets[:-1]] - 1] = False
        positions = np.flatnonzero(has_next)
        size = self.vocabulary_size
        first = (self.doc * size + ids)[has_next]
        if len(positions) and (int(first.max()) * size + size).bit_length() + len(positions).bit_length() > 62:
            first, _, _ = group_keys(first)  # keep the pair keys small enough for group_keys to pack
        self.n = 2
        self.positions = positions
        self.groups, self.counts, first_index = group_keys(first * size + ids[1:][has_next[:-1]])
        self.first_position = positions[first_index]  # where each group first occurs

    def chars(self, positions: np.ndarray, spaces: bool) -> np.ndarray:
        """Characters of the n-grams at ``positions`` (words joined by a space, or not)."""
        length = self.cumulative[positions + self.n] - self.cumulative[positions]
        return length + (self.n - 1) if spaces else length

    def top_chars(self) -> np.ndarray:
        """Per text: characters of its most frequent n-gram (joined by spaces) times its count.

        Ties go to the n-gram seen first; a text whose n-grams are all distinct counts its first."""
        n_docs = len(self.words.offsets) - 1
        counts = self.words.counts
        out = np.zeros(n_docs, dtype=np.float64)
        has_ngram = counts >= self.n
        first = self.words.offsets[:-1][has_ngram]
        out[has_ngram] = self.chars(first, spaces=True)
        repeated = self.counts[self.groups] >= 2
        if repeated.any():
            positions, groups = self.positions[repeated], self.groups[repeated]
            # Best = highest count, then earliest first occurrence.
            score = self.counts[groups] * (1 << 40) - self.first_position[groups]
            # Positions are in order, so each text's are contiguous: a max per segment.
            docs = self.doc[positions]
            begins = np.flatnonzero(np.concatenate([[True], docs[1:] != docs[:-1]]))
            best = np.maximum.reduceat(score, begins)
            count = (best + (1 << 40) - 1) >> 40
            start = count * (1 << 40) - best
            out[docs[begins]] = count * self.chars(start, spaces=True)
        return out

    def duplicated_chars(self) -> np.ndarray:
        """Per text: characters (words joined without spaces) in repeated n-grams, counted greedily
        left to right: a repeat covers its n words, which are then skipped (no overlaps)."""
        n_docs = len(self.words.offsets) - 1
        out = np.zeros(n_docs, dtype=np.float64)
        repeated = self.counts[self.groups] >= 2
        if not repeated.any():
            return out
        positions, groups = self.positions[repeated], self.groups[repeated]
        n = self.n
        # The greedy scan is sequential, but only positions whose n-gram occurs more than once can
        # matter (the others are never a repeat). Of those, a group's first occurrence is only
        # ever added to the seen set -- at its turn, which can be taken as the start (nothing of
        # its group comes before it) -- unless a repeat just before it covers it. So Python walks
        # only the later occurrences and the first ones a repeat may cover. (Group ids belong to
        # one text, and a repeat never covers words of the next text: no state to reset per text.)
        later = positions != self.first_position[groups]
        latest_repeat = np.maximum.accumulate(np.where(later, positions, -n))
        covered = np.zeros(len(positions), dtype=bool)
        covered[1:] = positions[1:] < latest_repeat[:-1] + n
        walk = later | covered
        seen = set(groups[~walk].tolist())
        taken = []
        next_free = -1
        for i, position, group in zip(
            np.flatnonzero(walk).tolist(), positions[walk].tolist(), groups[walk].tolist(), strict=True
        ):
            if position < next_free:
                continue
            if group in seen:
                taken.append(i)
                next_free = position + n
            else:
                seen.add(group)
        taken_positions = positions[taken]
        return np.bincount(
            self.doc[taken_positions], weights=self.chars(taken_positions, spaces=False), minlength=n_docs
        ).astype(np.float64)
