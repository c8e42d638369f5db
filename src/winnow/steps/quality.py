"""Heuristic quality filters of the published web-text pipelines: Gopher, C4 and FineWeb.

The rules and default thresholds are those of Gopher (Rae et al. 2021, MassiveText, table A1),
C4 (Raffel et al. 2020) and FineWeb (Penedo et al. 2024), as implemented by DataTrove 0.10, whose
decisions these steps reproduce (``benchmarks/quality_vs_datatrove.py`` measures the agreement).
Each step tags every number it computes (``<step>.<number>``) and drops a document with the name
of the first rule it fails, in the order the reference checks them.

Everything works on whole batches: texts are split into lines, paragraphs and words by Arrow (C++)
and the counting is done with numpy over integer ids (``winnow.text.words``), so a batch costs a
handful of vectorised passes instead of a Python loop over every word of every document.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from winnow.records import with_column
from winnow.steps.base import Step, StepParams, StepResult
from winnow.steps.registry import register
from winnow.text.ngrams import NGramCounts, group_keys
from winnow.text.words import TERMINAL_PUNCTUATION, WordSplit, split_words

# What Python's str.splitlines() splits on.
LINE_BREAK = r"\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x{85}\x{2028}\x{2029}]"
# The line breaks other than "\n" (rare in practice).
_RARE_BREAK = r"[\r\x0b\x0c\x1c\x1d\x1e\x{85}\x{2028}\x{2029}]"
# Whitespace is stripped with Arrow's utf8_*trim_whitespace: Arrow's whitespace is Python's
# (str.isspace(): category Zs or bidi class WS, B or S), for every code point.


# --- batch helpers ------------------------------------------------------------------------------
def texts_of(batch: pa.Table) -> pa.Array:
    column = batch.column("text")
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


class Pieces:
    """The pieces (lines, paragraphs) of every text of a batch, flattened, with their text index."""

    def __init__(self, lists: pa.Array):
        self.offsets = np.asarray(lists.offsets, dtype=np.int64)
        self.values = pc.list_flatten(lists)
        self.doc = np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def per_doc(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.doc, weights=values, minlength=len(self.offsets) - 1)

    def repeated(self, mask: np.ndarray | None = None) -> np.ndarray:
        """True for every piece equal to an earlier piece of the same text (restricted to ``mask``)."""
        n = len(self.values)
        index = np.arange(n) if mask is None else np.flatnonzero(mask)
        if len(index) == 0:
            return np.zeros(n, dtype=bool)
        values = self.values if mask is None else self.values.filter(pa.array(mask))
        ids = np.asarray(pc.dictionary_encode(values).indices, dtype=np.int64)
        _, _, first = group_keys(self.doc[index] * (int(ids.max()) + 1) + ids)
        repeated = np.ones(len(index), dtype=bool)
        repeated[first] = False
        out = np.zeros(n, dtype=bool)
        out[index] = repeated
        return out

    def lengths(self) -> np.ndarray:
        return np.asarray(pc.utf8_length(self.values), dtype=np.int64)

    def chars_of(self, mask: np.ndarray) -> np.ndarray:
        """Per text: characters of its pieces in ``mask`` (only those are measured)."""
        lengths = np.asarray(pc.utf8_length(self.values.filter(pa.array(mask))), dtype=np.int64)
        return np.bincount(self.doc[mask], weights=lengths, minlength=len(self.offsets) - 1)

    def final_break(self) -> np.ndarray:
        """1 for every text that ends with a separator (its last piece is empty, and not its only one)."""
        counts = self.counts
        out = np.zeros(len(counts), dtype=np.int64)
        several = np.flatnonzero(counts > 1)
        last = self.offsets[1:][several] - 1
        out[several] = np.asarray(pc.binary_length(self.values.take(pa.array(last))), dtype=np.int64) == 0
        return out


def split_lines(texts: pa.Array) -> pa.Array:
    """Every text split at each LINE_BREAK, as a list array (a final break leaves an empty last line).

    A regex split costs ~5x a plain split on "\n", so the regex only runs on the (rare) texts with
    another kind of line break."""
    lists = pc.split_pattern(texts, "\n")
    rare = np.asarray(pc.match_substring_regex(texts, _RARE_BREAK), dtype=bool)
    if not rare.any():
        return lists
    rows = np.concatenate([np.flatnonzero(~rare), np.flatnonzero(rare)])
    slow = pc.split_pattern_regex(texts.filter(pa.array(rare)), LINE_BREAK)
    both = pa.concat_arrays([lists.filter(pa.array(~rare)), slow.cast(lists.type)])
    return both.take(pa.array(np.argsort(rows)))


def split_newline_runs(texts: pa.Array) -> pa.Array:
    """Every text split at runs of "\n" (as re.split("\n+", text)), as a list array.

    A plain split on "\n" is much faster than the regex split; the empty pieces it leaves between
    consecutive breaks are then dropped (not those at either end, which re.split keeps too)."""
    lists = pc.split_pattern(texts, "\n")
    offsets = np.asarray(lists.offsets, dtype=np.int64)
    values = pc.list_flatten(lists)
    keep = np.asarray(pc.binary_length(values), dtype=np.int64) > 0
    counts = np.diff(offsets)
    keep[offsets[:-1][counts > 0]] = True
    keep[offsets[1:][counts > 0] - 1] = True
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    return pa.LargeListArray.from_arrays(pa.array(kept_before[offsets]), values.filter(pa.array(keep)))


def split_paragraphs(texts: pa.Array) -> pa.Array:
    """Every text, stripped, split at runs of two or more "\n" (as re.split(r"\n{2,}", text.strip())).

    A plain split on "\n\n" is much faster than the regex split. A run of k breaks then leaves
    k // 2 - 1 empty pieces, and one "\n" before the next piece when k is odd; a stripped text
    has no empty paragraph of its own (except an empty text, which is one)."""
    lists = pc.split_pattern(pc.utf8_trim_whitespace(texts), "\n\n")
    offsets = np.asarray(lists.offsets, dtype=np.int64)
    values = pc.utf8_ltrim(pc.list_flatten(lists), characters="\n")
    keep = np.asarray(pc.binary_length(values), dtype=np.int64) > 0
    keep[offsets[:-1][np.diff(offsets) == 1]] = True  # a text's only piece
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    return pa.LargeListArray.from_arrays(pa.array(kept_before[offsets]), values.filter(pa.array(keep)))


def char_lengths(texts: pa.Array) -> np.ndarray:
    return np.asarray(pc.utf8_length(texts), dtype=np.int64)


def count_of(texts: pa.Array, needle: str) -> np.ndarray:
    """Occurrences of ``needle`` in each text (not overlapping, as str.count)."""
    data = needle.encode("utf-8")
    repeats = len(set(data)) == 1  # one byte, or "...": counted by runs
    large = pa.types.is_large_string(texts.type)
    if (len(needle) != 1 and not repeats) or texts.null_count or not (large or pa.types.is_string(texts.type)):
        return np.asarray(pc.count_substring(texts, needle), dtype=np.int64)
    # numpy finds the needle in the batch's bytes at once, ~3x Arrow's speed. One character ("#",
    # "…") cannot overlap itself nor straddle two texts; runs of a byte are cut at text boundaries.
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64 if large else np.int32)
    offsets = offsets[texts.offset : texts.offset + len(texts) + 1].astype(np.int64)
    if offsets[-1] == offsets[0]:
        return np.zeros(len(texts), dtype=np.int64)
    text = np.frombuffer(texts.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    if repeats:
        # A run of k bytes (within one text) holds k // len(needle) needles, not overlapping.
        where = np.flatnonzero(text == data[0]) + offsets[0]
        doc = np.searchsorted(offsets, where, side="right") - 1
        starts = np.ones(len(where), dtype=bool)
        starts[1:] = (where[1:] != where[:-1] + 1) | (doc[1:] != doc[:-1])
        begins = np.flatnonzero(starts)
        runs = np.diff(begins, append=len(where))
        return np.bincount(doc[begins], weights=runs // len(data), minlength=len(texts)).astype(np.int64)
    width = len(text) - len(data) + 1
    found = text[:width] == data[0]
    for i, byte in enumerate(data[1:], 1):
        found &= text[i : width + i] == byte
    where = np.flatnonzero(found) + offsets[0]
    return np.bincount(np.searchsorted(offsets, where, side="right") - 1, minlength=len(texts)).astype(np.int64)


def ratio(numerator: np.ndarray, denominator: np.ndarray, empty: float = 0.0) -> np.ndarray:
    """numerator / denominator, with ``empty`` where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    out = np.full(len(numerator), empty, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=np.asarray(denominator) != 0)
    return out


