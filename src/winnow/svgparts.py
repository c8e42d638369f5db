"""Inline SVG pieces shared by the two HTML reports (``winnow.report`` and ``winnow.evaluate``): the
palette, the ``<svg>`` opening tag and the colour legend, so both pages look alike without the two
feature packages importing each other. No library, no network: the reports must open offline."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#3b6ea8", "#d9822b", "#5a9e6f", "#b5485d", "#7d64a8", "#8c7a5b")


def color(k: int) -> str:
    """The k-th series' colour (the palette repeats)."""
    return PALETTE[k % len(PALETTE)]


def svg_open(width: int, height: int, title: str) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def legend(names: Sequence[str], x: float) -> str:
    """One coloured square and name per series, left to right along the top from ``x``."""
    parts = []
    for k, name in enumerate(names):
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{color(k)}"/>')
        parts.append(f'<text x="{x + 16}" y="14" class="legend">{escape(name)}</text>')
        x += 16 + 7.5 * len(name) + 24  # ~7.5 px per character at the legend's 12 px font
    return "".join(parts)
