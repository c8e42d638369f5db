"""Training batches drawn from a ``winnow tokenize`` output: random windows of the token stream.

Batch ``k`` of seed ``s`` depends only on ``(s, k)``, so a run resumed from a checkpoint sees the
same batches as one that was never stopped, and every variant draws the same number of tokens."""

from __future__ import annotations

import numpy as np

from winnow.errors import WinnowError
from winnow.export.token_dataset import TokenDataset


class WindowSampler:
    """``batch(step)`` -> int64 array (batch_size, context + 1): inputs are ``[:, :-1]``, targets ``[:, 1:]``."""

    def __init__(self, dataset: TokenDataset, context: int, batch_size: int, seed: int):
        if dataset.num_tokens < context + 2:
            raise WinnowError(
                f"{dataset.path}: split {dataset.split!r} has {dataset.num_tokens} tokens, "
                f"fewer than one window of {context + 1}"
            )
        self.dataset, self.context, self.batch_size, self.seed = dataset, context, batch_size, seed
        # One shard (the usual case below 100M tokens) is sliced directly: no copy through window().
        self._single = dataset._tokens[0] if len(dataset._tokens) == 1 else None

    def batch(self, step: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, step])
        span = self.context + 1
        starts = rng.integers(0, self.dataset.num_tokens - span + 1, size=self.batch_size)
        if self._single is not None:
            return np.stack([self._single[s : s + span] for s in starts]).astype(np.int64)
        return np.stack([self.dataset.window(int(s), span) for s in starts]).astype(np.int64)