def first_failure(n: int, checks: list[tuple[str, np.ndarray | None]]) -> list[str | None]:
    """The name of the first failed check per document (checks in order), ``None`` if all pass."""
    reasons = np.full(n, None, dtype=object)
    for name, failed in reversed(checks):
        if failed is not None:
            reasons[failed] = name
    return reasons.tolist()


class QualityStep(Step):
    """Shared shape: ``measure`` computes tags and reasons, ``process`` attaches and splits."""

    on_conversations = "text"

    def measure(self, texts: pa.Array) -> tuple[dict[str, np.ndarray], list[str | None]]:
        raise NotImplementedError

    def process(self, batch: pa.Table) -> StepResult:
        if batch.num_rows == 0:
            return StepResult(batch)
        tags, reasons = self.measure(texts_of(batch))
        for attribute, values in tags.items():
            batch = with_column(batch, self.tag(attribute), tag_array(values))
        for reason in reasons:
            if reason is not None:
                self.counters[f"dropped.{reason}"] += 1
        return self.split(batch, reasons)


def tag_array(values: np.ndarray) -> pa.Array:
    """A tag column; NaN (a number not computed) becomes null."""
    if values.dtype.kind == "f":
        missing = np.isnan(values)
        return pa.array(values, mask=missing if missing.any() else None)
    return pa.array(values)


