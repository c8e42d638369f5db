"""Prompt templates: Jinja2 (sandboxed, undefined names an error), one built-in per task in
``winnow/synth/prompts/``; a recipe overrides one with a file path or inline text. A template's hash
(sha256 of its source, 12 hex digits) goes into every record it produced and onto the data card."""

from __future__ import annotations

import hashlib
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from winnow.errors import RecipeError


class PromptTemplate:
    def __init__(self, source: str, where: str):
        self.source = source
        self.where = where

    @classmethod
    def load(cls, override: str | None, builtin: str) -> PromptTemplate:
        """``override``: a path to a template file, or the template text itself; None: the task's own."""
        if override is None:
            text = resources.files("winnow.synth").joinpath("prompts", f"{builtin}.txt").read_text()
            return cls(text, f"built-in {builtin}")
        if "{{" not in override and "{%" not in override:
            path = Path(override)
            if not path.is_file():
                raise RecipeError(f"prompt template not found: {override} (a path, or the template text itself)")
            return cls(path.read_text(), str(path))
        return cls(override, "inline template")

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()[:12]

    @cached_property
    def _compiled(self) -> Any:
        import jinja2
        from jinja2.sandbox import SandboxedEnvironment

        env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
        try:
            return env.from_string(self.source)
        except jinja2.TemplateSyntaxError as error:
            raise RecipeError(f"{self.where}: line {error.lineno}: {error.message}") from None

    def check(self) -> None:
        self._compiled  # noqa: B018 (a syntax error fails the recipe before any data is read)

    def render(self, **values: Any) -> str:
        import jinja2

        try:
            return self._compiled.render(**values).strip()
        except jinja2.UndefinedError as error:
            raise RecipeError(
                f"{self.where}: {error.message} (names it can use: {', '.join(sorted(values))})"
            ) from None

    def __getstate__(self) -> dict[str, Any]:
        return {"source": self.source, "where": self.where}  # the compiled template is rebuilt per process
