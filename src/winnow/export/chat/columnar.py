"""The fast path of the TRL exports: rows written straight from the Arrow columns.

``export_conversations`` turns records into Python dicts, converts and validates them row by
row (``formats``, ``validate``). For the common case — TRL SFT (``messages``), DPO and reward
exports of batches whose messages carry only role and content and that offer no tools — this
module writes the same JSON lines from the columns: each message is encoded once, a row is
the join of its messages, and the format's rules are checked on whole columns (non-empty
message lists, allowed roles, chosen/rejected assistant turns, an assistant turn last). When
any check fails the batch goes through the row path instead, which names the first record
that breaks the rule. ``tests/export/test_chat_export.py`` checks that both paths write the
same bytes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from winnow.export.chat.validate import TRL_ROLES

_OPTIONAL = ("name", "tool_calls", "weight", "tool_call_id")
_PREFIX = {role: b'{"role":"' + role.encode() + b'","content":' for role in TRL_ROLES}


class _Messages:
    """One message column of a batch: each message's JSON, the roles, and per-record offsets."""

    def __init__(self, column: pa.ChunkedArray | pa.Array):
        lists = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        self.valid = lists.is_valid().to_numpy(zero_copy_only=False)
        offsets = lists.offsets.to_numpy()
        self.offsets = offsets - offsets[0]
        flat = lists.flatten()
        self.plain = all(flat.field(name).null_count == len(flat) for name in _OPTIONAL)
        self.roles = flat.field("role")
        self._contents = flat.field("content")
        self.lengths = np.diff(self.offsets)
        self._json: list[bytes] | None = None

    @property
    def json(self) -> list[bytes]:
        if self._json is None:
            flat_roles = self.roles.to_pylist()
            contents = self._contents.to_pylist()
            dumps, prefix = orjson.dumps, _PREFIX
            self._json = [prefix[r] + dumps(c) + b"}" for r, c in zip(flat_roles, contents, strict=True)]
        return self._json

    def rows(self, rows: np.ndarray, start: np.ndarray | None = None) -> list[bytes]:
        """The message list of each of ``rows`` (from message ``start`` of each, when given) as JSON."""
        items, offsets = self.json, self.offsets
        ends = offsets[rows + 1]
        begins = offsets[rows] if start is None else offsets[rows] + start
        return [b"[" + b",".join(items[a:b]) + b"]" for a, b in zip(begins.tolist(), ends.tolist(), strict=True)]

    def all_roles(self, allowed: set[str]) -> bool:
        return len(self.roles) == 0 or bool(pc.all(pc.is_in(self.roles, pa.array(sorted(allowed)))).as_py())

    def role_at(self, positions: np.ndarray) -> set[str]:
        return set(self.roles.take(pa.array(positions)).to_pylist()) if len(positions) else set()

    def roles_of(self, rows: np.ndarray) -> set[str]:
        """The roles of every message of ``rows``."""
        selected = np.zeros(len(self.lengths), dtype=bool)
        selected[rows] = True
        return set(pc.unique(self.roles.filter(pa.array(np.repeat(selected, self.lengths)))).to_pylist())


def _column(batch: pa.Table, name: str) -> _Messages:
    return _Messages(batch.column(name))


def fast_rows(batch: pa.Table, fmt: str, options: dict[str, Any]) -> tuple[list[bytes], Counter] | None:
    """The JSON lines of ``batch`` in ``fmt``, and the records skipped by kind; None when the
    batch needs the row path (another format or option, tools, optional message fields, or a
    record that breaks a rule)."""
    style = options.get("style")
    if not (fmt == "trl-dpo" or fmt == "trl-reward" or (fmt == "trl-sft" and style in (None, "messages"))):
        return None
    if "tools" in batch.column_names and batch.column("tools").null_count != batch.num_rows:
        return None
    kinds = batch.column("kind").to_numpy(zero_copy_only=False)
    wanted = "conversation" if fmt == "trl-sft" else "preference"
    rows = np.flatnonzero(kinds == wanted)
    skipped = Counter(k for k in kinds[kinds != wanted].tolist())
    if not rows.size:
        return [], skipped
    names = ("messages",) if fmt == "trl-sft" else ("messages", "chosen", "rejected")
    columns = {name: _column(batch, name) for name in names}
    if not all(c.plain and c.all_roles(TRL_ROLES) for c in columns.values()):
        return None
    if fmt == "trl-sft":
        m = columns["messages"]
        if not (m.valid[rows].all() and (m.lengths[rows] > 0).all()):
            return None
        return [b'{"messages":' + j + b"}" for j in m.rows(rows)], skipped
    prompt, chosen, rejected = columns["messages"], columns["chosen"], columns["rejected"]
    for side in (chosen, rejected):
        if not (side.valid[rows].all() and (side.lengths[rows] > 0).all()):
            return None
    explicit = fmt == "trl-dpo" and style in (None, "explicit")
    if explicit:
        if not (prompt.valid[rows].all() and (prompt.lengths[rows] > 0).all()):
            return None
        for side in (chosen, rejected):  # chosen and rejected hold assistant turns only
            if side.roles_of(rows) - {"assistant"}:
                return None
        p, c, r = prompt.rows(rows), chosen.rows(rows), rejected.rows(rows)
        return [
            b'{"prompt":' + a + b',"chosen":' + b + b',"rejected":' + d + b"}" for a, b, d in zip(p, c, r, strict=True)
        ], skipped
    for side in (chosen, rejected):  # the implicit sides end on an assistant turn
        if side.role_at(side.offsets[rows + 1] - 1) - {"assistant"}:
            return None
    p = prompt.rows(rows)
    c, r = chosen.rows(rows), rejected.rows(rows)
    joined = [(_join(a, b), _join(a, d)) for a, b, d in zip(p, c, r, strict=True)]
    if fmt == "trl-reward" and "margin" in batch.column_names and batch.column("margin").null_count != batch.num_rows:
        margins = batch.column("margin").to_numpy(zero_copy_only=False)[rows].tolist()
        return [
            b'{"chosen":'
            + a
            + b',"rejected":'
            + b
            + (b"" if m is None or m != m else b',"margin":' + orjson.dumps(m))
            + b"}"
            for (a, b), m in zip(joined, margins, strict=True)
        ], skipped
    return [b'{"chosen":' + a + b',"rejected":' + b + b"}" for a, b in joined], skipped


def _join(prompt: bytes, side: bytes) -> bytes:
    """Two JSON arrays as one (the prompt turns, then the side's)."""
    if prompt == b"[]":
        return side
    return prompt[:-1] + b"," + side[1:]