# --- Gopher repetition --------------------------------------------------------------------------
class GopherRepetitionParams(StepParams):
    dup_line_frac: float | None = Field(0.3, description="Max share of lines that repeat an earlier line.")
    dup_para_frac: float | None = Field(0.3, description="Max share of paragraphs that repeat an earlier one.")
    dup_line_char_frac: float | None = Field(0.2, description="Max share of characters in repeated lines.")
    dup_para_char_frac: float | None = Field(0.2, description="Max share of characters in repeated paragraphs.")
    top_n_grams: dict[int, float] = Field(
        {2: 0.2, 3: 0.18, 4: 0.16},
        description="n -> max share of characters in the most frequent word n-gram (times its count).",
    )
    dup_n_grams: dict[int, float] = Field(
        {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10},
        description="n -> max share of characters in word n-grams that repeat an earlier one.",
    )
    all_tags: bool = Field(
        False,
        description="Count word n-grams for every text, also those an earlier rule already dropped "
        "(slower; otherwise their later n-gram tags are null).",
    )


@register
class GopherRepetition(QualityStep):
    """Gopher repetition filter: drop texts with repeated lines, paragraphs or word n-grams.

    Tags dup_para_frac, dup_para_char_frac, dup_line_frac, dup_line_char_frac, top_<n>gram_char_frac
    and dup_<n>gram_char_frac; drops with the first rule above its threshold (Rae et al. 2021, A1)."""

    name = "gopher_repetition"
    Params = GopherRepetitionParams

    def measure(self, texts: pa.Array) -> tuple[dict[str, np.ndarray], list[str | None]]:
        p: GopherRepetitionParams = self.params
        n = len(texts)
        length = char_lengths(texts)
        tags: dict[str, np.ndarray] = {}
        paragraphs = Pieces(split_paragraphs(texts))
        repeated = paragraphs.repeated()
        tags["dup_para_frac"] = ratio(paragraphs.per_doc(repeated), paragraphs.counts)
        tags["dup_para_char_frac"] = ratio(paragraphs.chars_of(repeated), length)
        lines = Pieces(split_newline_runs(texts))
        repeated = lines.repeated()
        tags["dup_line_frac"] = ratio(lines.per_doc(repeated), lines.counts)
        tags["dup_line_char_frac"] = ratio(lines.chars_of(repeated), length)
        checks: list[tuple[str, np.ndarray | None]] = [("empty", length == 0)]
        for attribute in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"):
            limit = getattr(p, attribute)
            checks.append((attribute, tags[attribute] > limit if limit else None))

        # Word n-grams are the expensive part: unless every number is wanted, they are counted only
        # for texts no earlier rule dropped, and a text leaves the count at its first failed rule
        # (as the reference does); its later n-gram tags are then null.
        failed = np.zeros(n, dtype=bool)
        for _, check in checks:
            if check is not None and not p.all_tags:
                failed |= check
        subset = np.flatnonzero(~failed)
        ngrams = NGramCounts(split_words(texts.take(pa.array(subset))))
        sub_length = length[subset]
        sub_failed = np.zeros(len(subset), dtype=bool)
        last_top = max(p.top_n_grams, default=0)
        for size in range(2, max([*p.top_n_grams, *p.dup_n_grams], default=1) + 1):
            ngrams.advance()
            for attribute, limit, measure in (
                (f"top_{size}gram_char_frac", p.top_n_grams.get(size), ngrams.top_chars),
                (f"dup_{size}gram_char_frac", p.dup_n_grams.get(size), ngrams.duplicated_chars),
            ):
                if limit is None:
                    continue
                values = np.full(n, np.nan)
                values[subset] = ratio(measure(), sub_length)
                values[subset[sub_failed]] = np.nan
                tags[attribute] = values
            if not p.all_tags and size >= last_top:
                # The reference checks every top-n rule, then the dup-n rules by n: once all top-n
                # numbers are known, a text that failed a rule so far leaves the count.
                for top_size, limit in p.top_n_grams.items():
                    sub_failed |= tags[f"top_{top_size}gram_char_frac"][subset] > limit
                for dup_size, limit in p.dup_n_grams.items():
                    if dup_size <= size:
                        sub_failed |= tags[f"dup_{dup_size}gram_char_frac"][subset] > limit
                ngrams.drop_docs(sub_failed)
        for size, limit in sorted(p.top_n_grams.items()):
            checks.append((f"top_{size}gram_char_frac", tags[f"top_{size}gram_char_frac"] > limit))
        for size, limit in sorted(p.dup_n_grams.items()):
            checks.append((f"dup_{size}gram_char_frac", tags[f"dup_{size}gram_char_frac"] > limit))
        return tags, first_failure(n, checks)


