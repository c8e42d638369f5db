"""Record text is untrusted: markdown is rendered with raw HTML turned off (a ``<script>`` in a record
shows as text) and markdown-it's link check, which refuses ``javascript:``, ``vbscript:``, ``file:``
and non-image ``data:`` URLs (such a link renders as plain text)."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def markdown(text: str | None) -> Markup:
    """Safe HTML for a record's or the guidelines' markdown."""
    html = _MD.render(text or "")
    html = html.replace("<a href=", '<a rel="noopener noreferrer nofollow" target="_blank" href=')
    return Markup(html)


def answer_text(value: dict | str | None) -> str:
    """An answer as a person reads it: ``A``, ``tie``, ``4``, ``harmful, rude``, ``2 > 1 > 3``,
    ``PII 12–20; factual error 31–40``, the edit."""
    import orjson

    if isinstance(value, str):
        value = orjson.loads(value)
    if not value:
        return "none (an even split)"
    if "choice" in value:
        return str(value["choice"])
    if "rating" in value:
        return str(value["rating"])
    if "labels" in value:
        return ", ".join(value["labels"]) or "none"
    if "order" in value:
        return " > ".join(str(i + 1) for i in value["order"])
    if "spans" in value:
        spans = value["spans"]
        return "; ".join(f"{s['label']} {s['start']}–{s['end']}" for s in spans) if spans else "nothing marked"
    text = str(value.get("text", ""))
    return text if len(text) <= 160 else text[:157] + "…"


def pre_text(text: str | None) -> Markup:
    """Escaped text for an element whose DOM text must equal ``text`` character for character (the
    spans page maps selections to offsets): HTML parsing turns CR and CR LF into LF, so CR goes out as
    a character reference, which the parser keeps."""
    return Markup(str(escape(text or "")).replace("\r", "&#13;"))
