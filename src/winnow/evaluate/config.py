"""What an ablation is made of, as types: model sizes, the training run, eval sets, variants.

``ablation.yaml`` is parsed into :class:`AblationConfig`; every training run gets a
:class:`TrainSpec` (one variant x one model size x one seed)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from winnow.configfile import load_mapping, problems
from winnow.errors import WinnowError


class ModelSize(BaseModel):
    """A decoder-only transformer: pre-norm blocks, learned positions, tied input/output embeddings."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    layers: int = Field(4, ge=1)
    d_model: int = Field(192, ge=8)
    heads: int = Field(4, ge=1)
    context: int = Field(128, ge=8)

    @model_validator(mode="after")
    def _heads_divide(self) -> ModelSize:
        if self.d_model % self.heads:
            raise ValueError(f"d_model {self.d_model} is not a multiple of heads {self.heads}")
        return self


class Optimizer(BaseModel):
    """AdamW with a linear warmup and a cosine decay to ``min_lr_ratio`` of the peak."""

    model_config = ConfigDict(extra="forbid")

    lr: float = Field(3e-3, gt=0)
    weight_decay: float = Field(0.1, ge=0)
    warmup_fraction: float = Field(0.05, ge=0, lt=1)
    min_lr_ratio: float = Field(0.1, ge=0, le=1)
    batch_size: int = Field(16, ge=1)
    grad_clip: float = Field(1.0, gt=0)


class TrainSpec(BaseModel):
    """One training run: the same for every variant, but for the data and the seed."""

    model_config = ConfigDict(extra="forbid")

    model: ModelSize = ModelSize()
    optimizer: Optimizer = Optimizer()
    tokens: int = Field(1_000_000, ge=1)  # training tokens drawn (with replacement) from the variant
    seed: int = 0
    checkpoint_every: int = Field(100, ge=1)  # steps
    log_every: int = Field(10, ge=1)  # steps between points of the loss curve
    threads: int | None = None  # torch CPU threads; None: torch's default

    @property
    def steps(self) -> int:
        return max(1, self.tokens // (self.optimizer.batch_size * self.model.context))


class EvalSet(BaseModel):
    """A named eval set: ``text`` (bits per byte on passages), ``heldout`` (bits per byte on the
    val split of every variant) or ``choice`` (zero-shot multiple-choice accuracy)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Literal["text", "heldout", "choice"]
    path: str | None = None
    limit: int | None = Field(None, ge=1)  # first N items only
    delimiter: str = " "  # choice: between the question and each answer (the Eval Gauntlet's own)

    @model_validator(mode="after")
    def _path_when_needed(self) -> EvalSet:
        if self.kind != "heldout" and not self.path:
            raise ValueError(f"eval set {self.name!r} ({self.kind}) needs a path")
        return self


class Variant(BaseModel):
    """A dataset to train on: a Winnow output / JSONL / Parquet (``data``) or a recipe run first."""

    model_config = ConfigDict(extra="forbid")

    name: str
    data: str | None = None
    recipe: str | None = None
    drop_steps: list[str] = []  # steps of the recipe left out (leave-one-step-out variants)

    @model_validator(mode="after")
    def _one_source(self) -> Variant:
        if bool(self.data) == bool(self.recipe):
            raise ValueError(f"variant {self.name!r} needs exactly one of data or recipe")
        return self


class LeaveOneOut(BaseModel):
    """Generate ``<name>-minus-<step>`` variants from one recipe, one per listed step."""

    model_config = ConfigDict(extra="forbid")

    name: str
    recipe: str
    steps: list[str]


class TokenizerSpec(BaseModel):
    """One tokenizer for every variant: a local ``tokenizer.json``, or one trained on a variant."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    train_on: str | None = None  # a variant name; default: the first variant
    vocab_size: int = Field(4096, ge=258)


class AblationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variants: list[Variant]
    leave_one_out: list[LeaveOneOut] = []
    baseline: str | None = None  # the variant others are compared with; default: the first
    tokenizer: TokenizerSpec = TokenizerSpec()
    val_fraction: float = Field(0.02, ge=0, lt=1)  # held-out share of a variant without its own split
    seeds: list[int] = [0, 1, 2]
    models: list[ModelSize] = [ModelSize()]
    tokens: int = Field(1_000_000, ge=1)
    optimizer: Optimizer = Optimizer()
    checkpoint_every: int = Field(100, ge=1)
    log_every: int = Field(10, ge=1)
    threads: int | None = None
    # runs trained at once on a CPU, each in its own process (a proxy model is too small for two
    # threads to keep two cores busy; two runs side by side do): 1 trains them one after another
    jobs: int = Field(1, ge=1)
    eval: list[EvalSet] = [EvalSet(name="heldout", kind="heldout")]
    eval_tokens: int = Field(200_000, ge=1)  # at most this many tokens scored per bpb eval set

    @model_validator(mode="after")
    def _names_unique(self) -> AblationConfig:
        names = [v.name for v in self.all_variants()]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"variant names used twice: {', '.join(duplicates)}")
        if not self.seeds:
            raise ValueError("seeds: give at least one")
        if self.baseline and self.baseline not in names:
            raise ValueError(f"baseline {self.baseline!r} is not a variant ({', '.join(names)})")
        sizes = [m.name for m in self.models]
        if len(set(sizes)) != len(sizes):
            raise ValueError("models: every size needs its own name")
        return self

    def all_variants(self) -> list[Variant]:
        """The variants given, then the leave-one-step-out variants generated from recipes."""
        generated = [
            Variant(name=f"{group.name}-minus-{step}", recipe=group.recipe, drop_steps=[step])
            for group in self.leave_one_out
            for step in group.steps
        ]
        return list(self.variants) + generated

    def baseline_name(self) -> str:
        return self.baseline or self.all_variants()[0].name

    def train_spec(self, model: ModelSize, seed: int) -> TrainSpec:
        return TrainSpec(
            model=model,
            optimizer=self.optimizer,
            tokens=self.tokens,
            seed=seed,
            checkpoint_every=self.checkpoint_every,
            log_every=self.log_every,
            threads=self.threads,
        )

    @classmethod
    def load(cls, path: str | Path) -> AblationConfig:
        path = Path(path)
        shape = "an ablation config is a mapping with variants, seeds, models, eval"
        data = load_mapping(path, "ablation config", shape)
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise WinnowError(f"{path}: {problems(error)}") from None
