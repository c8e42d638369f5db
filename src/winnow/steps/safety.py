"""Safety: flag documents by a local word list (``toxicity``) and count mentions of demographic groups (``bias_audit``).

Both match whole words and phrases, case-insensitively, with one Aho-Corasick automaton
(``pyahocorasick``) per list: the text is scanned once whatever the size of the list.

``toxicity`` ships no word list (the common ones are not ours to redistribute): the recipe names one
local file per language (one word or phrase per line, ``#`` comments), e.g.
``lists: {en: lists/en.txt, fr: lists/fr.txt}``. The document's language comes from the ``language.lang``
column (the ``language`` step) when present, else ``default_language``; a document in a language without
a list is not scored (counted as ``no_list.<lang>``). Tags: ``toxicity.matches`` (listed words found),
``toxicity.ratio`` (matches per word); a document is flagged (``toxicity.flagged``) when it has at least
``min_matches`` matches and a ratio of at least ``threshold``; ``mode: drop`` drops it (reason ``toxic``).

``bias_audit`` counts mentions of demographic groups by category (gender, religion, nationality,
race_ethnicity, age, disability, sexual_orientation) with a small default lexicon written for Winnow
(``winnow/data/bias_lexicon.json``); ``lexicon`` replaces it with a JSON file of the same shape and
``extend`` adds terms. The per-document counts go to ``bias_audit.mentions`` (a JSON object
``{"gender.female": 3, …}``) and the totals per source to the manifest counters, keyed
``<source> | <category>.<group>`` (and ``<source> | documents``), so a mixture can be compared source by source.
It drops nothing: it is an audit.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import orjson
import pyarrow as pa
from pydantic import Field

from winnow.errors import RecipeError, WinnowError
from winnow.records import with_column
from winnow.steps.base import Step, StepParams, StepResult
from winnow.steps.registry import register

DEFAULT_LEXICON = Path(__file__).resolve().parents[1] / "data" / "bias_lexicon.json"


def build_automaton(terms: dict[str, str]) -> Any:
    """An Aho-Corasick automaton over lower-case terms; each match yields its label."""
    import ahocorasick  # pyahocorasick: the safety extra

    automaton = ahocorasick.Automaton()
    for term, label in terms.items():
        automaton.add_word(term, (len(term), label))
    automaton.make_automaton()
    return automaton


def count_terms(automaton: Any, text: str) -> Counter[str]:
    """Labels of the whole-word matches of the automaton's terms in ``text`` (case-insensitive)."""
    lower = text.lower()
    found: Counter[str] = Counter()
    n = len(lower)
    for end, (length, label) in automaton.iter(lower):
        start = end - length + 1
        # whole words only: "man" is not in "manual", "he" not in "the"
        if (start == 0 or not lower[start - 1].isalnum()) and (end + 1 == n or not lower[end + 1].isalnum()):
            found[label] += 1
    return found


