"""Training-ready output: tokenizers, token shards, mixtures and splits."""

from winnow.export.token_dataset import TokenDataset
from winnow.export.tokenize import tokenize
from winnow.export.tokenizer import train_tokenizer

__all__ = ["TokenDataset", "tokenize", "train_tokenizer"]
