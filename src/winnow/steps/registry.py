"""The step registry: every step by name, so recipes can name them and ``winnow steps`` lists them.

Register a step by decorating its class::

    @register
    class LengthFilter(Step):
        name = "length_filter"
        class Params(StepParams): ...

Step modules live in ``winnow.steps`` (streaming steps, by topic) and ``winnow.stages``
(global stages); :func:`load_builtin_steps` imports them all by name (the registry sits beside the
step base, and names the stage modules as strings, so it imports nothing above ``steps``).

Every step is listed whatever is installed. A step module imports its optional dependencies
inside the step (``Step.needs``/``Step.extra`` say which, checked when a recipe builds it); a
module that cannot help importing one at its top (a wing such as ``winnow.synth``, built on its
client library) is declared in ``OPTIONAL_MODULES`` with its extra and step names: without the
extra, those steps are registered as stand-ins that ``winnow steps`` lists with the install hint
and that fail a recipe before any data is read. A built-in module that fails otherwise is an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from winnow.configfile import problems
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


@dataclass(frozen=True)
class OptionalModule:
    """A step module that imports an optional dependency at its top: the extra that installs it,
    and the steps the module registers (listed, with the install hint, when it cannot be imported)."""

    extra: str
    steps: tuple[str, ...]


# A wing adds its step modules here. The synthetic-data tasks import the LLM client (httpx) and the
# prompt templates (jinja2) at their top; steps may not import winnow.synth, so they are named here.
OPTIONAL_MODULES: dict[str, OptionalModule] = {
    "winnow.synth.tasks.answers": OptionalModule("synth", ("generate_answers",)),
    "winnow.synth.tasks.judge": OptionalModule("synth", ("judge",)),
    "winnow.synth.tasks.self_instruct": OptionalModule("synth", ("self_instruct",)),
    "winnow.synth.tasks.evolve": OptionalModule("synth", ("evolve_instructions",)),
    "winnow.synth.tasks.documents": OptionalModule("synth", ("document_qa", "summarize_documents")),
    "winnow.synth.tasks.conversations": OptionalModule("synth", ("continue_conversation", "persona_prompts")),
}
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
    _loaded = True  # first: a step module may look the registry up while it is imported
    try:
        load_step_modules(BUILTIN_MODULES, OPTIONAL_MODULES)
    except Exception:
        _loaded = False  # the next call says it again rather than list a partial registry
        raise


def load_step_modules(modules: Iterable[str], optional: Mapping[str, OptionalModule]) -> None:
    """Import ``modules`` and the ``optional`` ones; each declared step of an optional module that
    cannot be imported is registered as a stand-in that needs the missing dependency."""
    skipped = import_modules([*modules, *optional])
    for module, dependency in skipped.items():
        if module not in optional:
            raise ImportError(
                f"{module} imports {dependency} at its top, so its steps cannot be listed without it: "
                "import it inside the step that uses it (with Step.needs/Step.extra), or declare the "
                "module in winnow.steps.registry.OPTIONAL_MODULES"
            )
        for name in optional[module].steps:
            register(_stand_in(name, module, dependency, optional[module].extra))
    for module, declared in optional.items():
        absent = [name for name in declared.steps if module not in skipped and name not in _STEPS]
        if absent:
            raise TypeError(f"{module} is declared to register {', '.join(absent)} but does not")


def _stand_in(name: str, module: str, dependency: str, extra: str) -> type[Step]:
    """The step ``name`` of ``module`` while that module cannot be imported: listed, never built."""

    doc = f"(not installed: {module} needs {dependency}, from the {extra} extra)"
    attributes = {"__doc__": doc, "__module__": __name__, "name": name, "needs": (dependency,), "extra": extra}
    return type(f"Unavailable_{name}", (Step,), attributes)


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
        raise RecipeError(f"step {name!r}: {problems(error, 'params')}") from None


def _suggest(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else f" (choices: {', '.join(sorted(choices))})"