def read_word_list(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [w for w in (line.split("#", 1)[0].strip().lower() for line in f) if w]


def _word_count(text: str) -> int:
    return len(text.split())


@register
class Toxicity(Step):
    """Flag (and optionally drop) documents by local per-language word lists and a threshold; ships no list."""

    name = "toxicity"
    on_conversations = "text"
    needs = ("ahocorasick",)
    extra = "safety"
    produces = ("toxicity.matches", "toxicity.ratio", "toxicity.flagged")

    class Params(StepParams):
        lists: dict[str, str] = Field(
            min_length=1,
            description="word list file per language (ISO 639-1 code -> path), one word or phrase per line",
        )
        default_language: str = Field("en", description="language of documents without a language.lang column value")
        threshold: float = Field(0.0, ge=0.0, le=1.0, description="lowest ratio of listed words to all words flagged")
        min_matches: int = Field(1, ge=1, description="fewest listed words in a flagged document")
        mode: Literal["tag", "drop"] = Field(
            "tag", description="tag: add the columns; drop: also drop flagged documents"
        )

    def check(self) -> None:
        for lang, path in self.params.lists.items():
            if not Path(path).is_file():
                raise RecipeError(f"step 'toxicity': word list for {lang!r} not found: {path}")
            try:
                words = read_word_list(path)
            except (OSError, UnicodeDecodeError) as error:
                raise RecipeError(f"step 'toxicity': cannot read word list {path}: {error}") from None
            if not words:
                raise RecipeError(f"step 'toxicity': word list {path} is empty")

    def _automata(self) -> dict[str, Any]:
        automata = getattr(self, "_lazy_automata", None)
        if automata is None:
            automata = {
                lang: build_automaton({w: "listed" for w in read_word_list(path)})
                for lang, path in self.params.lists.items()
            }
            self._lazy_automata = automata
        return automata

    def process(self, batch: pa.Table) -> StepResult:
        automata = self._automata()
        texts = batch.column("text").to_pylist()
        if "language.lang" in batch.column_names:
            langs = [lang or self.params.default_language for lang in batch.column("language.lang").to_pylist()]
        else:
            langs = [self.params.default_language] * len(texts)
        matches, ratios, flagged = [], [], []
        for text, lang in zip(texts, langs, strict=True):
            automaton = automata.get(lang)
            if automaton is None:
                self.counters[f"no_list.{lang}"] += 1
                matches.append(None)
                ratios.append(None)
                flagged.append(False)
                continue
            count = count_terms(automaton, text)["listed"] if text else 0
            ratio = count / max(_word_count(text), 1) if count else 0.0
            is_flagged = count >= self.params.min_matches and ratio >= self.params.threshold
            matches.append(count)
            ratios.append(round(ratio, 6))
            flagged.append(is_flagged)
            if is_flagged:
                self.counters[f"flagged.{lang}"] += 1
        batch = with_column(batch, self.tag("matches"), pa.array(matches, pa.int32()))
        batch = with_column(batch, self.tag("ratio"), pa.array(ratios, pa.float32()))
        batch = with_column(batch, self.tag("flagged"), pa.array(flagged, pa.bool_()))
        if self.params.mode == "tag":
            return StepResult(batch)
        return self.split(batch, ["toxic" if f else None for f in flagged])


def load_lexicon(path: str | None, extend: dict[str, dict[str, list[str]]], replace: bool) -> dict[str, str]:
    """term -> "category.group" from the default lexicon (unless replaced), a lexicon file, and inline terms."""
    lexicons: list[dict[str, Any]] = []
    if not replace:
        lexicons.append(json.loads(DEFAULT_LEXICON.read_text()))
    if path:
        lexicons.append(json.loads(Path(path).read_text(encoding="utf-8")))
    lexicons.append(extend)
    terms: dict[str, str] = {}
    for lexicon in lexicons:
        for category, groups in lexicon.items():
            if category.startswith("_"):
                continue
            if not isinstance(groups, dict):
                raise WinnowError(f"bias lexicon: category {category!r} must map groups to lists of terms")
            for group, words in groups.items():
                for word in words:
                    terms[" ".join(str(word).lower().split())] = f"{category}.{group}"
    return terms


@register
class BiasAudit(Step):
    """Count mentions of demographic groups by category (gender, religion, nationality, ...) per document and per source."""

    name = "bias_audit"
    needs = ("ahocorasick",)
    extra = "safety"
    requires = ("text", "source")
    produces = ("bias_audit.mentions",)

    class Params(StepParams):
        lexicon: str | None = Field(
            None, description="a JSON lexicon {category: {group: [terms]}} added to the default one (or replacing it)"
        )
        replace_default: bool = Field(False, description="use only `lexicon` and `extend`, not the default lexicon")
        extend: dict[str, dict[str, list[str]]] = Field(
            {}, description="more terms inline: {category: {group: [terms]}}"
        )

    def check(self) -> None:
        path = self.params.lexicon
        if path is not None and not Path(path).is_file():
            raise RecipeError(f"step 'bias_audit': lexicon not found: {path}")
        try:
            terms = load_lexicon(path, self.params.extend, self.params.replace_default)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, WinnowError) as error:
            raise RecipeError(f"step 'bias_audit': cannot read lexicon {path}: {error}") from None
        if not terms:
            raise RecipeError("step 'bias_audit': the lexicon is empty")

    def _automaton(self) -> Any:
        automaton = getattr(self, "_lazy_automaton", None)
        if automaton is None:
            automaton = build_automaton(
                load_lexicon(self.params.lexicon, self.params.extend, self.params.replace_default)
            )
            self._lazy_automaton = automaton
        return automaton

    def transform(self, batch: pa.Table) -> pa.Table:
        automaton = self._automaton()
        mentions = []
        for text, source in zip(batch.column("text").to_pylist(), batch.column("source").to_pylist(), strict=True):
            found = count_terms(automaton, text) if text else Counter()
            self.counters[f"{source} | documents"] += 1
            for label, n in found.items():
                self.counters[f"{source} | {label}"] += n
            mentions.append(orjson.dumps(dict(sorted(found.items()))).decode())
        return with_column(batch, self.tag("mentions"), pa.array(mentions, pa.string()))
