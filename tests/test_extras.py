"""Optional dependencies: a step whose extra is missing stays listed, with the install hint, and a
recipe that names it fails before any data is read — also when its whole module cannot be imported
without the extra (a wing declared in ``OPTIONAL_MODULES``). ``scripts/check_core_only.sh`` runs
these with the core dependencies only, where every step of the README must still be listed."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import ClassVar

import pytest

from winnow import Recipe, RecipeError, run
from winnow.cli import main
from winnow.steps.base import Step
from winnow.steps.registry import OptionalModule, all_steps, load_step_modules, register

pytestmark = pytest.mark.core
README = Path(__file__).resolve().parents[1] / "README.md"


@register
class NeedsAMissingModule(Step):
    """A step that needs a module no one has installed."""

    name = "test_needs_missing"
    needs: ClassVar[tuple[str, ...]] = ("winnow_no_such_module",)
    extra: ClassVar[str | None] = "imaginary"


# tests/wing_without_its_extra.py imports a library no one has installed at its top, as a wing that
# builds on its client library does; declared, its step is still registered (a stand-in).
WING = "wing_without_its_extra"
load_step_modules([], {WING: OptionalModule("imaginary_wing", ("test_wing_step",))})


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


@pytest.mark.skipif(importlib.util.find_spec("warcio") is not None, reason="the warc extra is installed")
def test_without_the_warc_extra_a_warc_input_fails_before_reading(tmp_path):
    (tmp_path / "crawl.warc.gz").write_bytes(b"")
    recipe = {"input": {"path": str(tmp_path / "crawl.warc.gz")}, "output": {"path": str(tmp_path / "out")}}
    with pytest.raises(RecipeError, match=r"warc reader.*winnow\[warc\]"):
        run(recipe)


def test_a_wing_whose_module_needs_its_extra_is_listed_with_the_hint(tmp_path, capsys):
    assert all_steps()["test_wing_step"].missing() == ["absent_wing_client"]
    assert main(["steps"]) == 0
    listing = capsys.readouterr().out
    assert re.search(
        r"^test_wing_step .*\n.*unavailable: needs absent_wing_client -> pip install 'winnow\[imaginary_wing\]'",
        listing,
        re.M,
    )
    with pytest.raises(RecipeError, match=r"step 'test_wing_step' needs absent_wing_client.*winnow\[imaginary_wing\]"):
        run(_recipe(tmp_path, "test_wing_step"))


def test_an_undeclared_module_that_needs_a_missing_library_is_an_error():
    # Its steps would vanish from `winnow steps` in silence: the registry says how to fix it instead.
    with pytest.raises(ImportError, match=rf"{WING} imports absent_wing_client at its top.*OPTIONAL_MODULES"):
        load_step_modules([WING], {})


def test_a_declared_module_must_register_the_steps_it_declares():
    with pytest.raises(TypeError, match="winnow.steps.core is declared to register test_not_there"):
        load_step_modules([], {"winnow.steps.core": OptionalModule("core", ("test_not_there",))})


def test_every_step_of_the_readme_is_listed_whatever_is_installed():
    """The README's table is generated with every extra installed; with fewer (the core-only check),
    no step may be missing from the registry, and each unavailable one names the extra to install."""
    table = re.search(r"<!-- steps:start[^>]*-->\n(.*?)<!-- steps:end -->", README.read_text(), re.S)
    assert table
    names = re.findall(r"^\| `([a-z0-9_]+)` \|", table.group(1), re.M)
    assert len(names) > 30  # the table was found and read
    steps = all_steps()
    assert [name for name in names if name not in steps] == []
    assert [name for name in names if steps[name].missing() and not steps[name].extra] == []
