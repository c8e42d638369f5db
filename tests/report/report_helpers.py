"""Helpers shared by the report tests: example recipes moved to a temporary output."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def example_recipe(name: str, out: Path) -> dict:
    """An example recipe with its output moved to ``out`` and its input paths made absolute."""
    recipe = yaml.safe_load((ROOT / "examples" / name).read_text())
    inputs = recipe["input"] if isinstance(recipe["input"], list) else [recipe["input"]]
    for spec in inputs:
        spec["path"] = str(ROOT / spec["path"])
    recipe["output"]["path"] = str(out)
    return recipe
