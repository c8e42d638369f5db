"""How a text step runs on conversations: message contents out of a batch, and back in.

``Step.apply`` (``winnow.steps.base``) calls into this module when a batch holds post-training
records (``records.is_conversational``) and the step declares ``on_conversations``:

* ``contents`` (mappers that rewrite text: fix_unicode, normalize, pii…): every message of the
  chosen ``roles`` in every message column (``records.MESSAGE_COLUMNS`` and the ``messages`` of
  each entry of ``completions``) becomes one row of a *message view* — the record's columns with
  ``text`` set to the message content — and the step runs on that view. The rewritten contents go
  back into the messages, and ``text`` is rendered again (``conversation.render_record``) for the
  records that changed. Tag columns the step adds to the view are merged per record: numbers
  summed, booleans or-ed, lists concatenated (span offsets stay relative to their message), other
  values the first non-null. A message row the step drops drops its whole record, with that reason.
* ``text`` (taggers and filters: language, quality, toxicity…): the step judges the rendered
  ``text`` (``roles`` unset), or the contents of the chosen roles joined by blank lines
  (``roles: [assistant]``: only the responses). Its tags and reasons land on the records as they
  are; a change it makes to ``text`` is discarded, since ``text`` must stay the rendering.

The kernel works on Arrow arrays: it flattens ``list<message>`` columns (and the nested lists of
``completions``) to one content array, and rebuilds them with new contents and the same offsets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from winnow.conversation import render_record
from winnow.records import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, REASON, is_conversational, with_column
from winnow.steps.result import StepResult


class Step(Protocol):
    """What these helpers need of a step (``winnow.steps.base.Step``, which calls them: a Protocol
    here keeps the two modules from importing each other)."""

    name: str

    def process(self, batch: pa.Table) -> StepResult: ...

    def split(self, batch: pa.Table, reasons: Any) -> StepResult: ...


INDEX = "__winnow_row"  # the position of a view row's message (or record), removed again afterwards
ROLE_SEPARATOR = "\n\n"


def _offsets(lists: pa.Array) -> np.ndarray:
    """Offsets of a list array into its ``flatten()``, null lists counted as empty."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    out = np.zeros(len(lists) + 1, dtype=np.int32)
    np.cumsum(lengths, out=out[1:])
    return out


def _rebuild_list(lists: pa.Array, values: pa.Array) -> pa.Array:
    mask = pc.is_null(lists) if lists.null_count else None
    return pa.ListArray.from_arrays(pa.array(_offsets(lists)), values, type=lists.type, mask=mask)


def _replace_field(structs: pa.Array, name: str, values: pa.Array) -> pa.Array:
    children = structs.flatten()
    children[structs.type.get_field_index(name)] = values
    mask = pc.is_null(structs) if structs.null_count else None
    return pa.StructArray.from_arrays(children, fields=list(structs.type), mask=mask)


@dataclass
class MessageLeaf:
    """The messages of one column, flattened: one struct per message and the record it belongs to."""

    column: str
    messages: pa.StructArray
    records: np.ndarray
    rebuild: Callable[[pa.Array], pa.Array]  # new message structs -> the new column


def _leaves(batch: pa.Table) -> list[MessageLeaf]:
    leaves = []
    for column in MESSAGE_COLUMNS:
        if column not in batch.column_names:
            continue
        lists = batch.column(column).combine_chunks()
        records = pc.list_parent_indices(lists).to_numpy()
        leaves.append(MessageLeaf(column, lists.flatten(), records, lambda v, lists=lists: _rebuild_list(lists, v)))
    if "completions" in batch.column_names:
        outer = batch.column("completions").combine_chunks()
        scored = outer.flatten()
        parents = pc.list_parent_indices(outer).to_numpy()
        inner = scored.flatten()[scored.type.get_field_index("messages")]

        def rebuild(values: pa.Array, outer=outer, scored=scored, inner=inner) -> pa.Array:
            return _rebuild_list(outer, _replace_field(scored, "messages", _rebuild_list(inner, values)))

        records = parents[pc.list_parent_indices(inner).to_numpy()] if len(inner) else np.zeros(0, np.int64)
        leaves.append(MessageLeaf("completions", inner.flatten(), records, rebuild))
    return leaves


