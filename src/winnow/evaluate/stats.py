"""Error bars over seeds: mean ± std per cell, paired differences with a t confidence interval,
a verdict sentence, and whether the ranking of variants holds at every model size."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel
from scipy import stats


class Cell(BaseModel):
    """One variant x eval set x model size, over seeds."""

    mean: float
    std: float  # sample std (ddof=1); 0 with one seed
    n: int


class PairedDifference(BaseModel):
    """variant - baseline, seed by seed (same seed = same initial weights and batch positions)."""

    variant: str
    baseline: str
    eval_set: str
    metric: str  # "bpb" (lower is better) or "accuracy" (higher is better)
    mean: float
    half_width: float  # of the 95% confidence interval (Student t, n - 1 degrees of freedom); inf with n = 1
    n: int
    better_seeds: int  # seeds on which the variant is better than the baseline

    @property
    def better(self) -> bool:
        return self.mean < 0 if self.metric == "bpb" else self.mean > 0

    @property
    def significant(self) -> bool:
        return abs(self.mean) > self.half_width


def cell(values: Sequence[float]) -> Cell:
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return Cell(mean=mean, std=std, n=n)


def paired_difference(
    variant: str, baseline: str, eval_set: str, metric: str, ours: dict[int, float], theirs: dict[int, float]
) -> PairedDifference:
    seeds = sorted(set(ours) & set(theirs))
    diffs = [ours[s] - theirs[s] for s in seeds]
    summary = cell(diffs)
    if summary.n > 1:
        half = float(stats.t.ppf(0.975, summary.n - 1)) * summary.std / math.sqrt(summary.n)
    else:
        half = math.inf
    better = sum(1 for d in diffs if (d < 0 if metric == "bpb" else d > 0))
    return PairedDifference(
        variant=variant,
        baseline=baseline,
        eval_set=eval_set,
        metric=metric,
        mean=summary.mean,
        half_width=half,
        n=summary.n,
        better_seeds=better,
    )


def verdict(diffs: list[PairedDifference], sets: Sequence[str]) -> str:
    """A plain sentence on the bits-per-byte sets named in ``sets`` — those kept aside from every variant
    (reference passages, documents kept aside from the corpus), e.g. 'curated beats raw on 2 of 2 …'.
    Each variant's own held-out split is left out: it differs per variant (and a deduplicated variant's
    split is contaminated for an undeduplicated one), so it does not compare variants on equal terms.

    The headline word counts only differences whose 95% interval excludes zero, and every set's own
    difference is named after it: a mean over the sets would let one large loss on one set outweigh
    wins on the others (or the reverse) and read as a verdict it is not."""
    bpb = [d for d in diffs if d.metric == "bpb" and d.eval_set in sets]
    if not bpb:
        return (
            "no bits-per-byte eval set kept aside from every variant (kind: text): "
            "each variant's own held-out split is not comparable, so there is no verdict"
        )
    variant, baseline = bpb[0].variant, bpb[0].baseline
    better = [d for d in bpb if d.better and d.significant]
    worse = [d for d in bpb if not d.better and d.significant]
    unclear = [d for d in bpb if not d.significant]
    if better and worse:
        headline = f"{variant} vs {baseline} is mixed: better on {len(better)}, worse on {len(worse)}, of"
    elif better:
        headline = f"{variant} beats {baseline} on {len(better)} of"
    elif worse:
        headline = f"{variant} loses to {baseline} on {len(worse)} of"
    else:
        headline = f"{variant} and {baseline} are not told apart (no interval excludes zero) on"
    sentence = f"{headline} {len(bpb)} bits-per-byte eval sets kept aside from every variant"
    if unclear and (better or worse):  # the sets the headline does not count, by the side they lean to
        leaning = [
            f"{word} on {n}" for word, n in (("better", sum(d.better for d in unclear)),
                                             ("worse", sum(not d.better for d in unclear))) if n
        ]  # fmt: skip
        sentence += f", and {' and '.join(leaning)} whose 95% interval includes zero"
    details = "; ".join(
        f"{d.eval_set} {d.mean:+.3f} ± {_half(d)} ({d.better_seeds} of {d.n} seeds better)" for d in bpb
    )
    return f"{sentence} ({variant} − {baseline}, bpb, mean ± 95% interval over {bpb[0].n} seeds: {details})"


def _half(d: PairedDifference) -> str:
    return f"{d.half_width:.3f}" if math.isfinite(d.half_width) else "∞ (one seed)"


def ranking(means: dict[str, float]) -> list[str]:
    """Variants from best (lowest mean bits per byte) to worst."""
    return sorted(means, key=lambda name: means[name])
