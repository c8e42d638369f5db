"""The mixture of a run that ended in ``mix``: per group (source, or value of the mix's ``column``),
its weight and its documents before and after (from the stage's counters), for the HTML report and
the data card."""

from __future__ import annotations

from dataclasses import dataclass

from winnow.manifest import Manifest, Section, StepStats


@dataclass(frozen=True)
class MixtureRow:
    group: str
    weight: float | None
    documents_before: int
    documents_after: int  # copies included
    dropped: int
    amount_after: int  # in the mix's unit (tokens or documents)


@dataclass(frozen=True)
class Mixture:
    by: str  # tokens | documents
    column: str | None  # None: by source
    tokenizer: str | None
    seed: int | None
    total: int | None
    rows: list[MixtureRow]

    @property
    def group_name(self) -> str:
        return self.column or "source"

    def share_before(self, row: MixtureRow) -> float:
        return row.documents_before / (sum(r.documents_before for r in self.rows) or 1)

    def share_after(self, row: MixtureRow) -> float:
        return row.amount_after / (sum(r.amount_after for r in self.rows) or 1)

    def header(self) -> list[str]:
        amount = [] if self.by == "documents" else [f"{self.by} after"]
        return (
            [self.group_name, "weight", "documents before", "share before", "documents after"]
            + amount
            + [
                f"share after (by {self.by})",
                "dropped",
            ]
        )

    def cells(self, row: MixtureRow) -> list[object]:
        amount = [] if self.by == "documents" else [row.amount_after]
        weight = "" if row.weight is None else row.weight
        return [row.group, weight, row.documents_before, f"{self.share_before(row):.4f}", row.documents_after] + [
            *amount,
            f"{self.share_after(row):.4f}",
            row.dropped,
        ]


def mixture_of(manifest: Manifest) -> Mixture | None:
    steps = manifest.steps_in(Section.MIX)
    return _from_step(steps[0]) if steps else None


def _from_step(step: StepStats) -> Mixture:
    params, counters = step.params or {}, step.counters
    by, weights = params.get("by", "tokens"), params.get("weights", {})
    groups = sorted({k.split(".", 1)[1] for k in counters if k.startswith("available.")})
    if not groups:  # a manifest written before the before-counters: the named groups
        groups = [g for g in weights if g != "*"]
    rows = [
        MixtureRow(
            group=g,
            weight=weights.get(g, weights.get("*")),
            documents_before=int(counters.get(f"available.{g}", 0)),
            documents_after=int(counters.get(f"documents.{g}", 0)),
            dropped=int(counters.get(f"dropped.{g}", 0)),
            amount_after=int(counters.get(f"{by}.{g}", 0)),
        )
        for g in groups
    ]
    return Mixture(by, params.get("column"), params.get("tokenizer"), params.get("seed"), params.get("total"), rows)
