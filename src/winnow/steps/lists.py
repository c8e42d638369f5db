"""Filters driven by lists the user keeps in local files: blocked/allowed domains and URLs, listed words.

List files are plain text, one entry per line; blank lines and lines starting with ``#`` are
ignored (the format of UT1, Shallalist and the LDNOOBW word lists). Nothing is downloaded: the
recipe names the files, and ``check()`` fails before any data is read if one cannot be used.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from winnow.errors import RecipeError
from winnow.records import with_column
from winnow.steps.base import Step, StepParams, StepResult
from winnow.steps.registry import register


def read_list(path: str, what: str) -> list[str]:
    """Entries of a list file; a missing or unreadable file is a RecipeError naming it."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise RecipeError(f"{what} list {path!r}: file not found")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RecipeError(f"{what} list {path!r}: cannot read it ({error})") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


# --- url_filter ---------------------------------------------------------------------------------
def normalize_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def normalize_url(url: str) -> str:
    """Scheme and host lowercased, no ``www.``, no fragment, no trailing slash: the form URLs are
    compared in (``http://WWW.Example.com/a/`` and ``https://example.com/a`` are the same page)."""
    parts = urlsplit(url.strip())
    host = normalize_host(parts.hostname or "")
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{path}{query}"


class UrlList:
    """Domains (matching their subdomains too) and exact URLs, read from list files."""

    def __init__(self, entries: list[str]):
        self.domains: set[str] = set()
        self.urls: set[str] = set()
        for entry in entries:
            if "/" in entry or "?" in entry:
                self.urls.add(normalize_url(entry if "://" in entry else f"http://{entry}"))
            else:
                self.domains.add(normalize_host(entry))

    def __bool__(self) -> bool:
        return bool(self.domains or self.urls)

    def domain_match(self, host: str) -> bool:
        """The host or one of its parent domains is listed (``a.b.com`` matches ``b.com``)."""
        labels = host.split(".")
        return any(".".join(labels[i:]) in self.domains for i in range(len(labels)))

    def url_match(self, url: str) -> bool:
        return normalize_url(url) in self.urls


class UrlFilterParams(StepParams):
    block_lists: list[str] = Field([], description="Files of blocked domains or URLs (one per line, # comments).")
    allow_lists: list[str] = Field(
        [], description="Files of allowed domains or URLs: exceptions to the block lists (and see only_allowed)."
    )
    only_allowed: bool = Field(False, description="Drop every document whose URL is not on an allow list.")
    drop_missing_url: bool = Field(False, description="Drop documents that have no URL.")


@register
class UrlFilter(Step):
    """Drop documents whose URL or domain is on a local block list (allow lists make exceptions).

    A listed domain blocks its subdomains; a listed URL blocks that page. Tags ``url_filter.domain``."""

    name = "url_filter"
    Params = UrlFilterParams
    requires = ("url",)
    produces = ("url_filter.domain",)

    def check(self) -> None:
        self._lists()

    def _lists(self) -> tuple[UrlList, UrlList]:
        lists = getattr(self, "_lazy_lists", None)
        if lists is None:
            p: UrlFilterParams = self.params
            if not p.block_lists and not p.allow_lists:
                raise RecipeError("step 'url_filter': give block_lists, allow_lists or both")
            block = UrlList([e for path in p.block_lists for e in read_list(path, "block")])
            allow = UrlList([e for path in p.allow_lists for e in read_list(path, "allow")])
            if p.only_allowed and not allow:
                raise RecipeError("step 'url_filter': only_allowed needs a non-empty allow list")
            lists = self._lazy_lists = (block, allow)
        return lists

    def process(self, batch: pa.Table) -> StepResult:
        block, allow = self._lists()
        p: UrlFilterParams = self.params
        urls = batch.column("url").to_pylist()
        # Judge each distinct URL once (crawls repeat hosts and pages).
        verdicts: dict[str | None, tuple[str | None, str | None]] = {}
        domains, reasons = [], []
        for url in urls:
            verdict = verdicts.get(url)
            if verdict is None:
                verdict = verdicts[url] = self._judge(url, block, allow, p)
            domains.append(verdict[0])
            reasons.append(verdict[1])
        batch = with_column(batch, self.tag("domain"), pa.array(domains, pa.string()))
        for reason in reasons:
            if reason:
                self.counters[f"dropped.{reason}"] += 1
        return self.split(batch, reasons)

    @staticmethod
    def _judge(url: str | None, block: UrlList, allow: UrlList, p: UrlFilterParams) -> tuple[str | None, str | None]:
        if not url:
            return None, "no_url" if p.drop_missing_url else None
        try:
            host = normalize_host(urlsplit(url).hostname or "")
        except ValueError:
            host = ""
        allowed = bool(allow) and (allow.url_match(url) or allow.domain_match(host))
        if allowed:
            return host or None, None
        if block.url_match(url):
            return host or None, "blocked_url"
        if host and block.domain_match(host):
            return host, "blocked_domain"
        if p.only_allowed:
            return host or None, "not_allowed"
        return host or None, None