def _role_mask(leaf: MessageLeaf, roles: Sequence[str] | None) -> np.ndarray:
    if roles is None:
        return np.ones(len(leaf.messages), dtype=bool)
    role = leaf.messages.flatten()[leaf.messages.type.get_field_index("role")]
    return pc.is_in(role, pa.array(list(roles), pa.string())).to_numpy(zero_copy_only=False)


def _contents(leaf: MessageLeaf) -> pa.Array:
    index = leaf.messages.type.get_field_index("content")
    return leaf.messages.flatten()[index]


def role_texts(batch: pa.Table, roles: Sequence[str] | None, columns: Sequence[str] | None = None) -> pa.Array:
    """Per record, the contents of its messages with one of ``roles`` (every role when ``None``) in
    ``columns`` (every message column when ``None``), joined by a blank line; "" when it has none."""
    n = batch.num_rows
    pieces: list[list[str]] = [[] for _ in range(n)]
    for leaf in _leaves(batch):
        if columns is not None and leaf.column not in columns:
            continue
        mask = _role_mask(leaf, roles)
        contents = _contents(leaf).to_pylist()
        for record, content, wanted in zip(leaf.records.tolist(), contents, mask.tolist(), strict=True):
            if wanted:
                pieces[record].append(content)
    return pa.array([ROLE_SEPARATOR.join(p) for p in pieces], pa.string())


def rerender(batch: pa.Table, rows: np.ndarray) -> pa.Table:
    """``text`` rendered again from the messages of the records at ``rows``."""
    if not len(rows):
        return batch
    present = [c for c in CONVERSATION_COLUMNS if c in batch.column_names]
    records = batch.select(present).take(pa.array(rows)).to_pylist()
    texts = batch.column("text").to_pylist()
    for row, record in zip(rows.tolist(), records, strict=True):
        texts[row] = render_record(record)
    return with_column(batch, "text", pa.array(texts, pa.string()))


def _merge(values: list[Any], records: np.ndarray, n: int, type_: pa.DataType) -> pa.Array:
    """Per-message tag values merged into one per record (see the module docstring)."""
    out: list[Any] = [None] * n
    for record, value in zip(records.tolist(), values, strict=True):
        if value is None:
            continue
        current = out[record]
        if current is None:
            out[record] = list(value) if isinstance(value, list) else value
        elif isinstance(value, bool):
            out[record] = current or value
        elif isinstance(value, (int, float)):
            out[record] = current + value
        elif isinstance(value, list):
            current.extend(value)
    return pa.array(out, type_)


def _without_conversation(batch: pa.Table) -> pa.Table:
    return batch.select([c for c in batch.column_names if c not in CONVERSATION_COLUMNS])


