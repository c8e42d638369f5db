"""Record text is untrusted: markdown is rendered with raw HTML turned off (a ``<script>`` in a record
shows as text) and markdown-it's link check, which refuses ``javascript:``, ``vbscript:``, ``file:``
and non-image ``data:`` URLs (such a link renders as plain text)."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def markdown(text: str | None) -> Markup:
    """Safe HTML for a record's or the guidelines' markdown."""
    html = _MD.render(text or "")
    html = html.replace("<a href=", '<a rel="noopener noreferrer nofollow" target="_blank" href=')
    return Markup(html)