# --- Gopher quality -----------------------------------------------------------------------------
class GopherQualityParams(StepParams):
    min_doc_words: int | None = Field(50, description="Min words (not counting punctuation-only words).")
    max_doc_words: int | None = Field(100_000, description="Max words (not counting punctuation-only words).")
    min_avg_word_length: float | None = Field(3, description="Min mean word length in characters.")
    max_avg_word_length: float | None = Field(10, description="Max mean word length in characters.")
    max_symbol_word_ratio: float | None = Field(0.1, description="Max '#' per word, and max '...'/'…' per word.")
    max_bullet_lines_ratio: float | None = Field(0.9, description="Max share of lines starting with a bullet (• or -).")
    max_ellipsis_lines_ratio: float | None = Field(0.3, description="Max share of lines ending with '...' or '…'.")
    min_alpha_words_ratio: float | None = Field(0.8, description="Min share of words with at least one letter.")
    min_stop_words: int | None = Field(2, description="Min number of distinct stop words present.")
    stop_words: list[str] = Field(
        ["the", "be", "to", "of", "and", "that", "have", "with"], description="The stop words (matched exactly)."
    )


@register
class GopherQuality(QualityStep):
    """Gopher quality rules: word count, word length, symbols, bullets, ellipses, letters, stop words.

    Tags word_count, mean_word_length, hash_ratio, ellipsis_ratio, bullet_lines_ratio,
    ellipsis_lines_ratio, alpha_words_ratio and stop_words; drops with the first rule that fails."""

    name = "gopher_quality"
    Params = GopherQualityParams

    def measure(self, texts: pa.Array) -> tuple[dict[str, np.ndarray], list[str | None]]:
        p: GopherQualityParams = self.params
        n = len(texts)
        words = split_words(texts)
        is_word = ~words.is_symbol()[words.ids]
        lengths = words.lengths()
        n_tokens = words.counts
        n_words = words.per_doc_sum(is_word)
        tags: dict[str, np.ndarray] = {}
        tags["word_count"] = n_words.astype(np.int64)
        tags["mean_word_length"] = ratio(words.per_doc_sum(lengths[words.ids] * is_word), n_words)
        tags["hash_ratio"] = ratio(count_of(texts, "#"), n_tokens)
        tags["ellipsis_ratio"] = ratio(count_of(texts, "...") + count_of(texts, "…"), n_tokens)
        lines = Pieces(split_lines(texts))
        # str.splitlines() gives no empty last line after a final line break.
        n_lines = lines.counts - lines.final_break()
        left = pc.utf8_ltrim_whitespace(lines.values)
        bullet = np.asarray(pc.or_(pc.starts_with(left, "•"), pc.starts_with(left, "-")), dtype=bool)
        tags["bullet_lines_ratio"] = ratio(lines.per_doc(bullet), n_lines)
        right = pc.utf8_rtrim_whitespace(lines.values)
        ellipsis = np.asarray(pc.or_(pc.ends_with(right, "..."), pc.ends_with(right, "…")), dtype=bool)
        tags["ellipsis_lines_ratio"] = ratio(lines.per_doc(ellipsis), n_lines)
        tags["alpha_words_ratio"] = ratio(words.per_doc_sum(words.has_letter()[words.ids]), n_tokens)
        tags["stop_words"] = self._distinct_stop_words(words, n)
        checks: list[tuple[str, np.ndarray | None]] = [
            ("word_count", n_words < p.min_doc_words if p.min_doc_words else None),
            ("word_count", n_words > p.max_doc_words if p.max_doc_words else None),
            ("mean_word_length", tags["mean_word_length"] < p.min_avg_word_length if p.min_avg_word_length else None),
            ("mean_word_length", tags["mean_word_length"] > p.max_avg_word_length if p.max_avg_word_length else None),
            ("hash_ratio", tags["hash_ratio"] > p.max_symbol_word_ratio if p.max_symbol_word_ratio else None),
            ("ellipsis_ratio", tags["ellipsis_ratio"] > p.max_symbol_word_ratio if p.max_symbol_word_ratio else None),
            (
                "bullet_lines_ratio",
                tags["bullet_lines_ratio"] > p.max_bullet_lines_ratio if p.max_bullet_lines_ratio else None,
            ),
            (
                "ellipsis_lines_ratio",
                tags["ellipsis_lines_ratio"] > p.max_ellipsis_lines_ratio if p.max_ellipsis_lines_ratio else None,
            ),
            (
                "alpha_words_ratio",
                tags["alpha_words_ratio"] < p.min_alpha_words_ratio if p.min_alpha_words_ratio else None,
            ),
            ("stop_words", tags["stop_words"] < p.min_stop_words if p.min_stop_words else None),
        ]
        return tags, first_failure(n, checks)

    def _distinct_stop_words(self, words: WordSplit, n: int) -> np.ndarray:
        stop_ids = words.lookup(sorted(set(self.params.stop_words)))
        if len(stop_ids) == 0 or len(words.ids) == 0:
            return np.zeros(n, dtype=np.int64)
        # Stop word k (0, 1, ...) of each word, or -1: a vocabulary-sized table beats np.isin.
        which = np.full(len(words.vocabulary), -1, dtype=np.int64)
        which[stop_ids] = np.arange(len(stop_ids))
        stop = which[words.ids]
        found = stop >= 0
        pairs = words.doc_index[found] * len(stop_ids) + stop[found]  # (text, stop word)
        if n * len(stop_ids) > 4 * len(words.ids) + 1_000_000:  # a long list: too many pairs to count
            return np.bincount(np.unique(pairs) // len(stop_ids), minlength=n).astype(np.int64)
        # Which pairs occur: a count per pair, then the pairs with a count per text.
        counts = np.bincount(pairs, minlength=n * len(stop_ids)).reshape(n, len(stop_ids))
        return np.count_nonzero(counts, axis=1).astype(np.int64)


# --- C4 -----------------------------------------------------------------------------------------
CITATION = r"\[\d*\]|\[edit\]|\[citation needed\]"
POLICY_PHRASES = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"]


class C4QualityParams(StepParams):
    mode: Literal["clean", "drop"] = Field(
        "clean",
        description="clean: rewrite the text keeping only the lines that pass (as C4 does); "
        "drop: judge the same way but leave the text as it was.",
    )
    remove_citations: bool = Field(True, description="Remove Wikipedia-style citations ([1], [edit]) from lines.")
    filter_no_terminal_punct: bool = Field(
        True, description="Remove lines not ending in . ? ! \" ' (or ending in ...)."
    )
    min_num_sentences: int = Field(5, description="Drop texts with fewer sentences in kept lines (-1: off).")
    min_words_per_line: int = Field(3, description="Remove lines with fewer words (-1: off).")
    max_word_length: int = Field(1000, description="Remove lines with a longer word (-1: off).")
    filter_lorem_ipsum: bool = Field(True, description="Drop texts containing 'lorem ipsum'.")
    filter_javascript: bool = Field(True, description="Remove lines mentioning 'javascript'.")
    filter_curly_bracket: bool = Field(True, description="Drop texts containing '{'.")
    filter_policy: bool = Field(True, description="Remove lines about cookies, privacy policy or terms of use.")


@register
class C4Quality(QualityStep):
    """C4 rules: keep lines that end in punctuation and have 3+ words; drop pages with < 5 sentences.

    Also removes lines mentioning javascript or cookie/privacy policies and drops pages containing
    'lorem ipsum' or '{' (Raffel et al. 2020). Tags sentence_count and removed_lines_frac; in
    ``clean`` mode the kept text is rewritten to its kept lines."""

    name = "c4_quality"
    Params = C4QualityParams

    def measure(self, texts: pa.Array) -> tuple[dict[str, np.ndarray], list[str | None]]:
        tags, reasons, _ = self._judge(texts)
        return tags, reasons

    def process(self, batch: pa.Table) -> StepResult:
        if batch.num_rows == 0:
            return StepResult(batch)
        texts = texts_of(batch)
        tags, reasons, cleaned = self._judge(texts)
        for attribute, values in tags.items():
            batch = with_column(batch, self.tag(attribute), pa.array(values))
        for reason in reasons:
            if reason is not None:
                self.counters[f"dropped.{reason}"] += 1
        result = self.split(batch, reasons)
        if self.params.mode == "clean":
            keep = np.array([r is None for r in reasons], dtype=bool)
            result.kept = with_column(result.kept, "text", cleaned.filter(pa.array(keep)))
        return result

    def _judge(self, texts: pa.Array) -> tuple[dict[str, np.ndarray], list[str | None], pa.Array]:
        p: C4QualityParams = self.params
        n = len(texts)
        lines = Pieces(split_lines(texts))
        stripped = pc.utf8_trim_whitespace(lines.values)
        n_lines = len(stripped)
        words_per_line = np.asarray(pc.list_value_length(pc.utf8_split_whitespace(stripped)), dtype=np.int64)
        ok = np.ones(n_lines, dtype=bool)
        if p.max_word_length != -1:
            ok &= ~self._has_long_word(stripped, p.max_word_length)
        if p.remove_citations:
            stripped = pc.replace_substring_regex(stripped, CITATION, "")
        if p.filter_no_terminal_punct:
            ends_well = np.asarray(pc.match_substring_regex(stripped, r"[.?!\"']$"), dtype=bool)
            ends_well &= ~np.asarray(pc.ends_with(stripped, "..."), dtype=bool)
            ok &= ends_well
        ok &= words_per_line >= p.min_words_per_line
        lower = pc.utf8_lower(stripped)
        lorem = ok & self._contains(lower, "lorem ipsum") if p.filter_lorem_ipsum else np.zeros(n_lines, bool)
        javascript = self._contains(lower, "javascript") if p.filter_javascript else np.zeros(n_lines, bool)
        curly = np.zeros(n_lines, bool)
        if p.filter_curly_bracket:
            curly = ok & ~lorem & ~javascript & self._contains(stripped, "{")
        policy = np.zeros(n_lines, bool)
        if p.filter_policy:
            for phrase in POLICY_PHRASES:
                policy |= self._contains(lower, phrase)
        kept = ok & ~lorem & ~javascript & ~curly & ~policy

        # The first line that condemns the whole page decides its reason.
        page_reason = np.full(n, None, dtype=object)
        condemned = np.flatnonzero(lorem | curly)
        if len(condemned):
            docs, first = np.unique(lines.doc[condemned], return_index=True)
            page_reason[docs] = np.where(lorem[condemned[first]], "lorem_ipsum", "curly_bracket")
        sentences = np.zeros(n, dtype=np.int64)
        if p.min_num_sentences != -1 and kept.any():
            per_line = count_sentences(stripped.filter(pa.array(kept)))
            sentences = np.bincount(lines.doc[kept], weights=per_line, minlength=n).astype(np.int64)
        reasons = page_reason
        too_few = (sentences < p.min_num_sentences) & (page_reason == None)  # noqa: E711
        reasons[too_few] = "too_few_sentences"
        n_kept = lines.per_doc(kept)
        n_split_lines = lines.counts - lines.final_break()
        tags = {
            "sentence_count": sentences,
            "removed_lines_frac": ratio(n_split_lines - n_kept, n_split_lines),
        }
        self.counters["lines"] += int(n_split_lines.sum())
        self.counters["lines_kept"] += int(n_kept.sum())
        cleaned = self._kept_text(stripped, lines, kept)
        return tags, reasons.tolist(), cleaned

    @staticmethod
    def _contains(values: pa.Array, needle: str) -> np.ndarray:
        return np.asarray(pc.match_substring(values, needle), dtype=bool)

    @staticmethod
    def _has_long_word(lines: pa.Array, limit: int) -> np.ndarray:
        long_lines = np.flatnonzero(np.asarray(pc.utf8_length(lines)) > limit)
        out = np.zeros(len(lines), dtype=bool)
        for i in long_lines.tolist():
            out[i] = any(len(word) > limit for word in lines[i].as_py().split())
        return out

    @staticmethod
    def _kept_text(stripped: pa.Array, lines: Pieces, kept: np.ndarray) -> pa.Array:
        kept_per_doc = np.bincount(lines.doc[kept], minlength=len(lines.offsets) - 1)
        offsets = np.concatenate([[0], np.cumsum(kept_per_doc)]).astype(np.int64)
        lists = pa.LargeListArray.from_arrays(pa.array(offsets), stripped.filter(pa.array(kept)))
        joined = pc.binary_join(lists, "\n")
        return pc.utf8_trim_whitespace(joined)


def count_sentences(lines: pa.Array) -> np.ndarray:
    """Sentences per line, split the way spaCy's rule-based sentencizer does: a new sentence starts
    at the first word (a token that is not punctuation) after a sentence-final mark (. ! ? …)."""
    words = split_words(lines)
    final = words.is_one_of(TERMINAL_PUNCTUATION)[words.ids]
    is_word = ~words.is_symbol()[words.ids]
    finals_before = np.concatenate([[0], np.cumsum(final)])  # finals among tokens [0, i)
    word_positions = np.flatnonzero(is_word)
    doc = words.doc_index[word_positions]
    # For each word: finals since the previous word of the same line (or the line start).
    previous_end = np.empty(len(word_positions), dtype=np.int64)
    previous_end[1:] = word_positions[:-1] + 1
    if len(word_positions):
        previous_end[0] = 0
        starts_line = np.ones(len(word_positions), dtype=bool)
        starts_line[1:] = doc[1:] != doc[:-1]
        previous_end[starts_line] = words.offsets[doc[starts_line]]
    new_sentence = finals_before[word_positions] - finals_before[previous_end] > 0
    return 1 + np.bincount(doc[new_sentence], minlength=len(lines)).astype(np.float64)


# --- FineWeb ------------------------------------------------------------------------------------
class FineWebQualityParams(StepParams):
    line_punct_thr: float = Field(0.12, description="Min share of lines ending in terminal punctuation.")
    line_punct_exclude_zero: bool = Field(False, description="Do not drop texts where no line ends in punctuation.")
    short_line_thr: float = Field(0.67, description="Max share of short lines.")
    short_line_length: int = Field(30, description="A line this long or shorter (characters) is short.")
    char_duplicates_ratio: float = Field(
        0.01, description="Max share of characters in lines repeating an earlier line."
    )
    new_line_ratio: float = Field(0.3, description="Max line breaks per word.")


@register
class FineWebQuality(QualityStep):
    """FineWeb rules: share of lines ending in punctuation, short lines, repeated lines, line breaks per word.

    Tags line_punct_ratio, short_line_ratio, char_dup_ratio and new_line_ratio (Penedo et al. 2024);
    drops with the first rule that fails."""

    name = "fineweb_quality"
    Params = FineWebQualityParams

    def measure(self, texts: pa.Array) -> tuple[dict[str, np.ndarray], list[str | None]]:
        p: FineWebQualityParams = self.params
        n = len(texts)
        all_lines = pc.split_pattern(texts, "\n")
        lines = Pieces(all_lines)
        blank = np.asarray(pc.binary_length(pc.utf8_trim_whitespace(lines.values)), dtype=np.int64) == 0
        real = ~blank
        n_lines = lines.per_doc(real)
        last_char = pc.utf8_slice_codeunits(lines.values, -1)
        ends_punct = real & np.asarray(pc.is_in(last_char, pa.array(sorted(TERMINAL_PUNCTUATION))), dtype=bool)
        short = real & (lines.lengths() <= p.short_line_length)
        repeated = lines.repeated(real)
        newlines = count_of(texts, "\n")
        n_words = split_words(texts).counts
        tags = {
            "line_punct_ratio": ratio(lines.per_doc(ends_punct), n_lines),
            "short_line_ratio": ratio(lines.per_doc(short), n_lines),
            "char_dup_ratio": ratio(lines.chars_of(repeated), char_lengths(texts) - newlines),
            "new_line_ratio": ratio(newlines, n_words, empty=np.inf),
        }
        line_punct_low = tags["line_punct_ratio"] < p.line_punct_thr
        if p.line_punct_exclude_zero:
            line_punct_low &= tags["line_punct_ratio"] != 0
        checks: list[tuple[str, np.ndarray | None]] = [
            ("empty", n_lines == 0),
            ("line_punct_ratio", line_punct_low),
            ("short_line_ratio", tags["short_line_ratio"] > p.short_line_thr),
            ("char_dup_ratio", tags["char_dup_ratio"] > p.char_duplicates_ratio),
            ("new_line_ratio", tags["new_line_ratio"] > p.new_line_ratio),
        ]
        return tags, first_failure(n, checks)
