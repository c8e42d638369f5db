"""Zero-shot multiple choice by log-likelihood: the choice whose continuation the model finds most
likely per byte (length-normalised, so a long answer is not penalised for its length) wins."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tokenizers import Tokenizer

from winnow.evaluate.model import ProxyLM, next_token_nll


@dataclass(frozen=True)
class ChoiceItem:
    """One question: a context per choice (one shared, or one each as in Winogrande) and continuations."""

    contexts: list[str]
    continuations: list[str]
    gold: int


@dataclass(frozen=True)
class ChoiceScore:
    accuracy: float
    chance: float  # the expected accuracy of guessing
    items: int


@torch.no_grad()
def choice_accuracy(
    model: ProxyLM, tokenizer: Tokenizer, items: list[ChoiceItem], eod_id: int, batch_size: int = 32
) -> ChoiceScore:
    context = model.size.context
    rows, owners = [], []
    for number, item in enumerate(items):
        for ctx, cont in zip(item.contexts, item.continuations, strict=True):
            prefix = [eod_id] + tokenizer.encode(ctx, add_special_tokens=False).ids
            answer = tokenizer.encode(cont, add_special_tokens=False).ids or [eod_id]
            ids = (prefix + answer)[-(context + 1) :]  # keep the answer, cut the context from the left
            scored = min(len(answer), len(ids) - 1)
            rows.append((ids, scored, max(1, len(cont.encode("utf-8")))))
            owners.append(number)
    scores = np.empty(len(rows))
    device = next(model.parameters()).device
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        width = max(len(ids) for ids, _, _ in chunk) - 1
        x = np.full((len(chunk), width), eod_id, dtype=np.int64)
        y = np.full((len(chunk), width), -1, dtype=np.int64)
        for r, (ids, scored, _) in enumerate(chunk):
            n = len(ids) - 1
            x[r, :n] = ids[:-1]
            y[r, n - scored : n] = ids[-scored:]  # only the continuation's tokens are scored
        nll = next_token_nll(model, torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)).sum(1)
        scores[start : start + len(chunk)] = [-float(v) / b for v, (_, _, b) in zip(nll, chunk, strict=True)]
    correct, at = 0, 0
    for item in items:
        n = len(item.continuations)
        correct += int(np.argmax(scores[at : at + n]) == item.gold)
        at += n
    chance = float(np.mean([1 / len(item.continuations) for item in items])) if items else 0.0
    return ChoiceScore(accuracy=correct / max(1, len(items)), chance=chance, items=len(items))
