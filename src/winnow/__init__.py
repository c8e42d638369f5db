"""Winnow: turn raw data into training-ready datasets for generative AI.

The public API::

    from winnow import Recipe, run, read_output
    recipe = Recipe.load("examples/quickstart.yaml")
    manifest = run(recipe, executor="local", workers=2)
    kept = read_output("out/quickstart")

Where things are: the record schema in ``winnow.records``, what a step is in
``winnow.steps.base``, the step registry in ``winnow.steps.registry``, executors in ``winnow.exec``.
"""

from winnow.errors import InputError, RecipeError, WinnowError  # noqa: E402
from winnow.exec.runner import run  # noqa: E402
from winnow.io.output import read_output  # noqa: E402
from winnow.recipe import Recipe  # noqa: E402
from winnow.steps.base import GlobalStage, Step, StepParams, StepResult  # noqa: E402
from winnow.steps.registry import all_steps, register  # noqa: E402
from winnow.version import __version__  # noqa: E402

__all__ = [
    "GlobalStage",
    "InputError",
    "Recipe",
    "RecipeError",
    "Step",
    "StepParams",
    "StepResult",
    "WinnowError",
    "__version__",
    "all_steps",
    "read_output",
    "register",
    "run",
]
