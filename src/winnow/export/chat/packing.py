"""Tokenised SFT: conversations → packed sequences with an assistant-only loss mask, and the
chat-template preflight. See docs/post-training.md.

``pack_sft`` writes the layout of ``winnow tokenize`` (docs/token-format.md), one "document"
of the ``.idx`` per packed sequence, so ``TokenDataset(out)[i]`` is sequence ``i``:

```
sft/
  tokens.json                  header: format winnow-tokens, plus "packing" and "loss_mask"
  train-00000.bin / .idx       token ids; sequence boundaries
  train-00000.mask             uint8 per token: 1 = train on it (assistant turns), 0 = context
  train.documents.parquet      one row per conversation: id, shard, start (token offset), tokens
```

Conversations are shuffled (``numpy.random.default_rng([seed, 0])``) and packed greedily in that
order: a sequence takes conversations while they fit in ``max_seq_len``; each conversation ends
with the end-of-document id (trained on when the conversation ends on an assistant turn). A
conversation longer than ``max_seq_len`` is dropped (``overlong: drop``) or cut (``truncate``);
both are counted in the header.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from winnow.errors import WinnowError
from winnow.export.chat import iter_records
from winnow.export.chat.template import ChatTokenizer
from winnow.export.tokenize import FORMAT, FORMAT_VERSION, HEADER, INDEX_DTYPE
from winnow.export.tokenizer import end_of_document_id


def _examples(data: Any, preferences: bool = True):
    """(id, messages, tools) of each conversation, and of each side of a preference pair."""
    for batch in iter_records(data):
        for r in batch.to_pylist():
            tools = json.loads(r["tools"]) if r.get("tools") else None
            if r.get("kind") == "conversation":
                yield r["id"], r["messages"], tools
            elif r.get("kind") == "preference" and preferences:
                prompt = r.get("messages") or []
                yield f"{r['id']}/chosen", prompt + r["chosen"], tools
                yield f"{r['id']}/rejected", prompt + r["rejected"], tools


@dataclass
class Preflight:
    """What a chat template makes of a data set, before any GPU time is spent."""

    tokenizer: str
    max_seq_len: int
    examples: int = 0
    tokens: dict[str, float] = field(default_factory=dict)  # min, mean, p50, p95, max
    tokens_by_role: dict[str, int] = field(default_factory=dict)
    over_max: int = 0  # examples longer than max_seq_len
    assistant_cut: list[str] = field(default_factory=list)  # ids whose assistant tokens go past max_seq_len
    assistant_lost: list[str] = field(default_factory=list)  # ids with no assistant token within max_seq_len
    no_assistant: list[str] = field(default_factory=list)  # ids with nothing to train on at all
    failed: dict[str, str] = field(default_factory=dict)  # ids the template refused, and why

    def summary(self) -> str:
        t = self.tokens
        lines = [
            f"{self.examples:,} examples through {self.tokenizer}",
            f"  tokens per example: min {t.get('min', 0):,.0f}, mean {t.get('mean', 0):,.1f}, "
            f"p50 {t.get('p50', 0):,.0f}, p95 {t.get('p95', 0):,.0f}, max {t.get('max', 0):,.0f}",
            f"  longer than max_seq_len {self.max_seq_len:,}: {self.over_max:,}",
            f"  assistant turn cut by max_seq_len: {len(self.assistant_cut):,}"
            + (f" (e.g. {', '.join(self.assistant_cut[:5])})" if self.assistant_cut else ""),
            f"  no assistant token left within max_seq_len: {len(self.assistant_lost):,}",
        ]
        if self.no_assistant:
            lines.append(f"  nothing to train on (no assistant turn): {len(self.no_assistant):,}")
        if self.failed:
            first = next(iter(self.failed.items()))
            lines.append(f"  refused by the template: {len(self.failed):,} (e.g. {first[0]}: {first[1]})")
        return "\n".join(lines)


def preflight(data: Any, tokenizer: str | Path, max_seq_len: int, preferences: bool = True) -> Preflight:
    """Render every example through the tokenizer's chat template and report lengths and cuts."""
    tok = ChatTokenizer.load(tokenizer)
    report = Preflight(str(tokenizer), max_seq_len)
    lengths = []
    by_role: dict[str, int] = {}
    for example_id, messages, tools in _examples(data, preferences):
        try:
            ids, mask = tok.encode(messages, tools)
        except Exception as error:  # noqa: BLE001 - a template's raise_exception, or a bad message
            report.failed[example_id] = f"{type(error).__name__}: {error}"
            continue
        report.examples += 1
        lengths.append(ids.size)
        trained = np.flatnonzero(mask)
        if not trained.size:
            report.no_assistant.append(example_id)
        elif trained[-1] >= max_seq_len:
            report.assistant_cut.append(example_id)
            if trained[0] >= max_seq_len:
                report.assistant_lost.append(example_id)
        report.over_max += int(ids.size > max_seq_len)
        for m in messages:
            by_role[m["role"]] = by_role.get(m["role"], 0) + len(
                tok.tokenizer.encode(m["content"], add_special_tokens=False).ids
            )
    if lengths:
        a = np.asarray(lengths)
        report.tokens = {
            "min": float(a.min()),
            "mean": float(a.mean()),
            "p50": float(np.percentile(a, 50)),
            "p95": float(np.percentile(a, 95)),
            "max": float(a.max()),
        }
    report.tokens_by_role = by_role
    return report


