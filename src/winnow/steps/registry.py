"""The step registry: every step by name, so recipes can name them and ``winnow steps`` lists them.

Register a step by decorating its class::

    @register
    class LengthFilter(Step):
        name = "length_filter"
        class Params(StepParams): ...

Step modules live in ``winnow.steps`` (streaming steps, by topic) and ``winnow.stages``
(global stages); :func:`load_builtin_steps` imports them all by name (the registry sits beside the
step base, and names the stage modules as strings, so it imports nothing above ``steps``).
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError

from winnow.errors import RecipeError
from winnow.extras import import_modules, require
from winnow.steps.base import Step

_STEPS: dict[str, type[Step]] = {}

# Modules whose import registers the built-in steps. They import their optional dependencies
# lazily, so every step is registered (and listed) whatever is installed; a step says what it
# needs in ``Step.needs``/``Step.extra``, checked when a recipe builds it. A module that fails to
# import for a missing third-party module (a plugin written otherwise) is still skipped.
BUILTIN_MODULES = [
    "winnow.steps.core",
    "winnow.steps.text",
    "winnow.steps.extract",
    "winnow.steps.language",
    "winnow.steps.quality",
    "winnow.steps.lists",
    "winnow.steps.pii",
    "winnow.steps.license",
    "winnow.steps.optout",
    "winnow.steps.safety",
    "winnow.steps.conversation",
    "winnow.steps.preference",
    "winnow.steps.code",
    "winnow.stages.decontaminate",
    "winnow.stages.exact",
    "winnow.stages.minhash",
    "winnow.stages.mixing",
    "winnow.steps.classifier",
    "winnow.steps.embed",
    "winnow.steps.domain",
    "winnow.stages.keep_top",
    "winnow.stages.semantic",
]
_loaded = False


def register(cls: type[Step]) -> type[Step]:
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no step name")
    if cls.name in _STEPS and _STEPS[cls.name] is not cls:
        raise TypeError(f"step name {cls.name!r} is registered twice")
    _STEPS[cls.name] = cls
    return cls


def load_builtin_steps() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import_modules(BUILTIN_MODULES)


def all_steps() -> dict[str, type[Step]]:
    load_builtin_steps()
    return dict(sorted(_STEPS.items()))


def get_step_class(name: str) -> type[Step]:
    steps = all_steps()
    if name not in steps:
        raise RecipeError(f"unknown step {name!r}{_suggest(name, steps)}")
    return steps[name]


def build_step(name: str, params: dict[str, Any] | None) -> Step:
    """Build a step from its recipe form; errors name the step and the closest valid choice."""
    cls = get_step_class(name)
    require(f"step {name!r}", cls.needs, cls.extra)  # before any data is read, with the install hint
    params = params or {}
    if not isinstance(params, dict):
        raise RecipeError(f"step {name!r}: parameters must be a mapping, got {params!r}")
    fields = cls.Params.model_fields
    for key in params:
        if key not in fields:
            raise RecipeError(f"step {name!r}: unknown parameter {key!r}{_suggest(key, fields)}")
    try:
        return cls(**params)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in error.errors())
        raise RecipeError(f"step {name!r}: {problems}") from None


def _suggest(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else f" (choices: {', '.join(sorted(choices))})"
