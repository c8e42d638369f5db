"""The engine's own steps: length_filter, normalize_whitespace, sample, python."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash
from pydantic import Field, model_validator

from winnow.errors import RecipeError
from winnow.records import CORE_COLUMNS, with_column
from winnow.steps.base import Step, StepParams, StepResult
from winnow.steps.registry import register


@register
class LengthFilter(Step):
    """Drop documents that are too short or too long, in characters or whitespace-separated words."""

    name = "length_filter"
    on_conversations = "text"
    produces = ("length_filter.chars", "length_filter.words")

    class Params(StepParams):
        min_chars: int | None = Field(None, ge=0, description="drop documents with fewer characters")
        max_chars: int | None = Field(None, ge=0, description="drop documents with more characters")
        min_words: int | None = Field(None, ge=0, description="drop documents with fewer words")
        max_words: int | None = Field(None, ge=0, description="drop documents with more words")

    def transform(self, batch: pa.Table) -> pa.Table:
        text = batch.column("text")
        batch = with_column(batch, self.tag("chars"), pc.utf8_length(text).cast(pa.int64()))
        words = pc.list_value_length(pc.utf8_split_whitespace(text)).cast(pa.int64())
        return with_column(batch, self.tag("words"), words)

    def reasons(self, batch: pa.Table) -> list[str | None]:
        p = self.params
        chars = batch.column(self.tag("chars")).to_numpy()
        words = batch.column(self.tag("words")).to_numpy()
        rules = [
            ("too_few_chars", p.min_chars is not None and chars < p.min_chars),
            ("too_many_chars", p.max_chars is not None and chars > p.max_chars),
            ("too_few_words", p.min_words is not None and words < p.min_words),
            ("too_many_words", p.max_words is not None and words > p.max_words),
        ]
        return _first_failed(len(batch), rules)


def _first_failed(n: int, rules: list[tuple[str, Any]]) -> list[str | None]:
    """Per record, the name of the first rule whose mask is true (None: all passed)."""
    out: list[str | None] = [None] * n
    for name, mask in rules:
        if mask is False or mask is None:
            continue
        for i in np.flatnonzero(mask):
            if out[i] is None:
                out[i] = name
    return out


@register
class NormalizeWhitespace(Step):
    """Collapse runs of spaces and tabs, trim lines, and keep at most one blank line in a row."""

    name = "normalize_whitespace"
    on_conversations = "contents"

    class Params(StepParams):
        max_blank_lines: int = Field(1, ge=0, description="blank lines kept in a row")

    def transform(self, batch: pa.Table) -> pa.Table:
        text = batch.column("text")
        text = pc.replace_substring_regex(text, r"[ \t\f\v\r\x{00A0}]+", " ")
        text = pc.replace_substring_regex(text, r" ?\n ?", "\n")
        keep = "\n" * (self.params.max_blank_lines + 1)
        text = pc.replace_substring_regex(text, r"\n{" + str(self.params.max_blank_lines + 2) + ",}", keep)
        text = pc.utf8_trim_whitespace(text)
        return with_column(batch, "text", text)


def id_fraction(ids: list[str], seed: int) -> np.ndarray:
    """A number in [0, 1) per id, fixed by the id and the seed: the same record always gets
    the same number, whatever the batch, the worker or the size of the dataset."""
    hashes = np.fromiter((xxhash.xxh64_intdigest(i.encode(), seed) for i in ids), dtype=np.uint64, count=len(ids))
    return (hashes >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@register
class Sample(Step):
    """Keep a deterministic fraction of the records, chosen by a hash of the id and the seed."""

    name = "sample"
    requires = ("id",)

    class Params(StepParams):
        fraction: float = Field(..., gt=0, le=1, description="share of records kept")
        seed: int = Field(0, description="changes which records are kept")

    def reasons(self, batch: pa.Table) -> list[str | None]:
        keep = id_fraction(batch.column("id").to_pylist(), self.params.seed) < self.params.fraction
        return [None if k else "not_sampled" for k in keep]


@register
class Python(Step):
    """Run your own function, given by import path (``package.module:function``), per batch or per record.

    Per record, the function gets a dict and returns: a dict (the record, possibly changed or
    with new keys, which become columns), True (keep as is), False or None (drop), or a string
    (drop, with that string as the reason). Per batch, it gets a ``pyarrow.Table`` and returns
    a table, or ``(table, reasons)`` with one reason or None per record."""

    name = "python"
    requires = ()

    class Params(StepParams):
        function: str = Field(..., description="import path, package.module:function")
        mode: Literal["record", "batch"] = Field("record", description="call per record or per batch")

        @model_validator(mode="after")
        def _has_colon(self) -> Any:
            if ":" not in self.function:
                raise ValueError(f"function must be 'module:function', got {self.function!r}")
            return self

    def check(self) -> None:
        self._function()

    def _function(self) -> Callable[..., Any]:
        cached = getattr(self, "_lazy_fn", None)
        if cached is not None:
            return cached
        module_name, _, attr = self.params.function.partition(":")
        try:
            fn = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as error:
            raise RecipeError(f"python step: cannot import {self.params.function!r}: {error}") from None
        self._lazy_fn = fn
        return fn

    def process(self, batch: pa.Table) -> StepResult:
        fn = self._function()
        if self.params.mode == "batch":
            out = fn(batch)
            if isinstance(out, tuple):
                table, reasons = out
                return self.split(table, reasons)
            return StepResult(out)
        records = batch.to_pylist()
        reasons: list[str | None] = []
        rows = []
        for record in records:
            result = fn(dict(record))
            if result is True:
                rows.append(record)
                reasons.append(None)
            elif isinstance(result, dict):
                missing = [c for c in CORE_COLUMNS if c not in result]
                if missing:
                    raise RecipeError(f"python step {self.params.function}: returned a record without {missing}")
                rows.append(result)
                reasons.append(None)
            else:
                rows.append(record)
                reasons.append(result if isinstance(result, str) else "rejected")
        table = pa.Table.from_pylist(rows)
        table = table.cast(
            pa.schema(
                [
                    batch.schema.field(n) if n in batch.column_names else table.schema.field(n)
                    for n in table.column_names
                ]
            )
        )
        return self.split(table, reasons)
