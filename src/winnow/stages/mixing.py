"""Mixtures with exact proportions (the ``mix`` stage) and train/val/test assignment (``split``).

``mix`` is a global stage in two phases with files under its work directory:

1. *measure*: every record's size (tokens, counted with the given tokenizer, or 1 for
   ``by: documents``), its source, and two hashes of its id (a lookup key, and a seeded
   order), one file per input part, in parallel through the executor's runner;
2. *plan*: per source, the target size (``weight / sum of weights`` of ``total``; without a
   total, the largest mixture that needs no up-sampling) and how many copies of each record
   reach it: whole passes over the source for up-sampling, then a prefix of the source in the
   seeded order filled greedily to the remainder. Deterministic for a given seed.

``process`` then drops the records with no copy (reason ``mix: not_sampled``, or ``mix: zero_weight``
for a group weighted 0) and repeats the up-sampled ones; a repeat gets the id ``<id>#<k>`` and
``mix.copy = k`` (0 for the original).

The groups are the inputs' sources, or with ``column`` the values of a column (``domain.domain``,
``domain.topic``, ...: balancing by domain or cluster); then ``weights`` are per value, and ``"*"``
weighs each value not named. Counters per group: ``available.<g>`` (documents before), ``documents.<g>``
(after, copies included), ``dropped.<g>``, and ``tokens.<g>`` for ``by: tokens``.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash
from pydantic import Field, model_validator

from winnow.errors import RecipeError, WinnowError
from winnow.export.splits import split_of
from winnow.extras import require
from winnow.manifest import Section
from winnow.records import REASON, with_column
from winnow.steps.base import GlobalStage, Resources, Step, StepParams, StepResult, TaskRunner
from winnow.steps.registry import register

ORDER_SEED_SALT = 0x313C  # mixes the recipe's seed into the order hash
CLUSTER_COLUMN = "minhash_dedup.cluster_id"
COPY_ID = re.compile(r"(.*)#([0-9]+)", re.S)  # the id of a copy made by up-sampling: <id>#<k>
COPY_COLUMN = "mix.copy"
SPLIT_COLUMN = "split"
OTHER_VALUES = "*"  # the weight of every value of ``column`` that ``weights`` does not name


def id_key(ids: list[str]) -> np.ndarray:
    return np.fromiter((xxhash.xxh64_intdigest(i.encode()) for i in ids), dtype=np.uint64, count=len(ids))


@register
class Mix(GlobalStage):
    """Mix the inputs in exact proportions (by tokens or documents), down- or up-sampling deterministically."""

    name = "mix"
    report_section = Section.MIX
    requires = ("text", "source")
    produces = (COPY_COLUMN,)
    resources = Resources(cpus=1.0, memory_gb=1.0)

    class Params(StepParams):
        by: Literal["tokens", "documents"] = Field(
            "tokens", description="What the proportions count: tokens or documents."
        )
        tokenizer: str | None = Field(
            None, description="Local tokenizer.json that counts tokens (required for by: tokens)."
        )
        total: int | None = Field(
            None, gt=0, description="Size of the mixture in `by` units; default: the largest mix without up-sampling."
        )
        seed: int = Field(0, description="Seed of the sampling order.")
        weights: dict[str, float] = Field(
            default_factory=dict,
            description="Share of each source (filled from the inputs' weight), or with `column` of each value "
            '("*": each value not named).',
        )
        column: str | None = Field(
            None, description="Balance by the values of this column (e.g. domain.domain) instead of by source."
        )

        @model_validator(mode="after")
        def _check(self) -> Mix.Params:
            if self.by == "tokens" and not self.tokenizer:
                raise ValueError("by: tokens needs a tokenizer (a local tokenizer.json)")
            if not self.weights:
                raise ValueError("no weights: give the inputs a weight")
            if any(w < 0 or not math.isfinite(w) for w in self.weights.values()) or sum(self.weights.values()) <= 0:
                raise ValueError(f"weights must be non-negative with a positive sum, got {self.weights}")
            if OTHER_VALUES in self.weights and self.column is None:
                raise ValueError('the weight "*" (every other value) needs a column: sources are named one by one')
            return self

    def weight_of(self, group: str) -> float | None:
        """The weight of a group: its own, else ``"*"``'s, else None (not in the mix)."""
        return self.params.weights.get(group, self.params.weights.get(OTHER_VALUES))

    def check(self) -> None:
        if self.params.by == "tokens":
            require("mix by tokens", ("tokenizers",), "tokens")
            path = self.params.tokenizer
            if not Path(path).is_file():
                raise RecipeError(f"mix: tokenizer not found: {path}")
            from winnow.export.tokenizer import load_tokenizer

            try:
                load_tokenizer(path)
            except WinnowError as error:
                raise RecipeError(f"mix: {error}") from None

    def prepare(self, parts: list[str], workdir: str, runner: TaskRunner) -> None:
        super().prepare(parts, workdir, runner)
        os.makedirs(workdir, exist_ok=True)
        p = self.params
        if p.column is not None:
            for part in parts:
                if p.column not in pq.ParquetFile(part).schema_arrow.names:
                    raise RecipeError(f"mix: column {p.column!r} is not in the records ({part})")
        tasks = [
            (part, os.path.join(workdir, f"sizes-{i:05d}.parquet"), p.by, p.tokenizer, p.seed, p.column)
            for i, part in enumerate(parts)
        ]
        runner.map(_measure_part, [t for t in tasks if not os.path.exists(t[1])])
        plan_file = os.path.join(workdir, "plan.parquet")
        if not os.path.exists(plan_file):
            sizes = pa.concat_tables([pq.read_table(t[1]) for t in tasks]) if tasks else None
            plan, summary = _plan(sizes, p.weights, p.total)
            pq.write_table(plan, plan_file + ".partial")
            os.replace(plan_file + ".partial", plan_file)
            Path(workdir, "plan.json").write_text(json.dumps(summary, indent=1) + "\n")

    def _load_plan(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        plan = getattr(self, "_lazy_plan", None)
        if plan is None:
            if self.workdir is None:
                raise WinnowError("mix: process called before prepare")
            table = pq.read_table(os.path.join(self.workdir, "plan.parquet"))
            plan = self._lazy_plan = (
                table.column("key").to_numpy(),
                table.column("copies").to_numpy(),
                table.column("size").to_numpy(),
            )
        return plan

    def process(self, batch: pa.Table) -> StepResult:
        keys, copies, sizes = self._load_plan()
        batch_keys = id_key(batch.column("id").to_pylist())
        where = np.searchsorted(keys, batch_keys)
        where = np.minimum(where, max(len(keys) - 1, 0))
        if not len(keys) or not np.array_equal(keys[where], batch_keys):
            missing = batch.column("id")[int(np.flatnonzero(keys[where] != batch_keys)[0]) if len(keys) else 0]
            raise WinnowError(f"mix: record {missing} was not seen by prepare")
        n_copies, n_size = copies[where], sizes[where]
        groups = group_values(batch, self.params.column)
        for group, count, size in zip(groups, n_copies.tolist(), n_size.tolist(), strict=True):
            self.counters[f"available.{group}"] += 1
            if count:
                # by: documents counts documents once (size is 1): the counter is documents.<g> either way
                if self.params.by == "tokens":
                    self.counters[f"tokens.{group}"] += count * size
                self.counters[f"documents.{group}"] += count
            else:
                self.counters[f"dropped.{group}"] += 1
        rows = np.repeat(np.arange(batch.num_rows), n_copies)
        copy_number = np.arange(rows.size) - np.repeat(np.cumsum(n_copies) - n_copies, n_copies)
        kept = batch.take(pa.array(rows))
        if rows.size and copy_number.max() > 0:
            ids = kept.column("id").to_pylist()
            ids = [i if k == 0 else f"{i}#{k}" for i, k in zip(ids, copy_number.tolist(), strict=True)]
            kept = with_column(kept, "id", pa.array(ids, pa.string()))
        kept = with_column(kept, COPY_COLUMN, pa.array(copy_number, pa.int32()))
        dropped = batch.filter(pa.array(n_copies == 0))
        rejected = None
        if dropped.num_rows:
            reasons = [
                f"{self.name}: {'zero_weight' if self.weight_of(g) == 0 else 'not_sampled'}"
                for g, c in zip(groups, n_copies.tolist(), strict=True)
                if c == 0
            ]
            rejected = dropped.append_column(REASON, pa.array(reasons, pa.string()))
        return StepResult(kept, rejected)


def group_values(table: pa.Table, column: str | None) -> list[str]:
    """Each record's group: its source, or the value of ``column`` as text (a missing value is ``null``)."""
    if column is None:
        return table.column("source").to_pylist()
    values = pc.cast(table.column(column), pa.string()).to_pylist()
    return ["null" if v is None else v for v in values]


def _measure_part(task: tuple[str, str, str, str | None, int, str | None]) -> str:
    part, output, by, tokenizer_path, seed, column = task
    columns = ["id", "source"] + (["text"] if by == "tokens" else []) + ([column] if column else [])
    table = pq.read_table(part, columns=list(dict.fromkeys(columns)))
    ids = table.column("id").to_pylist()
    if by == "tokens":
        from winnow.export.tokenizer import load_tokenizer

        tokenizer = load_tokenizer(tokenizer_path)
        encodings = tokenizer.encode_batch_fast(table.column("text").to_pylist(), add_special_tokens=False)
        sizes = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(ids))
    else:
        sizes = np.ones(len(ids), dtype=np.int64)
    order_seed = (seed * 0x9E3779B1 + ORDER_SEED_SALT) % 2**64
    order = np.fromiter((xxhash.xxh64_intdigest(i.encode(), seed=order_seed) for i in ids), np.uint64, len(ids))
    # Ids shaped like a copy's name (<base>#<k>): the plan checks that no copy it makes takes one.
    matches = [COPY_ID.fullmatch(i) if "#" in i else None for i in ids]
    result = pa.table(
        {
            "key": id_key(ids),
            "order": order,
            "source": pa.array(group_values(table, column), pa.string()),  # the group: source or column value
            "size": sizes,
            "copy_base": pa.array([id_key([m.group(1)])[0] if m else None for m in matches], pa.uint64()),
            "copy_number": pa.array([int(m.group(2)) if m else None for m in matches], pa.int64()),
        }
    )
    pq.write_table(result, output + ".partial")
    os.replace(output + ".partial", output)
    return output


