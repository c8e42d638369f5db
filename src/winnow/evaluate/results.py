"""The typed results of an ablation (``results.json``), read by the report."""

from __future__ import annotations

from pydantic import BaseModel

from winnow.evaluate.config import AblationConfig
from winnow.evaluate.stats import Cell, PairedDifference
from winnow.evaluate.trainer import CurvePoint


class Score(BaseModel):
    """One trained model on one eval set."""

    eval_set: str
    metric: str  # "bpb" or "accuracy"
    value: float
    items: int  # documents (bpb) or questions (accuracy)
    bytes: int | None = None  # bpb: the UTF-8 bytes scored
    chance: float | None = None  # accuracy: what guessing gets


class RunScores(BaseModel):
    variant: str
    size: str
    seed: int
    parameters: int
    tokens: int
    wall_seconds: float
    tokens_per_second: float
    device: str
    curve: list[CurvePoint]
    scores: list[Score]


class SizeSummary(BaseModel):
    size: str
    cells: dict[str, dict[str, Cell]]  # variant -> eval set -> mean ± std over seeds
    differences: list[PairedDifference]  # every variant but the baseline, against the baseline
    verdicts: dict[str, str]  # variant -> sentence
    verdict_sets: list[str] = []  # the eval sets the verdict and ranking use: text sets kept aside from every variant
    ranking: list[str]  # best first, by the mean bpb over verdict_sets


class VariantInfo(BaseModel):
    name: str
    data: str
    tokens_dir: str
    train_tokens: int  # in the variant's train split (the budget is drawn from these, with replacement)
    train_documents: int


class AblationResult(BaseModel):
    config: AblationConfig
    baseline: str
    variants: list[VariantInfo]
    runs: list[RunScores]
    sizes: list[SizeSummary]
    ranking_holds: bool | None  # None with one model size
    wall_seconds: float
