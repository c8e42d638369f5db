"""Real runs for the report and data card tests: the quickstart, and a richer recipe over the same
real sample (language, PII, exact and near dedup, splits) that is then tokenised."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_helpers import example_recipe

from winnow import run
from winnow.export import train_tokenizer
from winnow.export.tokenize import tokenize

RICH_STEPS = [
    {"normalize_whitespace": {}},
    {"language": {}},
    {"pii": {"mode": "redact"}},
    {"exact_dedup": {}},
    {"minhash_dedup": {}},
    {"length_filter": {"min_words": 50, "max_chars": 100000}},
]


@pytest.fixture(scope="session")
def quickstart_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("quickstart") / "out"
    run(example_recipe("quickstart.yaml", out), workers=2)
    return out


@pytest.fixture(scope="session")
def rich_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run with every section of the report filled, tokenised afterwards (writes _winnow/tokens.json)."""
    folder = tmp_path_factory.mktemp("rich")
    recipe = example_recipe("quickstart.yaml", folder / "out")
    recipe["steps"] = RICH_STEPS
    recipe["split"] = {"val": 0.1, "test": 0.1}
    run(recipe, workers=2)
    train_tokenizer([str(folder / "out")], 1024, str(folder / "tokenizer.json"))
    tokenize([str(folder / "out")], str(folder / "tokenizer.json"), str(folder / "tokens"), workers=2)
    return folder / "out"