def _check_copy_names(key: np.ndarray, copies: np.ndarray, sizes: pa.Table) -> None:
    """Fail when a copy the plan makes (``<id>#<k>``, k < copies of <id>) would take an input record's id."""
    if "copy_base" not in sizes.column_names:  # sizes measured by an older version (a resumed run)
        return
    named = sizes.column("copy_base").is_valid().to_numpy(zero_copy_only=False)
    if not named.any():
        return
    # (fill_null first: a uint64 column with nulls would come back as float64 and lose bits)
    bases = sizes.column("copy_base").fill_null(0).to_numpy()[named]
    numbers = sizes.column("copy_number").fill_null(0).to_numpy()[named]
    by_key = np.argsort(key, kind="stable")
    where = by_key[np.minimum(np.searchsorted(key[by_key], bases), len(key) - 1)]
    taken = (key[where] == bases) & (numbers >= 1) & (copies[where] > numbers)
    if taken.any():
        raise WinnowError(
            f"mix: up-sampling names the copies of a record <id>#1, <id>#2, ..., but {int(taken.sum())} input "
            "record(s) already have such an id (an id 'a' and an id 'a#1'); give the inputs other ids"
        )


def _plan(sizes: pa.Table | None, weights: dict[str, float], total: int | None) -> tuple[pa.Table, dict[str, Any]]:
    """How many copies of each record make the mixture; returns the plan (sorted by key) and a summary."""
    empty = pa.table(
        {"key": pa.array([], pa.uint64()), "copies": pa.array([], pa.int32()), "size": pa.array([], pa.int64())}
    )
    if sizes is None or sizes.num_rows == 0:
        return empty, {"sources": {}}
    source = sizes.column("source").to_numpy(zero_copy_only=False).astype(str)
    unknown = sorted(set(np.unique(source)) - set(weights))
    named = {k: w for k, w in weights.items() if k != OTHER_VALUES}
    if OTHER_VALUES in weights:  # each value not named gets the weight of "*"
        named.update(dict.fromkeys(unknown, weights[OTHER_VALUES]))
        unknown = []
    weights = named
    if unknown:
        raise WinnowError(f"mix: records of group(s) {unknown} have no weight (weights are for {sorted(weights)})")
    if sum(weights.values()) <= 0:
        raise WinnowError(f"mix: every group that reaches the mix has weight 0 ({weights})")
    size = sizes.column("size").to_numpy()
    order = sizes.column("order").to_numpy()
    share = {s: w / sum(weights.values()) for s, w in weights.items()}
    available = {s: int(size[source == s].sum()) for s in weights}
    for s, w in share.items():
        if w > 0 and available[s] == 0:
            raise WinnowError(f"mix: group {s!r} has weight {weights[s]} but no records reach the mix")
    if total is None:
        total = min(available[s] / w for s, w in share.items() if w > 0)
    copies = np.zeros(len(size), dtype=np.int32)
    summary: dict[str, Any] = {"total": total, "sources": {}}
    for s, w in share.items():
        members = np.flatnonzero(source == s)
        members = members[np.argsort(order[members], kind="stable")]
        target = w * total
        whole = int(target // available[s]) if available[s] else 0
        remainder = target - whole * available[s]
        chosen = _fill(size[members], remainder)
        copies[members] = whole
        copies[members[chosen]] += 1
        selected = int((copies[members].astype(np.int64) * size[members]).sum())
        summary["sources"][s] = {
            "weight": weights[s],
            "available": available[s],
            "target": target,
            "selected": selected,
        }
    key = sizes.column("key").to_numpy()
    by_key = np.argsort(key, kind="stable")
    if np.any(key[by_key][1:] == key[by_key][:-1]):
        raise WinnowError("mix: two records share an id (ids must be unique to be sampled)")
    _check_copy_names(key, copies, sizes)
    plan = pa.table({"key": key[by_key], "copies": copies[by_key], "size": size[by_key]})
    return plan, summary


def _fill(sizes: np.ndarray, target: float) -> np.ndarray:
    """Which records (positions in the seeded order) to take so their sizes sum close to ``target``.

    The longest prefix that fits, then, still in order, every later record that fits in what
    is left (records are whole, so a plain prefix could miss by a whole long document), then
    the smallest skipped record if overshooting by it lands closer."""
    cumulative = np.cumsum(sizes)
    prefix = int(np.searchsorted(cumulative, target, side="right"))
    chosen = list(range(prefix))
    left = target - (cumulative[prefix - 1] if prefix else 0)
    skipped: list[int] = []
    for position in range(prefix, len(sizes)):
        if left <= 0:
            break
        if sizes[position] <= left:
            chosen.append(position)
            left -= sizes[position]
        else:
            skipped.append(position)
    if skipped and left > 0:
        smallest = min(skipped, key=lambda p: (sizes[p], p))
        if sizes[smallest] - left < left:
            chosen.append(smallest)
    return np.array(sorted(chosen), dtype=np.int64)


@register
class Split(Step):
    """Assign each record to train/val/test by a hash of its id (or its near-duplicate cluster)."""

    name = "split"
    report_section = Section.SPLIT
    requires = ("id",)
    produces = (SPLIT_COLUMN,)

    class Params(StepParams):
        val: float = Field(0.0, ge=0.0, lt=1.0, description="Share of records in the validation split.")
        test: float = Field(0.0, ge=0.0, lt=1.0, description="Share of records in the test split.")

        @model_validator(mode="after")
        def _check(self) -> Split.Params:
            if self.val + self.test >= 1.0:
                raise ValueError(f"val + test must be below 1, got {self.val + self.test}")
            return self

    def transform(self, batch: pa.Table) -> pa.Table:
        keys = split_keys(batch)
        splits = [split_of(key, self.params.val, self.params.test) for key in keys]
        for name in splits:
            self.counters[name] += 1
        return with_column(batch, SPLIT_COLUMN, pa.array(splits, pa.string()))


def split_keys(batch: pa.Table) -> list[str]:
    """What decides a record's split: its near-duplicate cluster when known, else its original id.

    Near-duplicates share a cluster, so a val/test document's near-duplicates never land in
    train; the copies made by ``mix`` share the original's id."""
    ids = batch.column("id").to_pylist()
    if COPY_COLUMN in batch.column_names:
        copy = batch.column(COPY_COLUMN).to_pylist()
        ids = [i.removesuffix(f"#{k}") if k else i for i, k in zip(ids, copy, strict=True)]
    if CLUSTER_COLUMN in batch.column_names:
        clusters = pc.cast(batch.column(CLUSTER_COLUMN), pa.string()).to_pylist()
        # The cluster value itself (not prefixed): whether a cluster is named by its representative's
        # id or the representative has no cluster value, the representative and its members agree.
        return [c if c is not None else i for i, c in zip(ids, clusters, strict=True)]
    return ids
