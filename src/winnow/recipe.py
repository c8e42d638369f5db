"""Recipes: a pipeline as YAML, one-to-one with the Python API.

```yaml
input:                      # one mapping or a list of them (fields: winnow.io.base.InputSpec)
  path: data/*.jsonl.zst
steps:                      # applied in order; each item is {step_name: {params}}
  - length_filter: {min_words: 20}
output: {path: out/web, format: parquet, keep_rejected: true}
on_error: fail              # fail | skip
mix: {by: tokens, tokenizer: tok.json, total: 1000000, seed: 0}   # optional (inputs carry weight)
split: {val: 0.01, test: 0.01}                                      # optional
```

``Recipe.load`` validates everything that can be checked before reading data: unknown
steps or parameters (with the closest valid name), wrong types, files the steps name.
A recipe built in Python (``steps`` may hold Step objects) saves with ``to_yaml`` and
loads back equal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from winnow.configfile import load_mapping, problems
from winnow.errors import RecipeError
from winnow.io.base import InputSpec
from winnow.records import CONVERSATION_COLUMNS, CORE_COLUMNS
from winnow.steps.base import ANY_COLUMN, Step, share_kernels
from winnow.steps.registry import all_steps, build_step


class OutputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    format: Literal["parquet", "jsonl"] = "parquet"
    compression: Literal["zstd", "gzip"] | None = None  # jsonl only; Parquet is always zstd
    keep_rejected: bool = True


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: list[InputSpec]
    steps: list[dict[str, dict[str, Any] | None]] = []
    output: OutputSpec
    on_error: Literal["fail", "skip"] = "fail"
    batch_size: int = 2048
    mix: dict[str, Any] | None = None
    split: dict[str, Any] | None = None

    @field_validator("input", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, (dict, InputSpec)) else value

    @field_validator("steps", mode="before")
    @classmethod
    def _step_items(cls, value: Any) -> Any:
        items = []
        for i, item in enumerate(value or []):
            if isinstance(item, Step):
                items.append(item.to_config())
            elif isinstance(item, str):
                items.append({item: {}})
            elif isinstance(item, dict) and len(item) == 1:
                items.append(item)
            else:
                raise ValueError(f"step {i + 1} must be a step name or a mapping {{name: {{params}}}}, got {item!r}")
        return items

    # -- loading and saving -------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path, build: bool = True) -> Recipe:
        """Read and validate a recipe file (``build``: also build its steps, see ``from_dict``)."""
        path = Path(path)
        data = load_mapping(path, "recipe", "a recipe is a mapping with input, steps and output", RecipeError)
        return cls.from_dict(data, where=str(path), build=build)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "recipe", build: bool = True) -> Recipe:
        """Validate a recipe. With ``build`` its steps are built too, so unknown steps or parameters,
        missing extras and missing columns fail now, before any data is read; ``run`` passes False
        and builds them once itself."""
        try:
            recipe = cls.model_validate(data)
        except ValidationError as error:
            raise RecipeError(f"{where}: {problems(error)}") from None
        if build:
            recipe.build_steps()
        return recipe

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["input"] = [spec.model_dump(mode="json", exclude_defaults=True) for spec in self.input]
        data["steps"] = [{name: params or {}} for item in self.steps for name, params in item.items()]
        return data

    def to_yaml(self, path: str | Path | None = None) -> str:
        text = recipe_yaml(self.to_dict())
        if path is not None:
            Path(path).write_text(text)
        return text

    # -- building -----------------------------------------------------------------------
    def build_steps(self) -> list[Step]:
        """The pipeline's steps, with the ``mix`` stage and ``split`` step appended when asked for."""
        steps = []
        for item in self.steps:
            ((name, params),) = item.items()
            steps.append(build_step(name, params))
        if self.mix is not None and self.mix.get("column") is not None:  # weights per value, in the mix
            steps.append(build_step("mix", self.mix))
        elif self.mix is not None:
            weights = {spec.source_name: spec.weight for spec in self.input if spec.weight is not None}
            if not weights:
                raise RecipeError("mix: no input has a weight")
            steps.append(build_step("mix", {**self.mix, "weights": weights}))
        if self.split is not None:
            steps.append(build_step("split", self.split))
        check_columns(steps)
        share_kernels(steps)
        return steps


def recipe_yaml(data: dict[str, Any]) -> str:
    """The YAML form of a recipe's ``to_dict``."""
    return yaml.safe_dump(data, sort_keys=False)


def check_columns(steps: list[Step]) -> None:
    """Every column a step requires comes from the reader or an earlier step, or the recipe fails
    now, naming both. A step's tags (``<step>.<attribute>``) count as produced by it; a step that
    may add any column (``produces`` holds ``ANY_COLUMN``: a user's python function) ends the check."""
    available = set(CORE_COLUMNS) | set(CONVERSATION_COLUMNS)
    earlier: set[str] = set()
    for step in steps:
        for column in step.requires:
            if column in available or column.split(".", 1)[0] in earlier:
                continue
            producer = column.split(".", 1)[0]
            hint = (
                f"; the {producer!r} step produces it: put it before {step.name!r}"
                if "." in column and producer in all_steps()
                else ""
            )
            raise RecipeError(
                f"step {step.name!r} needs the column {column!r}, which neither the input nor an earlier step "
                f"produces{hint}"
            )
        if ANY_COLUMN in step.produces:
            return
        available.update(step.produces)
        earlier.add(step.name)
