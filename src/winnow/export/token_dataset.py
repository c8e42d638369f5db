"""Reading token shards back for training (numpy memory maps; see docs/token-format.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from winnow.errors import WinnowError
from winnow.export.tokenize import FORMAT, HEADER


class TokenDataset:
    """The documents of one split of a ``winnow tokenize`` output, memory-mapped.

    ``len(ds)`` is the number of documents, ``ds[i]`` the token ids of document ``i`` (in the
    shuffled order), ending with the end-of-document id, and ``ds.window(offset, length)``
    a window of the concatenated token stream (across shard boundaries)."""

    def __init__(self, path: str | Path, split: str = "train"):
        self.path = Path(path)
        header_file = self.path / HEADER
        if not header_file.is_file():
            raise WinnowError(f"{self.path}: no {HEADER} (not a winnow tokenize output)")
        self.header: dict[str, Any] = json.loads(header_file.read_text())
        if self.header.get("format") != FORMAT:
            raise WinnowError(f"{header_file}: format is {self.header.get('format')!r}, expected {FORMAT!r}")
        if split not in self.header["splits"]:
            raise WinnowError(f"{self.path}: no split {split!r} (has {', '.join(self.header['splits']) or 'none'})")
        self.split = split
        self.dtype = np.dtype(self.header["dtype"]).newbyteorder("<")
        self.eod_id: int = self.header["tokenizer"]["eod_id"]
        shards = self.header["splits"][split]["shards"]
        self._tokens = [np.memmap(self.path / s["bin"], dtype=self.dtype, mode="r") for s in shards]
        self._offsets = [np.fromfile(self.path / s["idx"], dtype=np.dtype(self.header["index_dtype"])) for s in shards]
        for shard, tokens, offsets in zip(shards, self._tokens, self._offsets, strict=False):
            if (
                tokens.size != shard["tokens"]
                or offsets.size != shard["documents"] + 1
                or int(offsets[-1]) != tokens.size
            ):
                raise WinnowError(
                    f"{self.path / shard['bin']}: size does not match {HEADER} (truncated or mixed files?)"
                )
        # Packed SFT sequences (winnow.export.chat.packing) carry a loss mask per token.
        self._masks = [
            np.memmap(self.path / s["mask"], dtype=np.uint8, mode="r") if s.get("mask") else None for s in shards
        ]
        # Documents and tokens before each shard, for mapping a global index to (shard, local index).
        self._first_doc = np.cumsum([0] + [s["documents"] for s in shards])
        self._first_token = np.cumsum([0] + [s["tokens"] for s in shards])

    def __len__(self) -> int:
        return int(self._first_doc[-1])

    @property
    def num_tokens(self) -> int:
        return int(self._first_token[-1])

    def __getitem__(self, index: int) -> np.ndarray:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"document {index} out of range (0..{len(self) - 1})")
        shard = int(np.searchsorted(self._first_doc, index, side="right")) - 1
        local = index - int(self._first_doc[shard])
        offsets = self._offsets[shard]
        return self._tokens[shard][int(offsets[local]) : int(offsets[local + 1])]

    def loss_mask(self, index: int) -> np.ndarray:
        """The loss mask of document ``index`` (1 = train on the token), for packed SFT output."""
        if index < 0:
            index += len(self)
        shard = int(np.searchsorted(self._first_doc, index, side="right")) - 1
        mask = self._masks[shard]
        if mask is None:
            raise WinnowError(f"{self.path}: no loss mask (not a packed SFT output)")
        offsets = self._offsets[shard]
        local = index - int(self._first_doc[shard])
        return mask[int(offsets[local]) : int(offsets[local + 1])]

    def window(self, offset: int, length: int) -> np.ndarray:
        """``length`` tokens of the concatenated stream starting at ``offset`` (a copy)."""
        if offset < 0 or length < 0 or offset + length > self.num_tokens:
            raise IndexError(f"window [{offset}, {offset + length}) outside the {self.num_tokens} tokens")
        out = np.empty(length, dtype=self.dtype)
        filled = 0
        shard = int(np.searchsorted(self._first_token, offset, side="right")) - 1
        while filled < length:
            local = offset + filled - int(self._first_token[shard])
            piece = self._tokens[shard][local : local + length - filled]
            out[filled : filled + piece.size] = piece
            filled += piece.size
            shard += 1
        return out

    def document_ids(self) -> list[str]:
        """The id of every document, in dataset order (from ``<split>.documents.parquet``)."""
        import pyarrow.parquet as pq

        return (
            pq.read_table(self.path / self.header["splits"][self.split]["documents_file"], columns=["id"])
            .column("id")
            .to_pylist()
        )

    def __repr__(self) -> str:
        return (
            f"TokenDataset({str(self.path)!r}, split={self.split!r}: {len(self)} documents, {self.num_tokens} tokens)"
        )
