"""Word splitting for the quality filters, over a whole batch at once.

The Gopher, C4 and FineWeb rules count words, and the published thresholds were tuned with a
particular word splitter: DataTrove (the reference implementation we agree with) uses spaCy's
blank English tokenizer. Its quirks matter for the rules (``expand/collapse`` is three words,
``print(x)`` is two, ``don't`` is ``do`` + ``n't``; punctuation tokens count as words in the
alphabetic-word ratio), so :func:`split_chunk` follows the same algorithm -- whitespace chunks,
then prefixes and suffixes peeled off one at a time, then infix splits in what is left -- with
our own, smaller rule tables (see ``benchmarks/quality_vs_datatrove.py`` for the measured
agreement and where it differs).

Speed comes from never splitting the same chunk twice: Arrow splits every text of the batch on
whitespace and dictionary-encodes the chunks in C++, Python splits only the *distinct* chunks
(and remembers them across batches), and numpy expands the result back to one integer token
id per word. Steps then work on integer ids and per-token features, never on Python strings.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cached_property
from itertools import chain

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# --- character classes ------------------------------------------------------------------------
# Punctuation that spaCy peels off either end of a chunk.
_PUNCT_CHARS = "…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪"
_QUOTE_CHARS = "'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉⟦⟧"
_CURRENCY = r"US\$|C\$|A\$|[$£€¥฿₠-₿﷼]"
# Symbols and pictographs (Unicode category So, approximately): each is its own word.
_ICONS = "\u00a6\u00a9\u00ae\u00b0\u2100-\u214f\u2195-\u21ff\u2300-\u23ff\u2400-\u24ff\u2500-\u27bf\u2b00-\u2bff\U0001d100-\U0001d1ff\U0001f000-\U0001faff"
_UNITS = (
    "km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft kg g mg µg t lb oz "
    "m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB tb TB T G M K %"
).split()
_LOWER = "a-z\u00df-\u00f6\u00f8-\u00ff"
_UPPER = "A-Z\u00c0-\u00d6\u00d8-\u00de"
_ALPHA = r"^\W\d_"  # any letter (inside a negated class: [^\W\d_])
_QUOTES_CLASS = re.escape(_QUOTE_CHARS)
_PUNCT_CLASS = re.escape(_PUNCT_CHARS)

_PREFIX = re.compile(
    "|".join(
        [
            "[§%=—–]",
            r"\+(?![0-9])",
            r"\.\.+",
            f"[{_PUNCT_CLASS}{_QUOTES_CLASS}{_ICONS}]",
            _CURRENCY,
        ]
    )
)
_SUFFIX = re.compile(
    "(?:"
    + "|".join(
        [
            r"\.\.+",
            f"[{_PUNCT_CLASS}{_QUOTES_CLASS}{_ICONS}—–]",
            "['’][sS]",
            r"(?<=[0-9])\+",
            r"(?<=°[FfCcKk])\.",
            f"(?<=[0-9])(?:{_CURRENCY})",
            "(?<=[0-9])(?:" + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True)) + ")",
            rf"(?<=[0-9{_LOWER}%²\-+|{_PUNCT_CLASS}{_QUOTES_CLASS}])\.",
            f"(?<=[{_UPPER}][{_UPPER}])\\.",
        ]
    )
    + ")$"
)
_INFIX = re.compile(
    "|".join(
        [
            r"\.\.+",
            "…",
            f"[{_ICONS}]",
            r"(?<=[0-9])[+\-*^](?=[0-9-])",
            rf"(?<=[{_LOWER}{_QUOTES_CLASS}])\.(?=[{_UPPER}{_QUOTES_CLASS}])",
            f"(?<=[{_ALPHA}]),(?=[{_ALPHA}])",
            f"(?<=[^\\W_])(?:---|--|——|-|–|—|~)(?=[{_ALPHA}])",
            f"(?<=[^\\W_])[:<>=/](?=[{_ALPHA}])",
        ]
    )
)
# A URL or host name stays one word (after its surrounding punctuation is peeled off).
_URL = re.compile(
    r"(?:[\w+.-]{2,}://)?(?:\S+(?::\S*)?@)?"
    r"(?:[A-Za-z0-9\u00a1-\uffff](?:[A-Za-z0-9\u00a1-\uffff_-]{0,62})?\.)+[a-z]{2,63}"
    r"(?::\d{2,5})?(?:[/?#]\S*)?"
)
# The same without the "user:password@" part, which backtracks a lot: for words without an "@".
_URL_NO_USER = re.compile(_URL.pattern.replace(r"(?:\S+(?::\S*)?@)?", "", 1))
# Contractions and a few abbreviations are split (or kept) as English readers do.
_CONTRACTION = re.compile(r"([^\W_]+?)((?:n['’]t|N['’]T)|['’](?:m|re|ve|ll|d|M|RE|VE|LL|D))")
_KEEP_WHOLE = frozenset(
    "e.g. i.e. E.g. I.e. vs. v.s. a.m. p.m. Mr. Mrs. Ms. Dr. St. Jr. Sr. Prof. Inc. Ltd. Co. co. Corp. Bros. "
    "Jan. Feb. Mar. Apr. Jun. Jul. Aug. Sep. Sept. Oct. Nov. Dec. Gen. Gov. Rep. Sen. Rev. Ph.D. Mt. "
    "C++ and/or 's 'S 'd 'm 'll 're 've -- :) :( ;) :D :P :p :-) :-( :/ =) <3 -_- ^_^ o.O O.o".split()
    + [f"{c}." for c in "abcdefghijklmnopqrstuvwxyz"]
)
# Words without an apostrophe that English tokenizers still split ("Wed" reads as "We'd").
_SPLIT_WHOLE = {
    "cannot": ("can", "not"),
    "Cannot": ("Can", "not"),
    "Id": ("I", "d"),
    "id": ("i", "d"),
    "Wed": ("We", "d"),
}
# Emoticons made of characters that are otherwise peeled off one by one: joined back up.
_EMOTICONS = frozenset(
    "'' :') ): (: :( :) [: :] ;) ;( (; =) (= =( =/ =[ =] =| :/ :D :P :p 8) :* :') :1 :} :0 :3 :> :| :o :O :x :X".split()
)
# The common cases: only letters, or only digits -- one word (no unit or affix to split off).
_PLAIN = re.compile(r"[^\W\d_]+|[0-9]+")


def _special(chunk: str) -> tuple[str, ...] | None:
    if chunk in _KEEP_WHOLE or chunk in _EMOTICONS:
        return (chunk,)
    if chunk in _SPLIT_WHOLE:
        return _SPLIT_WHOLE[chunk]
    if "'" in chunk or "’" in chunk:
        match = _CONTRACTION.fullmatch(chunk)
        if match:
            return match.groups()
    return None


# Most chunks are a core wrapped in brackets, quotes or trailing punctuation, where peeling the
# affixes off needs none of the context rules (units after numbers, "'s", specials met half-way):
# these take a fast path that gives the same words as the general algorithm below.
_SIMPLE = re.compile(r"([(\[{<)\]}>\"'“‘`,:;!?*#&_$=§…—–]*)(\S*?)([)\]}>(\[{<\"'”’“‘`´.,;:!?*#&_…—–]*)")
_SAFE_EDGE = frozenset("/\\|-@^~")  # chars that are never peeled off (besides letters and digits)
_NEEDS_FULL_SPLIT = re.compile("['’]|[0-9](?:" + "|".join(re.escape(u) for u in _UNITS) + ")$")
_DOTS = re.compile(r"\.\.+|.")


# After splitting, spaCy merges adjacent pieces of a chunk whose text is a special case
# ("i" "d" "." -> "i" "d."; "'" "d" "'" -> "'d" "'"): the kept-whole specials, as 2 or 3 pieces.
# ("'m" is the one special spaCy does not merge back: measured on the corpus against spaCy.)
_MERGEABLE = frozenset(w for w in _KEEP_WHOLE | _EMOTICONS if len(w) >= 2) - {"'m"}


_MERGEABLE_ARRAY = pa.array(sorted(_MERGEABLE), pa.large_string())


def merge_specials(words: tuple[str, ...]) -> tuple[str, ...]:
    """Merge runs of 2-3 adjacent pieces whose text is a special case: the longest first, then
    the leftmost, never overlapping (what spaCy's special-case matcher does)."""
    n = len(words)
    if n < 2:
        return words
    spans = [
        (size, start)
        for size in (3, 2)
        for start in range(n - size + 1)
        if "".join(words[start : start + size]) in _MERGEABLE
    ]
    if not spans:
        return words
    taken = [False] * n
    chosen = []
    for size, start in spans:  # already longest first, then leftmost
        if not any(taken[start : start + size]):
            taken[start : start + size] = [True] * size
            chosen.append((start, size))
    out, i, by_start = [], 0, dict(chosen)
    while i < n:
        size = by_start.get(i)
        if size:
            out.append("".join(words[i : i + size]))
            i += size
        else:
            out.append(words[i])
            i += 1
    return tuple(out)


def split_chunk(chunk: str) -> tuple[str, ...]:
    """Split one whitespace-free chunk into words, the way spaCy's English tokenizer does."""
    return merge_specials(_split_chunk(chunk))


def _split_chunk(chunk: str) -> tuple[str, ...]:
    if _PLAIN.fullmatch(chunk):
        return _SPLIT_WHOLE.get(chunk, (chunk,))
    special = _special(chunk)
    if special is not None:
        return special
    simple = _SIMPLE.fullmatch(chunk)
    if simple:
        core = simple[2]
        if (
            core
            and (core[0].isalnum() or (core[0] in _SAFE_EDGE or core[0] == ".") and not core.startswith(".."))
            and (core[-1].isalnum() or core[-1] in _SAFE_EDGE or core[-1] in "=¶")
            and not _NEEDS_FULL_SPLIT.search(core)
        ):
            return _split_simple(*simple.groups())
    return _split_full(chunk)


def _split_simple(prefix: str, core: str, suffix: str) -> tuple[str, ...]:
    words = list(prefix)
    if suffix.startswith(".") and not suffix.startswith(".."):
        # A final period is split off after a lowercase letter, a digit, '-', '|' or two capitals;
        # it stays on abbreviations ("e.g.") and single capitals ("A.").
        last = core[-1]
        splits = (
            last.islower()
            or last.isdigit()
            or last in "-|"
            or (last.isupper() and len(core) > 1 and core[-2].isupper())
        )
        if core + "." in _KEEP_WHOLE or not splits:
            core, suffix = core + ".", suffix[1:]
    words.extend(_split_core(core))
    words.extend(_DOTS.findall(suffix))
    if len(words) > 1:
        words = _join_emoticons(words)
    return tuple(words)


def _split_core(core: str) -> tuple[str, ...] | list[str]:
    special = _special(core)
    if special is not None:
        return special
    infixes = list(_infixes(core))
    if not infixes or ("." in core and (_URL if "@" in core else _URL_NO_USER).fullmatch(core)):
        return (core,)
    return _split_infixes(core, infixes)


def _split_full(chunk: str) -> tuple[str, ...]:
    prefixes: list[str] = []
    suffixes: list[str] = []
    core = chunk
    last_size = -1
    while core and len(core) != last_size:
        if _special(core) is not None:
            break
        last_size = len(core)
        prefix = _PREFIX.match(core)
        pre_len = prefix.end() if prefix else 0
        if pre_len and _special(core[pre_len:]) is not None:
            prefixes.append(core[:pre_len])
            core = core[pre_len:]
            break
        suf_len = _suffix_length(core, pre_len)
        if suf_len and _special(core[:-suf_len]) is not None:
            suffixes.append(core[-suf_len:])
            core = core[:-suf_len]
            break
        if pre_len and suf_len and pre_len + suf_len <= len(core):
            prefixes.append(core[:pre_len])
            suffixes.append(core[-suf_len:])
            core = core[pre_len:-suf_len]
        elif pre_len:
            prefixes.append(core[:pre_len])
            core = core[pre_len:]
        elif suf_len:
            suffixes.append(core[-suf_len:])
            core = core[:-suf_len]
    words = prefixes
    if core:
        words.extend(_split_core(core))
    words.extend(reversed(suffixes))
    if len(words) > 1:
        words = _join_emoticons(words)
    return tuple(words)


def _join_emoticons(words: list[str]) -> list[str]:
    joined: list[str] = []
    for word in words:
        if joined and joined[-1] + word in _EMOTICONS:
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def _suffix_length(core: str, start: int) -> int:
    # Suffixes are at most 5 characters, except a run of dots: search only the tail.
    match = _SUFFIX.search(core, max(start, len(core) - 5))
    if not match:
        return 0
    begin = match.start()
    if core[begin] == "." and begin + 1 < len(core) and core[begin + 1] == ".":
        while begin > start and core[begin - 1] == ".":
            begin -= 1
    return len(core) - begin


# Every infix starts with one of these characters. _INFIX has lookbehinds and a dozen branches, so
# trying it at every position is slow; a character class search finds the few places to try.
_INFIX_START = re.compile(f"[.…{_ICONS}+\\-*^,—–~:<>=/]")


def _infixes(core: str):
    """The matches of _INFIX in ``core``, as _INFIX.finditer(core) finds them (none is empty)."""
    find, match = _INFIX_START.search, _INFIX.match
    candidate = find(core)
    while candidate is not None:
        found = match(core, candidate.start())
        if found is None:
            candidate = find(core, candidate.start() + 1)
        else:
            yield found
            candidate = find(core, found.end())


def _split_infixes(core: str, infixes=None) -> list[str]:
    words: list[str] = []
    start = 0
    for match in _infixes(core) if infixes is None else infixes:
        begin, end = match.span()
        if begin == 0:  # an infix at the very start is not a split point
            continue
        if begin != start:
            words.append(core[start:begin])
        if begin != end:
            words.append(core[begin:end])
        start = end
    if start < len(core):
        words.append(core[start:])
    return words


# --- the vocabulary: one integer id per distinct word, with the features the rules need ------
# Sentence-final marks: ASCII, CJK and fullwidth forms, and those of the major Indic, Arabic,
# Ethiopic, Armenian and Myanmar scripts. (FineWeb counts lines that end with one of these.)
TERMINAL_PUNCTUATION = frozenset(".!?。！？｡．﹒﹖﹗‼⁇⁈⁉‽।॥።፧፨؟؞۔։။၊܀܁܂߹᙮᠃᠉")
# A word made only of these is a "symbol", not a word, for Gopher's word counts: ASCII
# punctuation, common typographic and CJK punctuation, and control characters.
PUNCTUATION = (
    frozenset(
        string.punctuation
        + "—–“”„‘’´«»…►━∶、，；：（）【】「」《》〈〉％～１"
        + "".join(map(chr, [*range(0, 9), *range(11, 13), *range(13, 32), *range(127, 160)]))
    )
    | TERMINAL_PUNCTUATION
)


def _char_class(chars: frozenset[str]) -> str:
    return "".join(f"\\x{{{ord(c):x}}}" for c in sorted(chars))


_SYMBOL_WORD = f"^[{_char_class(PUNCTUATION)}]+$"  # RE2, for Arrow


class ChunkCache:
    """The words of every distinct chunk this process has split (chunks repeat a lot: Zipf)."""

    # Bounded so a long run over diverse data does not grow without limit.
    max_chunks = 2_000_000

    def __init__(self) -> None:
        self.words: dict[str, tuple[str, ...]] = {}
        self.cores: dict[str, str] = {}  # infixed cores of the fast path -> their words, space-joined

    def clear(self) -> None:
        self.words.clear()
        self.cores.clear()

    def split(self, chunks: list[str]) -> list[tuple[str, ...]]:
        return self._remembered(self.words, chunks, split_chunk)

    def split_cores(self, cores: list[str]) -> list[str]:
        """The words of each core (split_chunk's rules for a core), joined by spaces."""
        return self._remembered(self.cores, cores, lambda core: " ".join(_split_core(core)))

    def _remembered(self, known: dict, keys: list[str], compute) -> list:
        if len(known) > self.max_chunks:
            known.clear()
        out = []
        for key in keys:
            value = known.get(key)
            if value is None:
                value = known[key] = compute(key)
            out.append(value)
        return out


@dataclass
class WordSplit:
    """The words of a batch of texts: ``ids[offsets[i]:offsets[i+1]]`` are the words of text i,
    as indices into ``vocabulary`` (the distinct words of the batch)."""

    ids: np.ndarray  # int64
    offsets: np.ndarray  # int64, len(texts) + 1
    vocabulary: pa.Array  # string

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    @cached_property
    def doc_index(self) -> np.ndarray:
        """For every word, the index of the text it belongs to."""
        return np.repeat(np.arange(len(self.offsets) - 1), self.counts)

    def per_doc_sum(self, values: np.ndarray) -> np.ndarray:
        if values.dtype.kind not in "biu":
            return np.bincount(self.doc_index, weights=values, minlength=len(self.offsets) - 1)
        # Whole numbers: differences of a running total (exact), cheaper than bincount.
        total = np.concatenate([[0], np.cumsum(values, dtype=np.int64)])
        return (total[self.offsets[1:]] - total[self.offsets[:-1]]).astype(np.float64)

    def lengths(self) -> np.ndarray:
        """Characters of each vocabulary word."""
        return np.asarray(pc.utf8_length(self.vocabulary), dtype=np.int64)

    def is_symbol(self) -> np.ndarray:
        """Whether each vocabulary word is made only of punctuation (Gopher does not count these)."""
        return np.asarray(pc.match_substring_regex(self.vocabulary, _SYMBOL_WORD), dtype=bool)

    def has_letter(self) -> np.ndarray:
        """Whether each vocabulary word has at least one letter."""
        return np.asarray(pc.match_substring_regex(self.vocabulary, r"\pL"), dtype=bool)

    def is_one_of(self, words: list[str] | frozenset[str]) -> np.ndarray:
        """Whether each vocabulary word is in ``words`` (exact match)."""
        return np.asarray(pc.is_in(self.vocabulary, pa.array(sorted(words), self.vocabulary.type)), dtype=bool)

    def lookup(self, words: list[str]) -> np.ndarray:
        """The ids of those of ``words`` that occur in the batch."""
        index = pc.index_in(pa.array(words, self.vocabulary.type), self.vocabulary)
        return np.asarray(index.drop_null(), dtype=np.int64)

    def words_of(self, i: int) -> list[str]:
        return self.vocabulary.take(pa.array(self.ids[self.offsets[i] : self.offsets[i + 1]])).to_pylist()


def _re2(chars: str) -> str:
    """A Python character-class body (chars and a-b ranges) written for RE2 (Arrow's regex engine)."""
    return "".join(c if c == "-" and 0 < i < len(chars) - 1 else f"\\x{{{ord(c):x}}}" for i, c in enumerate(chars))


# The fast path again, vectorised with Arrow over all distinct chunks of a batch: a core that
# starts and ends with a letter, a digit or a character never peeled off, wrapped in affix characters, with none of the context
# rules in play. Anything this pattern or the exclusions below do not clear goes to split_chunk.
_EASY_PREFIX = "([{<)]}>\"'“‘`*#&_$§…—–"
_EASY_SUFFIX = ")]}>([{<\"'”’“‘`´.,:;*#&_!?…—–"
# A core starts and ends with a letter, a digit or a character that is never peeled off.
_EASY_CORE = r"^(?:[\pL\pN./\\|@^~-]\S*[\pL\pN/\\|@^~=¶-]|[\pL\pN/\\|@^~-])$"
_NOT_EASY_CORE = "|".join(
    [
        "['’]",
        "[0-9](?:" + "|".join(re.escape(u) for u in _UNITS) + ")$",
        r"\.\.|…",
        f"[{_re2(_ICONS)}]",
    ]
)
# The period infix ("end.Next"); a core with a period may also be a URL, which stays whole.
_PERIOD_INFIX = f"[{_re2(_LOWER + _QUOTE_CHARS)}]\\.[{_re2(_UPPER + _QUOTE_CHARS)}]"
# Any infix rule, as RE2 for Arrow: the few cores with one are split in Python (_split_core).
_ANY_INFIX = r"[0-9][-+*^][0-9-]|[\pL\pN](?:[-–—~]+|[:<>=/,])\pL"
_ODD_CORES = sorted(_SPLIT_WHOLE) + sorted({w[:-1] for w in _KEEP_WHOLE if w.endswith(".")}) + ["8"]
_WHOLE_SPECIALS = sorted(_KEEP_WHOLE | _EMOTICONS | set(_SPLIT_WHOLE))


def _split_distinct(chunks: pa.Array, cache: ChunkCache) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Words of each distinct chunk: (all words, words per chunk, index of each chunk's first word)."""
    # Affix runs by trimming (fast kernels, no backtracking regex): prefix, core, suffix.
    rest = pc.utf8_ltrim(chunks, characters=_EASY_PREFIX)
    core = pc.utf8_rtrim(rest, characters=_EASY_SUFFIX)
    # (The affix runs themselves only where trimming removed something: most chunks have none.)
    pre = _affix(chunks, rest, f"^(?P<run>[{_re2(_EASY_PREFIX)}]*)")
    suf = _affix(rest, core, f"(?P<run>[{_re2(_EASY_SUFFIX)}]*)$")
    easy = np.asarray(pc.match_substring_regex(core, _EASY_CORE), dtype=bool)
    easy &= ~np.asarray(pc.match_substring_regex(core, _NOT_EASY_CORE), dtype=bool)
    has_infix = np.asarray(pc.match_substring_regex(core, f"{_ANY_INFIX}|{_PERIOD_INFIX}"), dtype=bool)
    # ... unless a final "8" split off may join the suffix as an emoticon ("8)"): split_chunk does that.
    easy &= ~(has_infix & np.asarray(pc.ends_with(core, "8"), dtype=bool))
    easy &= ~np.asarray(pc.is_in(core, pa.array(_ODD_CORES, core.type)), dtype=bool)
    easy &= ~np.asarray(pc.is_in(chunks, pa.array(_WHOLE_SPECIALS, chunks.type)), dtype=bool)
    easy &= ~np.asarray(pc.match_substring(suf, "''"), dtype=bool) & ~np.asarray(
        pc.match_substring(pre, "''"), dtype=bool
    )
    easy_index = np.flatnonzero(easy)
    hard_index = np.flatnonzero(~easy)
    take = pa.array(easy_index)
    pre, core, suf = pre.take(take), core.take(take), suf.take(take)
    # A final period stays on the word after a capital that does not follow another capital.
    single_dot = np.asarray(pc.match_substring_regex(suf, r"^\.(?:[^.]|$)"), dtype=bool)
    attach = np.zeros(len(core), dtype=bool)
    if single_dot.any():
        dotted = core.filter(pa.array(single_dot))
        splits_dot = np.asarray(pc.match_substring_regex(dotted, r"[\p{Ll}\p{Nd}|-]$|\p{Lu}\p{Lu}$"), dtype=bool)
        attach[single_dot] = ~splits_dot
    attach = pa.array(attach)
    dot = pa.scalar(".", core.type)
    core = pc.if_else(attach, pc.binary_join_element_wise(core, dot, pa.scalar("", core.type)), core)
    suf = pc.if_else(attach, pc.utf8_slice_codeunits(suf, 1), suf)
    pre_words, n_pre = _pieces(pre, list)
    # Suffix marks that make an emoticon together ("):" in "f(self):") are one word.
    suf_words, n_suf = _pieces(suf, lambda run: _join_emoticons(_DOTS.findall(run)))
    # Cores with an infix are split by Python, as split_chunk does (URL check included): they are
    # few, and Arrow would recompile these Unicode-class regexes (~2 ms each) on every call.
    infixed = pa.array(has_infix[easy_index])
    spaced = cache.split_cores(core.filter(infixed).to_pylist())
    core_lists = pc.utf8_split_whitespace(pc.replace_with_mask(core, infixed, pa.array(spaced, core.type)))
    n_core = np.asarray(pc.list_value_length(core_lists), dtype=np.int64)
    core_words = pc.list_flatten(core_lists).cast(pa.large_string())
    n_easy = n_pre + n_core + n_suf
    starts = np.zeros(len(n_easy), dtype=np.int64)
    np.cumsum(n_easy[:-1], out=starts[1:])
    # Place prefix words, the core, then suffix words of each easy chunk side by side.
    pre_place = np.repeat(starts, n_pre) + _ranks(n_pre)
    core_place = np.repeat(starts + n_pre, n_core) + _ranks(n_core)
    suf_place = np.repeat(starts + n_pre + n_core, n_suf) + _ranks(n_suf)
    easy_values = pa.concat_arrays([pre_words, core_words, suf_words])
    order = np.empty(len(easy_values), dtype=np.int64)
    order[np.concatenate([pre_place, core_place, suf_place])] = np.arange(len(easy_values))
    easy_values = easy_values.take(pa.array(order))
    # Easy chunks whose pieces spaCy would merge back into a special case ("id." -> "i" "d.")
    # are redone by split_chunk, which merges.
    redo_index = easy_index[_with_mergeable_runs(easy_values, n_easy)]
    # Hard chunks, and easy ones to redo, are split in Python; the redone chunks' easy words stay
    # in the values unused.
    python_index = np.concatenate([hard_index, redo_index])
    hard = cache.split(chunks.take(pa.array(python_index)).to_pylist())
    n_hard = np.fromiter(map(len, hard), dtype=np.int64, count=len(hard))
    hard_values = pa.array(list(chain.from_iterable(hard)), pa.large_string())
    words_per_chunk = np.zeros(len(chunks), dtype=np.int64)
    first_word = np.zeros(len(chunks), dtype=np.int64)
    words_per_chunk[easy_index], first_word[easy_index] = n_easy, starts
    words_per_chunk[python_index] = n_hard
    hard_starts = np.zeros(len(n_hard), dtype=np.int64)
    np.cumsum(n_hard[:-1], out=hard_starts[1:])
    first_word[python_index] = len(easy_values) + hard_starts
    return pa.concat_arrays([easy_values, hard_values]), words_per_chunk, first_word


def _with_mergeable_runs(words: pa.Array, per_chunk: np.ndarray) -> np.ndarray:
    """Which chunks (``per_chunk[i]`` consecutive words each) hold 2 or 3 adjacent words whose
    text is one of the specials spaCy merges back (``_MERGEABLE``)."""
    flagged = np.zeros(len(per_chunk), dtype=bool)
    empty = pa.scalar("", words.type)
    owner = np.repeat(np.arange(len(per_chunk)), per_chunk)
    for size in (2, 3):
        n = len(words) - size + 1
        if n <= 0:
            continue
        joined = words.slice(0, n)
        for shift in range(1, size):
            joined = pc.binary_join_element_wise(joined, words.slice(shift, n), empty)
        hit = np.asarray(pc.is_in(joined, value_set=_MERGEABLE_ARRAY.cast(words.type)), dtype=bool)
        hit &= owner[:n] == owner[size - 1 :]
        flagged[owner[:n][hit]] = True
    return np.flatnonzero(flagged)


def _affix(longer: pa.Array, trimmed: pa.Array, pattern: str) -> pa.Array:
    """The run that trimming took off each string (``pattern`` extracts it as group "run")."""
    changed = np.asarray(pc.not_equal(pc.binary_length(longer), pc.binary_length(trimmed)), dtype=bool)
    runs = pa.nulls(len(longer), longer.type).fill_null("")
    if changed.any():
        mask = pa.array(changed)
        runs = pc.replace_with_mask(runs, mask, pc.extract_regex(longer.filter(mask), pattern).field("run"))
    return runs


def _pieces(affixes: pa.Array, cut) -> tuple[pa.Array, np.ndarray]:
    """Cut every affix run into its words with ``cut``: all words, and how many per run.

    There are few distinct runs (")", ").", "):"...), so Python cuts each distinct one once."""
    encoded = pc.dictionary_encode(affixes)
    cuts = [cut(run) for run in encoded.dictionary.to_pylist()]
    per_run = np.fromiter(map(len, cuts), dtype=np.int64, count=len(cuts))
    first = np.concatenate([[0], np.cumsum(per_run)[:-1]])
    run = np.asarray(encoded.indices, dtype=np.int64)
    counts = per_run[run]
    words = pa.array(list(chain.from_iterable(cuts)), pa.large_string())
    return words.take(pa.array(np.repeat(first[run], counts) + _ranks(counts))), counts


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[i]-1 for every i, concatenated."""
    total = int(counts.sum())
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)


class LastSplit:
    """The words of the last batch split in this process, by text.

    Steps run one after another on the same batch (gopher_repetition, then gopher_quality on the
    texts it kept): the second finds every text here and reuses its words instead of splitting
    again -- what DataTrove's per-document LRU cache does, for a batch."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.split: WordSplit | None = None
        # The distinct chunks of the last split and their words (see _words_of_chunks).
        self.chunks: tuple[pa.Array, pa.Array, np.ndarray, np.ndarray] | None = None

    def remember(self, texts: list[str], split: WordSplit) -> None:
        self.index = {text: i for i, text in enumerate(texts)}
        self.split = split

    def recall(self, texts: list[str]) -> WordSplit | None:
        if self.split is None or not texts:
            return None
        index = self.index
        rows = [index.get(text, -1) for text in texts]
        if -1 in rows:
            return None
        rows_array = np.array(rows, dtype=np.int64)
        old = self.split
        counts = old.counts[rows_array]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        if (np.diff(rows_array) > 0).all():  # texts kept in order (a step's survivors): a mask
            kept = np.zeros(len(old.counts), dtype=bool)
            kept[rows_array] = True
            ids = old.ids[np.repeat(kept, old.counts)]
        else:
            ids = old.ids[np.repeat(old.offsets[:-1][rows_array] - offsets[:-1], counts) + np.arange(offsets[-1])]
        return WordSplit(ids, offsets, old.vocabulary)


class WordSplitter:
    """Splits batches of texts into words, remembering what it split: the words of every distinct
    chunk (``ChunkCache``) and the last split (``LastSplit``).

    The steps of one pipeline share one splitter (``Step.shares``), so a step reuses the words the
    step before it found. The caches belong to the process that fills them: a pickled splitter
    (a step sent to a worker) arrives empty."""

    def __init__(self) -> None:
        self.chunks = ChunkCache()
        self.last = LastSplit()

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.__init__()

    def split(self, texts: pa.Array | pa.ChunkedArray) -> WordSplit:
        """Split every text of a batch into words (see the module docstring)."""
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks()
        texts = texts.cast(pa.large_string()) if pa.types.is_string(texts.type) else texts
        as_python = texts.fill_null("").to_pylist()
        known = self.last.recall(as_python)
        if known is not None:
            return known
        split = _split_words(texts, self)
        self.last.remember(as_python, split)
        return split


def split_words(texts: pa.Array | pa.ChunkedArray) -> WordSplit:
    """Split every text of a batch into words with a new splitter (nothing remembered: a step keeps
    a ``WordSplitter``)."""
    return WordSplitter().split(texts)


def _split_words(texts: pa.Array, splitter: WordSplitter) -> WordSplit:
    chunk_lists = pc.utf8_split_whitespace(texts.fill_null(""))
    chunk_offsets = np.asarray(chunk_lists.offsets, dtype=np.int64)
    chunks = pc.list_flatten(chunk_lists)
    if len(chunks) == 0:
        return WordSplit(np.zeros(0, np.int64), np.zeros(len(texts) + 1, np.int64), pa.array([], pa.large_string()))
    encoded = pc.dictionary_encode(chunks)
    occurrence = np.asarray(encoded.indices, dtype=np.int64)  # distinct-chunk index per chunk
    values, words_per_chunk, first_word = _words_of_chunks(encoded.dictionary, splitter)
    distinct_words = pc.dictionary_encode(values)
    distinct_ids = np.asarray(distinct_words.indices, dtype=np.int64)
    # Expand each chunk occurrence into its words: positions first_word[c] .. + words_per_chunk[c] - 1.
    n_words = words_per_chunk[occurrence]
    ends = np.cumsum(n_words)
    # (first_word[c] + rank within the chunk, with rank = word index - index of the chunk's first word)
    gather = np.repeat(first_word[occurrence] - ends + n_words, n_words) + np.arange(int(ends[-1]), dtype=np.int64)
    ids = distinct_ids[gather]
    offsets = np.concatenate([[0], ends])[chunk_offsets]
    return WordSplit(ids, offsets, distinct_words.dictionary)


def _words_of_chunks(distinct: pa.Array, splitter: WordSplitter) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """_split_distinct, reusing the words of the chunks the last split also had.

    The steps of a chain split texts of the same batch again (C4 its lines, FineWeb the texts C4
    cleaned): nearly all their chunks were split a step before. Arrow finds them (a hash join)
    and only the rest is split."""
    last, splitter.last.chunks = splitter.last.chunks, None
    rows = None
    # (Looking the chunks up costs more than it saves when few can be known.)
    if last is not None and 4 * len(last[0]) >= len(distinct):
        if len(distinct) < len(last[0]):  # (Arrow hashes the second set: the smaller one, faster)
            back = np.asarray(pc.index_in(last[0], distinct).fill_null(-1), dtype=np.int64)
            rows = np.full(len(distinct), -1, dtype=np.int64)
            rows[back[back >= 0]] = np.flatnonzero(back >= 0)
        else:
            rows = np.asarray(pc.index_in(distinct, last[0]).fill_null(-1), dtype=np.int64)
    if rows is None or not (rows >= 0).any():
        values, words_per_chunk, first_word = _split_distinct(distinct, splitter.chunks)
    else:
        _, last_values, last_counts, last_first = last
        known = rows >= 0
        known_rows = rows[known]
        known_counts = last_counts[known_rows]
        known_values = last_values.take(
            pa.array(np.repeat(last_first[known_rows], known_counts) + _ranks(known_counts))
        )
        words_per_chunk = np.zeros(len(distinct), dtype=np.int64)
        first_word = np.zeros(len(distinct), dtype=np.int64)
        words_per_chunk[known] = known_counts
        first_word[known] = np.cumsum(known_counts) - known_counts
        values = known_values
        unknown = np.flatnonzero(~known)
        if len(unknown):
            new_values, new_counts, new_first = _split_distinct(distinct.take(pa.array(unknown)), splitter.chunks)
            words_per_chunk[unknown] = new_counts
            first_word[unknown] = len(known_values) + new_first
            values = pa.concat_arrays([known_values, new_values])
    splitter.last.chunks = (distinct, values, words_per_chunk, first_word)
    return values, words_per_chunk, first_word
