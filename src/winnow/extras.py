"""Optional dependencies: which extra of ``winnow`` brings them, and whether they are installed.

Heavy dependencies live in extras (``pip install 'winnow[warc]'``). A step or reader names the
import names it needs and the extra that brings them (``Step.extra``/``Step.needs``); it is then
still registered and listed when they are missing (``winnow steps`` shows the install hint), and
a recipe that uses it fails before any data is read, with the hint. The modules import their
optional dependencies inside the functions that use them, so that a missing one never hides them.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable

from winnow.errors import RecipeError


def missing(modules: Iterable[str]) -> list[str]:
    """The import names among ``modules`` that are not installed (found without importing them)."""
    return [name for name in modules if importlib.util.find_spec(name) is None]


def import_modules(modules: Iterable[str]) -> dict[str, str]:
    """Import the modules that register built-in steps or readers. One that does not exist is
    skipped; one that fails for a missing third-party module (it imports an optional dependency at
    its top) is skipped and returned, with the name of that dependency (top level: ``httpx``), for
    the caller to list or report; an error inside Winnow itself is raised."""
    skipped: dict[str, str] = {}
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name == module:
                continue
            if error.name and not error.name.startswith("winnow"):
                skipped[module] = error.name.split(".")[0]
                continue
            raise
    return skipped


def install_hint(extra: str | None) -> str:
    return f"pip install 'winnow[{extra}]'" if extra else "install its dependencies"


def require(what: str, modules: Iterable[str], extra: str | None) -> None:
    """Raise a ``RecipeError`` naming ``what`` (a step, a reader) and the install command when a
    module it needs is missing."""
    absent = missing(modules)
    if absent:
        verb = "is" if len(absent) == 1 else "are"
        raise RecipeError(f"{what} needs {', '.join(absent)}, which {verb} not installed: {install_hint(extra)}")
