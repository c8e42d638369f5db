"""Training-ready output: tokenizers, token shards, mixtures and splits.

``winnow.export.tokenize.tokenize`` writes token shards (the function is not re-exported
here, so ``winnow.export.tokenize`` stays the module); ``TokenDataset`` reads them back."""

from winnow.export.token_dataset import TokenDataset
from winnow.export.tokenizer import train_tokenizer

__all__ = ["TokenDataset", "train_tokenizer"]
