"""Training-ready output: tokenizers, token shards, mixtures and splits.

``winnow.export.tokenize.tokenize`` writes token shards (the function is not re-exported
here, so ``winnow.export.tokenize`` stays the module); ``TokenDataset`` reads them back.
The names below are imported on first use: ``winnow.export.splits`` (used by the mix stage and
the split step) must not need ``tokenizers``, which comes with the ``tokens`` extra."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from winnow.export.token_dataset import TokenDataset
    from winnow.export.tokenizer import train_tokenizer

__all__ = ["TokenDataset", "train_tokenizer"]


def __getattr__(name: str) -> Any:
    if name == "TokenDataset":
        from winnow.export.token_dataset import TokenDataset

        return TokenDataset
    if name == "train_tokenizer":
        from winnow.export.tokenizer import train_tokenizer

        return train_tokenizer
    raise AttributeError(f"module 'winnow.export' has no attribute {name!r}")
