"""Bits per byte: total negative log-likelihood in bits over the UTF-8 bytes of the text.

Independent of the tokenizer (a coarser vocabulary has fewer, harder tokens; the bytes stay the
same), so variants, tokenizers and model sizes compare on one scale."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from tokenizers import Tokenizer

from winnow.evaluate.model import ProxyLM, next_token_nll


@dataclass(frozen=True)
class EncodedText:
    """Documents as one stream ``[eod] doc1 [eod] doc2 …``; the end-of-document ids are not scored."""

    ids: np.ndarray
    documents: int
    bytes: int


def encode_texts(tokenizer: Tokenizer, texts: list[str], eod_id: int, max_tokens: int | None = None) -> EncodedText:
    """Whole documents, in order, until ``max_tokens`` would be passed (always at least one)."""
    pieces, total, size, count = [np.array([eod_id], dtype=np.int64)], 1, 0, 0
    for text in texts:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        if count and max_tokens is not None and total + len(ids) + 1 > max_tokens:
            break
        pieces.append(np.array(ids + [eod_id], dtype=np.int64))
        total += len(ids) + 1
        size += len(text.encode("utf-8"))
        count += 1
    return EncodedText(np.concatenate(pieces), count, size)


@torch.no_grad()
def total_nll_bits(model: ProxyLM, encoded: EncodedText, eod_id: int, batch_size: int = 16) -> float:
    """Sum of -log2 p(token | previous) over every text token of the stream, in windows of the context."""
    context = model.size.context
    stream = encoded.ids
    inputs, targets = stream[:-1], stream[1:].copy()
    targets[targets == eod_id] = -1  # the document ends are not bytes of the text
    windows = math.ceil(len(inputs) / context)
    pad = windows * context - len(inputs)
    inputs = np.concatenate([inputs, np.full(pad, eod_id)]).reshape(windows, context)
    targets = np.concatenate([targets, np.full(pad, -1)]).reshape(windows, context)
    device = next(model.parameters()).device
    nats = 0.0
    for start in range(0, windows, batch_size):
        x = torch.from_numpy(inputs[start : start + batch_size]).to(device)
        y = torch.from_numpy(targets[start : start + batch_size]).to(device)
        nats += float(next_token_nll(model, x, y).double().sum())
    return nats / math.log(2)


def bits_per_byte(model: ProxyLM, encoded: EncodedText, eod_id: int) -> float:
    return total_nll_bits(model, encoded, eod_id) / max(1, encoded.bytes)
