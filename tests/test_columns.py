"""Checked when a recipe is built, before any data is read: the columns each step requires; and a
run builds its steps once."""

from __future__ import annotations

from typing import ClassVar

import pytest

from winnow import Recipe, RecipeError, run
from winnow.steps.base import Step
from winnow.steps.registry import register

pytestmark = pytest.mark.core


def _recipe(tmp_path, *steps) -> dict:
    return {"input": {"path": str(tmp_path / "missing.jsonl")}, "steps": list(steps), "output": {"path": str(tmp_path)}}


def test_a_step_needing_a_column_nothing_produces_fails_naming_both(tmp_path):
    with pytest.raises(RecipeError, match=r"'language_filter' needs the column 'language.lang'.*'language' step"):
        Recipe.from_dict(_recipe(tmp_path, {"language_filter": {}}))
    with pytest.raises(RecipeError, match=r"'language_filter' needs the column 'language.lang'"):
        run(_recipe(tmp_path, {"language_filter": {}}))  # the input does not exist: nothing was read


@register
class NeedsWordCounts(Step):
    """Reads the tags of length_filter."""

    name = "test_needs_word_counts"
    requires: ClassVar[tuple[str, ...]] = ("text", "length_filter.words")


def test_columns_from_the_reader_an_earlier_step_or_a_python_function_are_found(tmp_path):
    Recipe.from_dict(_recipe(tmp_path, {"url_filter": {"block_lists": []}}))  # url: every reader gives it
    Recipe.from_dict(_recipe(tmp_path, {"length_filter": {}}, {"test_needs_word_counts": {}}))
    Recipe.from_dict(_recipe(tmp_path, {"python": {"function": "m:f"}}, {"test_needs_word_counts": {}}))
    with pytest.raises(RecipeError, match=r"'test_needs_word_counts' needs the column 'length_filter.words'"):
        Recipe.from_dict(_recipe(tmp_path, {"test_needs_word_counts": {}}, {"length_filter": {}}))


@register
class CountsItsBuilds(Step):
    """Counts how often it is built."""

    name = "test_counts_builds"
    builds: ClassVar[int] = 0

    def __init__(self, **params):
        super().__init__(**params)
        type(self).builds += 1


def test_a_run_builds_its_steps_once(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"id": "a", "text": "one document"}\n')
    recipe = {"input": {"path": str(tmp_path / "in.jsonl")}, "steps": [{"test_counts_builds": {}}]}
    CountsItsBuilds.builds = 0
    manifest = run({**recipe, "output": {"path": str(tmp_path / "out")}}, workers=1)
    assert manifest.counts.kept == 1 and CountsItsBuilds.builds == 1
