"""The YAML files users write (recipes, ablation configs), read with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from winnow.errors import WinnowError


def load_mapping(path: Path, what: str, shape: str, error: type[WinnowError] = WinnowError) -> dict[str, Any]:
    """The mapping the YAML file at ``path`` holds. Raises ``error`` naming the file when it is
    missing (``{what} not found``), is not YAML, or is not a mapping (``shape`` says what it should be)."""
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except yaml.YAMLError as problem:
        raise error(f"{path}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: {shape}")
    return data


def problems(error: ValidationError, whole: str = "") -> str:
    """A pydantic validation error as one line: ``field.path: message; ...`` (``whole``: the name
    of an error about the whole object, whose path is empty)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or whole}: {e['msg']}" for e in error.errors())
