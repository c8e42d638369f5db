"""Opt-outs: drop records whose owners said no to AI training.

A record is dropped, with the reason saying which signal it carried, when

* ``blocklisted_domain`` / ``blocklisted_url``: its URL's host is on the local opt-out list (a listed domain
  covers its subdomains) or its URL starts with a listed URL prefix (``example.org/private/`` matches http
  and https, with or without ``www.``);
* ``robots_noai`` / ``robots_noimageai``: its page carries the ``noai`` / ``noimageai`` robots directive,
  in ``<meta name="robots">`` or the ``X-Robots-Tag`` HTTP header. Read from ``meta.robots`` (written by
  html_extract), from ``meta.http_headers`` (written by the WARC reader), and from the raw HTML when the
  text still is HTML;
* ``tdm_reservation``: the W3C TDM Reservation Protocol reserves text-and-data-mining rights: a
  ``tdm-reservation: 1`` HTTP header or ``<meta name="tdm-reservation" content="1">``.

The list file has one entry per line: a domain (``example.com``) or a URL prefix (``example.com/blog/``,
``https://example.com/blog/``); ``#`` starts a comment. It is checked before any data is read.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from winnow.errors import RecipeError
from winnow.records import decode_meta
from winnow.steps.base import Step, StepParams
from winnow.steps.registry import register

META_TAG = re.compile(r"<meta\b[^>]*>", re.I)
META_NAME = re.compile(r"\bname\s*=\s*[\"']?([^\"'\s>]+)", re.I)
META_CONTENT = re.compile(r"\bcontent\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.I)
HTML_PRECHECK = r"(?i)<meta[^>]+(?:noai|noimageai|tdm-reservation)"


def read_blocklist(path: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """(domains, URL prefixes) of an opt-out list; URL prefixes lose their scheme and ``www.``."""
    domains: set[str] = set()
    prefixes: set[str] = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            entry = line.split("#", 1)[0].strip().lower()
            if not entry:
                continue
            entry = re.sub(r"^[a-z][a-z0-9+.-]*://", "", entry).removeprefix("www.")
            if "/" in entry.rstrip("/"):
                prefixes.add(entry)
            else:
                domains.add(entry.rstrip("/").rstrip("."))
    return frozenset(domains), tuple(sorted(prefixes))


def _url_key(url: str) -> tuple[str, str]:
    """(host, URL without scheme and www.) of a URL, lower-cased."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = (parts.hostname or "").rstrip(".").removeprefix("www.")
    rest = url.split("://", 1)[-1].lower().removeprefix("www.")
    return host, rest


def robots_directives(meta: dict, html: str | None) -> tuple[set[str], bool]:
    """(robots directives, TDM reservation) of a record, from its meta and, if given, its raw HTML."""
    directives = {d.strip().lower() for d in meta.get("robots") or () if isinstance(d, str)}
    tdm = False
    headers = {str(k).lower(): str(v) for k, v in (meta.get("http_headers") or {}).items()}
    if "x-robots-tag" in headers:
        # "X-Robots-Tag: googlebot: noindex, noai" - a user-agent prefix may come first
        for part in headers["x-robots-tag"].split(","):
            directives.add(part.rsplit(":", 1)[-1].strip().lower())
    if headers.get("tdm-reservation", "").strip() == "1":
        tdm = True
    if html:
        for tag in META_TAG.finditer(html):
            name = META_NAME.search(tag.group())
            content = META_CONTENT.search(tag.group())
            if not name or not content:
                continue
            value = next(g for g in content.groups() if g is not None).strip().lower()
            name_value = name.group(1).lower()
            if name_value == "robots":
                directives.update(d.strip() for d in value.split(","))
            elif name_value == "tdm-reservation" and value == "1":
                tdm = True
    return directives, tdm


@register
class OptOut(Step):
    """Drop records whose URL/domain is on a local opt-out list, whose page says noai/noimageai, or that reserve TDM rights."""

    name = "optout"
    requires = ("url", "meta")

    class Params(StepParams):
        blocklist: str | None = Field(None, description="opt-out list: one domain or URL prefix per line, # comments")
        robots: bool = Field(True, description="drop pages with the noai or noimageai robots directive")
        tdm_reservation: bool = Field(True, description="drop pages reserving TDM rights (W3C TDMRep header or meta)")

    def check(self) -> None:
        path = self.params.blocklist
        if path is None:
            return
        if not Path(path).is_file():
            raise RecipeError(f"step 'optout': opt-out list not found: {path}")
        try:
            read_blocklist(path)
        except (OSError, UnicodeDecodeError) as error:
            raise RecipeError(f"step 'optout': cannot read opt-out list {path}: {error}") from None

    def _list(self) -> tuple[frozenset[str], tuple[str, ...]]:
        cached = getattr(self, "_lazy_list", None)
        if cached is None:
            cached = read_blocklist(self.params.blocklist) if self.params.blocklist else (frozenset(), ())
            self._lazy_list = cached
        return cached

    def blocked(self, url: str | None) -> str | None:
        domains, prefixes = self._list()
        if not url or not (domains or prefixes):
            return None
        host, rest = _url_key(url)
        labels = host.split(".")
        for i in range(len(labels)):
            if ".".join(labels[i:]) in domains:
                return "blocklisted_domain"
        if prefixes and rest.startswith(prefixes):
            return "blocklisted_url"
        return None

    def reasons(self, batch: pa.Table) -> list[str | None]:
        urls = batch.column("url").to_pylist()
        metas = batch.column("meta").to_pylist()
        check_pages = self.params.robots or self.params.tdm_reservation
        html_hits = pc.match_substring_regex(batch.column("text"), HTML_PRECHECK).fill_null(False).to_pylist()
        texts = batch.column("text")
        out: list[str | None] = []
        for i, url in enumerate(urls):
            reason = self.blocked(url)
            if reason is None and check_pages and (metas[i] or html_hits[i]):
                meta = decode_meta(metas[i]) if metas[i] else {}
                directives, tdm = robots_directives(meta, texts[i].as_py() if html_hits[i] else None)
                if self.params.robots and "noai" in directives:
                    reason = "robots_noai"
                elif self.params.robots and "noimageai" in directives:
                    reason = "robots_noimageai"
                elif self.params.tdm_reservation and tdm:
                    reason = "tdm_reservation"
            out.append(reason)
        return out
