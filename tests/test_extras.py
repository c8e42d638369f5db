"""Optional dependencies: a step whose extra is missing stays listed, with the install hint, and a
recipe that names it fails before any data is read."""

from __future__ import annotations

import importlib.util
from typing import ClassVar

import pytest

from winnow import Recipe, RecipeError, run
from winnow.cli import main
from winnow.steps.base import Step
from winnow.steps.registry import all_steps, register

pytestmark = pytest.mark.core


@register
class NeedsAMissingModule(Step):
    """A step that needs a module no one has installed."""

    name = "test_needs_missing"
    needs: ClassVar[tuple[str, ...]] = ("winnow_no_such_module",)
    extra: ClassVar[str | None] = "imaginary"


def _recipe(tmp_path, step: str) -> dict:
    # The input does not exist: the error must come before anything is read.
    return {
        "input": {"path": str(tmp_path / "missing.jsonl")},
        "steps": [{step: {}}],
        "output": {"path": str(tmp_path)},
    }


def test_a_step_with_a_missing_extra_is_listed_with_the_install_hint(capsys):
    assert "test_needs_missing" in all_steps()
    assert main(["steps"]) == 0
    listing = capsys.readouterr().out
    assert "unavailable: needs winnow_no_such_module -> pip install 'winnow[imaginary]'" in listing
    assert main(["steps", "test_needs_missing"]) == 0
    assert "pip install 'winnow[imaginary]'" in capsys.readouterr().out


def test_a_recipe_naming_it_fails_before_reading_with_the_hint(tmp_path):
    with pytest.raises(
        RecipeError, match=r"step 'test_needs_missing' needs winnow_no_such_module.*winnow\[imaginary\]"
    ):
        Recipe.from_dict(_recipe(tmp_path, "test_needs_missing"))


@pytest.mark.skipif(importlib.util.find_spec("scipy") is not None, reason="the dedup extra is installed")
def test_without_the_dedup_extra_dedup_fails_before_reading(tmp_path):
    with pytest.raises(RecipeError, match=r"winnow\[dedup\]"):
        run(_recipe(tmp_path, "exact_dedup"))


@pytest.mark.skipif(importlib.util.find_spec("warcio") is not None, reason="the web extra is installed")
def test_without_the_web_extra_a_warc_input_fails_before_reading(tmp_path):
    (tmp_path / "crawl.warc.gz").write_bytes(b"")
    recipe = {"input": {"path": str(tmp_path / "crawl.warc.gz")}, "output": {"path": str(tmp_path / "out")}}
    with pytest.raises(RecipeError, match=r"warc reader.*winnow\[web\]"):
        run(recipe)
