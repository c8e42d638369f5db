"""The proxy model: a small decoder-only transformer in PyTorch (pre-norm, learned positions).

Every variant of an ablation trains this same architecture from the same seed, so a difference
in the result comes from the data alone."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from winnow.evaluate.config import ModelSize


class Block(nn.Module):
    def __init__(self, size: ModelSize):
        super().__init__()
        d = size.d_model
        self.heads = size.heads
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.proj = nn.Linear(d, d, bias=False)
        self.norm2 = nn.LayerNorm(d)
        self.up = nn.Linear(d, 4 * d, bias=False)
        self.down = nn.Linear(4 * d, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(d, dim=2)
        q, k, v = (t.view(batch, length, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(attended.transpose(1, 2).reshape(batch, length, d))
        return x + self.down(F.gelu(self.up(self.norm2(x))))


class ProxyLM(nn.Module):
    """Token ids (batch, length) -> next-token logits (batch, length, vocab)."""

    def __init__(self, size: ModelSize, vocab_size: int):
        super().__init__()
        self.size = size
        self.tokens = nn.Embedding(vocab_size, size.d_model)
        self.positions = nn.Embedding(size.context, size.d_model)
        self.blocks = nn.ModuleList(Block(size) for _ in range(size.layers))
        self.norm = nn.LayerNorm(size.d_model)
        self.apply(self._init)
        # Scaled init of the residual projections keeps the residual stream's variance flat in depth.
        for name, p in self.named_parameters():
            if name.endswith(("proj.weight", "down.weight")):
                nn.init.normal_(p, std=0.02 / (2 * size.layers) ** 0.5)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        length = ids.shape[1]
        x = self.tokens(ids) + self.positions(torch.arange(length, device=ids.device))
        for block in self.blocks:
            x = block(x)
        return self.norm(x) @ self.tokens.weight.T  # tied embeddings: fewer parameters, same quality

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def next_token_nll(model: ProxyLM, ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-position negative log-likelihood in nats, shape (batch, length); targets < 0 give 0."""
    logits = model(ids)
    nll = F.cross_entropy(logits.flatten(0, 1).float(), targets.clamp(min=0).flatten(), reduction="none")
    return nll.view(targets.shape) * (targets >= 0)


def pick_device(wanted: str | None = None) -> torch.device:
    """The GPU when there is one (same command, same config), else the CPU."""
    if wanted:
        return torch.device(wanted)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
