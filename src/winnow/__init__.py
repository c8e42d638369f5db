"""Winnow: turn raw data into training-ready datasets for generative AI.

The public API::

    from winnow import Recipe, run, read_output
    recipe = Recipe.load("examples/quickstart.yaml")
    manifest = run(recipe, executor="local", workers=2)
    kept = read_output("out/quickstart")
"""

__version__ = "0.1.0"