def _known(tok: ChatTokenizer, token: str | None) -> str | None:
    return token if token and tok.tokenizer.token_to_id(token) is not None else None


def pack_sft(
    data: Any,
    tokenizer: str | Path,
    output: str | Path,
    max_seq_len: int = 2048,
    seed: int = 0,
    overlong: str = "drop",
    eod_token: str | None = None,
) -> dict[str, Any]:
    """Pack the conversations of ``data`` into masked token sequences under ``output``; returns the header."""
    if overlong not in ("drop", "truncate"):
        raise WinnowError(f"overlong must be drop or truncate, not {overlong!r}")
    if max_seq_len < 2:
        raise WinnowError(f"max_seq_len must be at least 2, got {max_seq_len}")
    started = time.time()
    tok = ChatTokenizer.load(tokenizer)
    eod, eod_id = end_of_document_id(tok.tokenizer, eod_token or _known(tok, tok.special.get("eos_token")))
    vocab = tok.tokenizer.get_vocab_size(with_added_tokens=True)
    dtype = np.dtype(np.uint16 if vocab <= 2**16 else np.uint32)

    encoded, dropped, truncated, skipped = [], 0, 0, 0
    for example_id, messages, tools in _examples(data, preferences=False):
        ids, mask = tok.encode(messages, tools)
        ids = np.append(ids, eod_id)
        mask = np.append(mask, np.uint8(messages[-1]["role"] == "assistant"))
        if not mask.any():
            skipped += 1  # nothing to train on
            continue
        if ids.size > max_seq_len:
            if overlong == "drop":
                dropped += 1
                continue
            ids, mask = ids[:max_seq_len], mask[:max_seq_len]
            truncated += 1
        encoded.append((example_id, ids, mask))

    order = np.random.default_rng([seed, 0]).permutation(len(encoded))
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    for pattern in ("*.bin", "*.idx", "*.mask", "*.documents.parquet", HEADER):
        for stale in out.glob(pattern):
            stale.unlink()
    tokens, masks, pack_ends, catalogue = [], [], [], {"id": [], "start": [], "tokens": []}
    position = pack_start = 0
    for k in order.tolist():
        example_id, ids, mask = encoded[k]
        if position - pack_start + ids.size > max_seq_len:
            pack_ends.append(position)
            pack_start = position
        catalogue["id"].append(example_id)
        catalogue["start"].append(position)
        catalogue["tokens"].append(int(ids.size))
        tokens.append(ids)
        masks.append(mask)
        position += ids.size
    if position > pack_start:
        pack_ends.append(position)
    stream = np.concatenate(tokens).astype(dtype) if tokens else np.empty(0, dtype)
    loss_mask = np.concatenate(masks).astype(np.uint8) if masks else np.empty(0, np.uint8)
    offsets = np.asarray([0, *pack_ends], dtype=INDEX_DTYPE)
    stream.tofile(out / "train-00000.bin")
    offsets.tofile(out / "train-00000.idx")
    loss_mask.tofile(out / "train-00000.mask")
    pq.write_table(
        pa.table(
            {
                "id": pa.array(catalogue["id"], pa.string()),
                "shard": pa.array(np.zeros(len(catalogue["id"]), np.int32)),
                "start": pa.array(catalogue["start"], pa.int64()),
                "tokens": pa.array(catalogue["tokens"], pa.int64()),
            }
        ),
        out / "train.documents.parquet",
    )
    shard = {"bin": "train-00000.bin", "idx": "train-00000.idx", "mask": "train-00000.mask"}
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "tokenizer": {"path": str(Path(tokenizer).resolve()), "vocab_size": vocab, "eod_token": eod, "eod_id": eod_id},
        "chat_template": "model" if tok.template is not None else "chatml",
        "dtype": dtype.name,
        "byte_order": "little",
        "index_dtype": np.dtype(INDEX_DTYPE).name,
        "seed": seed,
        "packing": {
            "max_seq_len": max_seq_len,
            "sequences": len(pack_ends),
            "conversations": len(encoded),
            "dropped_overlong": dropped,
            "truncated": truncated,
            "skipped_no_assistant": skipped,
        },
        "loss_mask": {"dtype": "uint8", "trained_tokens": int(loss_mask.sum())},
        "splits": {
            "train": {
                "documents": len(pack_ends),
                "tokens": int(stream.size),
                "documents_file": "train.documents.parquet",
                "shards": [{**shard, "documents": len(pack_ends), "tokens": int(stream.size)}],
            }
        },
        "documents": len(pack_ends),
        "tokens": int(stream.size),
        "wall_seconds": round(time.time() - started, 3),
    }
    (out / HEADER).write_text(json.dumps(header, indent=1) + "\n")
    return header