def apply_to_contents(step: Step, batch: pa.Table, roles: Sequence[str] | None) -> StepResult:
    """Run a text-rewriting step on the message contents (``on_conversations = "contents"``)."""
    n = batch.num_rows
    leaves = _leaves(batch)
    selected = [np.flatnonzero(_role_mask(leaf, roles)) for leaf in leaves]
    # Documents among conversations (no kind) are rewritten as documents: their text is one view row.
    documents = np.flatnonzero(pc.is_null(batch.column("kind")).to_numpy(zero_copy_only=False))
    owners = np.concatenate([*(leaf.records[s] for leaf, s in zip(leaves, selected, strict=True)), documents])
    owners = owners.astype(np.int64)
    if not len(owners):
        return StepResult(batch)
    contents = [_contents(leaf) for leaf in leaves]
    texts = batch.column("text").combine_chunks()
    view_text = pa.concat_arrays(
        [
            *(c.take(pa.array(s, pa.int64())) for c, s in zip(contents, selected, strict=True)),
            texts.take(pa.array(documents, pa.int64())),
        ]
    )
    base = _without_conversation(batch)
    view = base.take(pa.array(owners, pa.int64()))
    view = with_column(view, "text", view_text)
    view = view.append_column(INDEX, pa.array(np.arange(len(owners), dtype=np.int64)))
    result = step.process(view)

    kept = result.kept
    positions = kept.column(INDEX).to_numpy()
    new_text = view.column("text").to_pylist()
    for position, text in zip(positions.tolist(), kept.column("text").to_pylist(), strict=True):
        new_text[position] = text
    # Each leaf's slice of the view, written back into that leaf's contents.
    changed = np.zeros(n, dtype=bool)
    start = 0
    for leaf, rows, original in zip(leaves, selected, contents, strict=True):
        stop = start + len(rows)
        updated = original.to_pylist()
        leaf_changed = False
        for row, text in zip(rows.tolist(), new_text[start:stop], strict=True):
            if updated[row] != text:
                updated[row] = text
                changed[leaf.records[row]] = True
                leaf_changed = True
        start = stop
        if leaf_changed:
            new_messages = _replace_field(leaf.messages, "content", pa.array(updated, pa.string()))
            batch = with_column(batch, leaf.column, leaf.rebuild(new_messages))
    batch = rerender(batch, np.flatnonzero(changed))
    if len(documents):
        rewritten = batch.column("text").to_pylist()
        for row, text in zip(documents.tolist(), new_text[start:], strict=True):
            rewritten[row] = text
        batch = with_column(batch, "text", pa.array(rewritten, pa.string()))

    # Tags the step added to the view, merged per record.
    for name in kept.column_names:
        if name in view.column_names or name == REASON:
            continue
        values: list[Any] = [None] * len(owners)
        for position, value in zip(positions.tolist(), kept.column(name).to_pylist(), strict=True):
            values[position] = value
        batch = with_column(batch, name, _merge(values, owners, n, kept.schema.field(name).type))

    if result.rejected is None or not result.rejected.num_rows:
        return StepResult(batch)
    reasons: list[str | None] = [None] * n
    prefix = f"{step.name}: "
    dropped = result.rejected
    for position, reason in zip(dropped.column(INDEX).to_pylist(), dropped.column(REASON).to_pylist(), strict=True):
        record = int(owners[position])
        if reasons[record] is None:
            reasons[record] = reason.removeprefix(prefix)
    return step.split(batch, reasons)


def apply_to_text(step: Step, batch: pa.Table, roles: Sequence[str] | None) -> StepResult:
    """Run a tagger or filter on the rendered text, or on the chosen roles' text (``on_conversations = "text"``);
    the records keep their own ``text``."""
    original = batch.column("text")
    view = batch if roles is None else with_column(batch, "text", role_texts(batch, roles))
    view = view.append_column(INDEX, pa.array(np.arange(batch.num_rows, dtype=np.int64)))
    result = step.process(view)

    def restore(table: pa.Table | None) -> pa.Table | None:
        if table is None:
            return None
        rows = table.column(INDEX)
        table = with_column(table, "text", original.take(rows))
        return table.drop_columns([INDEX])

    return StepResult(restore(result.kept), restore(result.rejected))


def compared_texts(batch: pa.Table, field: str) -> pa.Array:
    """The text a dedup stage compares for each record, by its ``field`` parameter.

    ``text``: the ``text`` column. ``prompt``: the user turns of ``messages`` (for preference,
    unpaired and rated records: their shared prompt), joined by blank lines. ``conversation``: the
    whole conversation rendered from its messages (``render_record``: prompt and every response).
    A record that is not a conversation (no ``kind``) is compared by its ``text`` whatever the field."""
    text = batch.column("text").combine_chunks()
    if field == "text" or not is_conversational(batch):
        return text
    if field == "prompt":
        compared = role_texts(batch, ["user"], columns=["messages"])
    elif field == "conversation":
        present = [c for c in CONVERSATION_COLUMNS if c in batch.column_names]
        compared = pa.array([render_record(r) for r in batch.select(present).to_pylist()], pa.string())
    else:
        raise ValueError(f"unknown dedup field {field!r}")
    return pc.if_else(pc.is_null(batch.column("kind").combine_chunks()), text, compared)