# --- word_filter --------------------------------------------------------------------------------
class WordFilterParams(StepParams):
    word_lists: list[str] = Field([], description="Files of words or phrases (one per line, # comments); required.")
    max_matches: int | None = Field(
        0, description="Drop a document with more occurrences of listed words than this (0: any; null: off)."
    )
    max_ratio: float | None = Field(None, description="Drop a document whose share of listed words is above this.")
    ignore_case: bool = Field(True, description="Match words regardless of case.")


# What counts as a word when matching a list: letters, digits, apostrophes inside words.
_WORD_SEPARATORS = r"[^\pL\pN_']+"


@register
class WordFilter(Step):
    """Drop documents with too many words from a local word list (bad words, spam phrases...).

    Single words are matched as whole words, phrases as whole-word sequences. Tags
    ``word_filter.matches`` (listed words found) and ``word_filter.ratio`` (per word)."""

    name = "word_filter"
    on_conversations = "text"
    Params = WordFilterParams
    produces = ("word_filter.matches", "word_filter.ratio")

    def check(self) -> None:
        self._lists()

    def _lists(self) -> tuple[pa.Array, str | None]:
        lists = getattr(self, "_lazy_lists", None)
        if lists is None:
            p: WordFilterParams = self.params
            if not p.word_lists:
                raise RecipeError("step 'word_filter': word_lists names no file")
            entries = [e for path in p.word_lists for e in read_list(path, "word")]
            if not entries:
                raise RecipeError(f"step 'word_filter': the word lists {p.word_lists} are empty")
            if p.ignore_case:
                entries = [e.lower() for e in entries]
            single = sorted({e for e in entries if re.fullmatch(r"[\w']+", e)})
            phrases = sorted({" ".join(re.findall(r"[\w']+", e)) for e in entries if not re.fullmatch(r"[\w']+", e)})
            phrases = [ph for ph in phrases if ph]
            # Phrases: whole-word sequences on the text with separators collapsed to one space.
            phrase_pattern = (
                r"(?:^| )(?:" + "|".join(re.escape(ph).replace(r"\ ", " ") for ph in phrases) + r")(?: |$)"
                if phrases
                else None
            )
            lists = self._lazy_lists = (pa.array(single, pa.large_string()), phrase_pattern)
        return lists

    def process(self, batch: pa.Table) -> StepResult:
        single, phrase_pattern = self._lists()
        p: WordFilterParams = self.params
        texts = batch.column("text").combine_chunks()
        if p.ignore_case:
            texts = pc.utf8_lower(texts)
        spaced = pc.utf8_trim_whitespace(pc.replace_substring_regex(texts, _WORD_SEPARATORS, " "))
        words = pc.utf8_split_whitespace(spaced)
        counts = np.asarray(pc.list_value_length(words), dtype=np.int64)
        doc = np.repeat(np.arange(batch.num_rows), counts)
        listed = np.asarray(pc.is_in(pc.list_flatten(words), single), dtype=bool)
        matches = np.bincount(doc[listed], minlength=batch.num_rows).astype(np.int64)
        if phrase_pattern:
            matches += np.asarray(pc.count_substring_regex(spaced, phrase_pattern), dtype=np.int64)
        share = np.divide(matches, counts, out=np.zeros(len(matches)), where=counts > 0)
        batch = with_column(batch, self.tag("matches"), pa.array(matches))
        batch = with_column(batch, self.tag("ratio"), pa.array(share))
        reasons: list[str | None] = [None] * batch.num_rows
        too_many = np.zeros(batch.num_rows, dtype=bool)
        if p.max_matches is not None:
            too_many |= matches > p.max_matches
        if p.max_ratio is not None:
            too_many |= share > p.max_ratio
        for i in np.flatnonzero(too_many).tolist():
            reasons[i] = "listed_words"
        self.counters["dropped.listed_words"] += int(too_many.sum())
        return self.split(batch, reasons)
