"""Source code: drop files that are not code to train on, as The Stack and StarCoder's data work did.

``code_filter`` rejects a record, with the reason

* the ``code_skip`` the ``git`` reader noted (binary, too_large, vendored, lock_file, minified, generated,
  symlink, submodule);
* ``max_line_length`` / ``mean_line_length``: a line longer than ``max_line_length`` (1000) or lines longer
  than ``max_mean_line_length`` (100) on average — minified or data files;
* ``alnum_fraction``: less than ``min_alnum_fraction`` (0.25) of the characters are letters or digits;
* ``comment_fraction``: more than ``max_comment_fraction`` (0.8) of the non-blank lines are line comments
  (languages with a known line-comment prefix) — licence headers or commented-out files, not code;
* ``data_file``: an XML document (``<?xml`` at the start) or a JSON/YAML/CSV file larger than
  ``max_data_bytes`` (The Stack kept such files only when small).
"""

from __future__ import annotations

import pyarrow as pa
from pydantic import Field

from winnow.records import decode_meta
from winnow.steps.base import Step, StepParams
from winnow.steps.registry import register

LINE_COMMENT = {
    "Python": "#", "Shell": "#", "Ruby": "#", "Perl": "#", "R": "#", "YAML": "#", "TOML": "#", "Makefile": "#",
    "C": "//", "C++": "//", "Java": "//", "JavaScript": "//", "TypeScript": "//", "Go": "//", "Rust": "//",
    "C#": "//", "Kotlin": "//", "Swift": "//", "Scala": "//", "Dart": "//", "PHP": "//", "SQL": "--", "Lua": "--",
    "Haskell": "--",
}  # fmt: skip
DATA_LANGUAGES = ("JSON", "YAML", "CSV")


@register
class CodeFilter(Step):
    """Drop source files that are not code to train on: binary, vendored, generated, minified, data-like."""

    name = "code_filter"
    requires = ("text", "meta")

    class Params(StepParams):
        max_line_length: int = Field(1000, description="longest line allowed (characters)")
        max_mean_line_length: float = Field(100, description="longest mean line length allowed")
        min_alnum_fraction: float = Field(0.25, description="least share of letters and digits")
        max_comment_fraction: float = Field(0.8, description="most share of non-blank lines that are line comments")
        max_data_bytes: int = Field(100_000, description="largest JSON/YAML/CSV file kept")

    def reasons(self, batch: pa.Table) -> list[str | None]:
        texts = batch.column("text").to_pylist()
        metas = batch.column("meta").to_pylist()
        return [self._reason(text, decode_meta(meta) if meta else {}) for text, meta in zip(texts, metas, strict=True)]

    def _reason(self, text: str, meta: dict) -> str | None:
        p = self.params
        if meta.get("code_skip"):
            return str(meta["code_skip"])
        if not text:
            return "empty"
        lines = text.splitlines() or [""]
        if max(map(len, lines)) > p.max_line_length:
            return "max_line_length"
        if len(text) / len(lines) > p.max_mean_line_length:
            return "mean_line_length"
        if sum(c.isalnum() for c in text) / len(text) < p.min_alnum_fraction:
            return "alnum_fraction"
        language = meta.get("language")
        if text.lstrip().startswith("<?xml") or (language in DATA_LANGUAGES and len(text) > p.max_data_bytes):
            return "data_file"
        prefix = LINE_COMMENT.get(language or "")
        if prefix:
            code = [line.strip() for line in lines if line.strip()]
            comments = sum(line.startswith(prefix) for line in code)
            if code and comments / len(code) > p.max_comment_fraction:
                return "comment_fraction"
        return None
