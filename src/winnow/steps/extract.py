"""HTML -> main-content text (``html_extract``), keeping the page facts later steps need in ``meta``.

Library: Resiliparse (``extract_plain_text(main_content=True)`` on a Lexbor parse tree). Chosen by
measurement on the 3,151 English Debian documentation pages of ../shared/data/html.tar.zst against
their naive extraction (benchmarks/html_extract.py): it removes ~95% of the navigation/boilerplate and
keeps ~83% of the content at ~340 pages/s on one (shared) core; trafilatura removes a little more (96%),
keeps as much, and is ~10x slower (32 pages/s in its fast mode); DataTrove's Trafilatura extractor, as
FineWeb ran it, ran at 20 pages/s and kept 74%.

Besides rewriting ``text``, the step adds to ``meta``:

* ``title``: the page ``<title>``;
* ``lang_hint``: the language the page declares (``<html lang>``, else ``<meta http-equiv=content-language>``,
  else the HTTP Content-Language header of a WARC record), as written, e.g. ``en-US``;
* ``license_hints``: licence URLs/statements the page carries: ``<link rel=license>``/``<a rel=license>``
  targets, links to creativecommons.org licences or public-domain tools, and ``<meta name=license|
  dc.rights|dcterms.license|copyright>`` contents (deduplicated, in page order);
* ``robots``: the robots directives, lower-cased: ``<meta name=robots>`` and the HTTP X-Robots-Tag header
  (e.g. ``["noindex", "noai"]``), for the opt-out step.

Records whose ``meta.content_type`` says they are not HTML (plain text from WET files, say) pass through
unchanged. When the main-content heuristics find nothing on a page, its whole text is taken instead
(counted as ``main_content_fallback``); a page with no text at all is dropped with reason ``no_text``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pydantic import Field

from winnow.records import decode_meta, encode_meta, with_column
from winnow.steps.base import Step, StepParams, StepResult
from winnow.steps.registry import register

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")
LICENSE_LINKS = "link[rel~=license i], a[rel~=license i]"
CC_LINKS = 'a[href*="creativecommons.org/licenses/" i], a[href*="creativecommons.org/publicdomain/" i]'
LICENSE_META_NAMES = ("license", "dc.rights", "dcterms.license", "dcterms.rights", "copyright")


def page_facts(tree: Any, http_headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Title, declared language, licence hints and robots directives of a parsed page (Resiliparse tree)."""
    document = tree.document
    facts: dict[str, Any] = {}
    title = " ".join((tree.title or "").split())  # one line, NBSP and runs of spaces as one space
    if title:
        facts["title"] = title
    lang = None
    root = document.query_selector("html")
    if root is not None:
        lang = (root.getattr("lang") or root.getattr("xml:lang") or "").strip() or None
    hints: list[str] = []
    robots: list[str] = []
    for element in document.query_selector_all("meta"):
        name = (element.getattr("name") or "").strip().lower()
        equiv = (element.getattr("http-equiv") or "").strip().lower()
        content = (element.getattr("content") or "").strip()
        if not content:
            continue
        if name == "robots":
            robots.extend(_directives(content))
        elif name in LICENSE_META_NAMES:
            hints.append(content)
        elif equiv == "content-language" and lang is None:
            lang = content
    for element in document.query_selector_all(LICENSE_LINKS + ", " + CC_LINKS):
        href = (element.getattr("href") or "").strip()
        if href:
            hints.append(href)
    headers = {k.lower(): v for k, v in (http_headers or {}).items()}
    if lang is None and headers.get("content-language"):
        lang = headers["content-language"].strip()
    if headers.get("x-robots-tag"):
        robots.extend(_directives(headers["x-robots-tag"]))
    if lang:
        facts["lang_hint"] = lang
    if hints:
        facts["license_hints"] = list(dict.fromkeys(hints))
    if robots:
        facts["robots"] = list(dict.fromkeys(robots))
    return facts


def _directives(value: str) -> list[str]:
    return [d.strip().lower() for d in value.split(",") if d.strip()]


@register
class HtmlExtract(Step):
    """Extract the main text of HTML pages (Resiliparse); keep title, language hint, licence hints and robots in meta."""

    name = "html_extract"
    needs = ("resiliparse",)
    extra = "warc"

    class Params(StepParams):
        main_content: bool = Field(True, description="keep only the main content (drop navigation, headers, footers)")
        preserve_formatting: bool = Field(True, description="keep line breaks and paragraph structure")
        list_bullets: bool = Field(True, description="prefix list items with a bullet")
        alt_texts: bool = Field(False, description="include the alt text of images")
        links: bool = Field(False, description="append link targets to link texts")
        comments: bool = Field(False, description="keep comment sections of pages (blog and forum comments)")

    def process_one(self, html: str, meta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(text, meta) of one page."""
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        p = self.params
        tree = HTMLTree.parse(html)
        options = dict(
            preserve_formatting=p.preserve_formatting,
            list_bullets=p.list_bullets,
            alt_texts=p.alt_texts,
            links=p.links,
            comments=p.comments,
        )
        text = extract_plain_text(tree, main_content=p.main_content, **options).strip()
        if not text and p.main_content:
            # The main-content heuristics found nothing (short pages whose text sits in one wrapper
            # they judge to be boilerplate): the whole page's text is better than losing the page.
            text = extract_plain_text(tree, main_content=False, **options).strip()
            self.counters["main_content_fallback"] += 1
        facts = page_facts(tree, meta.get("http_headers"))
        return text, {**meta, **facts}

    def process(self, batch: pa.Table) -> StepResult:
        texts = batch.column("text").to_pylist()
        metas = batch.column("meta").to_pylist()
        out_texts: list[str] = []
        out_metas: list[str | None] = []
        reasons: list[str | None] = []
        for text, raw_meta in zip(texts, metas, strict=True):
            meta = decode_meta(raw_meta)
            content_type = meta.get("content_type")
            if content_type and content_type not in HTML_TYPES:
                out_texts.append(text)
                out_metas.append(raw_meta)
                reasons.append(None if text and text.strip() else "no_text")
                self.counters["not_html"] += 1
                continue
            extracted, meta = self.process_one(text or "", meta)
            # A page dropped for having no text keeps its HTML in rejected/, for audit.
            out_texts.append(extracted or text)
            out_metas.append(encode_meta(meta) if meta else None)
            reasons.append(None if extracted else "no_text")
            self.counters["pages"] += 1
        batch = with_column(batch, "text", pa.array(out_texts, pa.string()))
        batch = with_column(batch, "meta", pa.array(out_metas, pa.string()))
        return self.split(batch, reasons)
