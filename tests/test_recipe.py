"""Recipes: validation before any data is read, and the YAML ⇄ Python round trip."""

from __future__ import annotations

import pytest

from winnow import Recipe
from winnow.errors import RecipeError
from winnow.steps.core import LengthFilter, Sample

pytestmark = pytest.mark.core  # needs only the core dependencies


def base(**extra) -> dict:
    return {"input": {"path": "data/*.jsonl"}, "output": {"path": "out"}, **extra}


def test_unknown_step_names_the_closest_valid_one():
    with pytest.raises(RecipeError, match="unknown step 'lenght_filter' \\(did you mean 'length_filter'\\?\\)"):
        Recipe.from_dict(base(steps=[{"lenght_filter": {"min_words": 3}}]))


def test_unknown_parameter_names_the_closest_valid_one():
    with pytest.raises(RecipeError, match="unknown parameter 'min_word' \\(did you mean 'min_words'\\?\\)"):
        Recipe.from_dict(base(steps=[{"length_filter": {"min_word": 3}}]))


def test_wrong_type_and_bad_values_are_reported_with_the_step():
    with pytest.raises(RecipeError, match="step 'length_filter': min_words"):
        Recipe.from_dict(base(steps=[{"length_filter": {"min_words": "many"}}]))
    with pytest.raises(RecipeError, match="step 'sample': fraction"):
        Recipe.from_dict(base(steps=[{"sample": {"fraction": 1.5}}]))


def test_unknown_top_level_keys_and_bad_on_error_fail():
    with pytest.raises(RecipeError, match="outptu"):
        Recipe.from_dict({"input": {"path": "x"}, "outptu": {"path": "o"}, "output": {"path": "o"}})
    with pytest.raises(RecipeError, match="on_error"):
        Recipe.from_dict(base(on_error="ignore"))


def test_python_built_pipeline_saves_and_loads_back_the_same(tmp_path):
    recipe = Recipe(
        input={"path": "data/*.jsonl.zst", "source": "web", "meta_fields": ["url"]},
        steps=[LengthFilter(min_words=20), Sample(fraction=0.5, seed=7), "normalize_whitespace"],
        output={"path": "out/web", "format": "jsonl", "compression": "zstd"},
        on_error="skip",
    )
    path = tmp_path / "recipe.yaml"
    recipe.to_yaml(path)
    loaded = Recipe.load(path)
    assert loaded == recipe
    assert [s.to_config() for s in loaded.build_steps()] == [
        {"length_filter": {"min_words": 20}},
        {"sample": {"fraction": 0.5, "seed": 7}},
        {"normalize_whitespace": {}},
    ]
    assert "min_words: 20" in path.read_text()


def test_missing_recipe_and_invalid_yaml(tmp_path):
    with pytest.raises(RecipeError, match="recipe not found"):
        Recipe.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [unclosed\n")
    with pytest.raises(RecipeError, match="invalid YAML"):
        Recipe.load(bad)
