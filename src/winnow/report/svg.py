"""Small inline SVG charts for the HTML report (no library, no network: the report must open offline)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from winnow import svgparts


def fmt(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Sequence[float]],
    names: Sequence[str] = (),
    title: str = "",
    width: int = 760,
) -> str:
    """Horizontal bars, one row per label, one bar per series (grouped)."""
    if not labels:
        return '<p class="empty">nothing to show</p>'
    label_width = min(320, 12 + 7 * max(len(label) for label in labels))
    bar_height, gap = 14, 8
    row_height = bar_height * len(series) + gap
    legend = 22 if len(names) > 1 else 0
    height = legend + row_height * len(labels) + 8
    top = max((max(values) for values in series if len(values)), default=0) or 1
    plot = width - label_width - 90
    parts = [svgparts.svg_open(width, height, title)]
    parts.append(svgparts.legend(names if len(names) > 1 else (), label_width))
    for i, label in enumerate(labels):
        y = legend + i * row_height
        short = label if len(label) <= 44 else label[:41] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height * len(series) / 2 + 4:.1f}" text-anchor="end" class="label">'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
        )
        for k, values in enumerate(series):
            value = values[i]
            w = max(1.0, plot * value / top) if value else 0
            by = y + k * bar_height
            color = svgparts.color(k)
            tip = f"{label}: {fmt(value)}" + (f" ({names[k]})" if names else "")
            parts.append(
                f'<rect class="bar" x="{label_width}" y="{by}" width="{w:.1f}" height="{bar_height - 2}" fill="{color}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            parts.append(
                f'<text x="{label_width + w + 4:.1f}" y="{by + bar_height - 4}" class="value">{fmt(value)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    edges: Sequence[float],
    series: Sequence[Sequence[int]],
    names: Sequence[str],
    title: str,
    x_label: str,
    width: int = 760,
) -> str:
    """Vertical bars over (log-spaced) bins; only the range that holds data is drawn."""
    used = [i for i in range(len(edges) - 1) if any(s[i] for s in series)]
    if not used:
        return '<p class="empty">nothing to show</p>'
    first, last = used[0], used[-1]
    bins = list(range(first, last + 1))
    height, left, bottom, top_pad = 260, 56, 44, 26
    plot_w, plot_h = width - left - 16, height - bottom - top_pad
    highest = max(max(s[i] for i in bins) for s in series)
    step = _nice_step(highest / 4)
    ticks = max(1, math.ceil(highest / step))
    top = step * ticks
    slot = plot_w / len(bins)
    bar_w = max(1.0, (slot - 2) / len(series))
    parts = [svgparts.svg_open(width, height, title)]
    parts.append(svgparts.legend(names, left))
    for tick in range(ticks + 1):
        value = step * tick
        y = top_pad + plot_h - plot_h * tick / ticks
        parts.append(f'<line x1="{left}" x2="{width - 16}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="value">{fmt(round(value))}</text>')
    for j, i in enumerate(bins):
        for k, s in enumerate(series):
            h = plot_h * s[i] / top
            x = left + j * slot + 1 + k * bar_w
            tip = f"{names[k]}: {s[i]:,} documents of {fmt(round(edges[i]))}–{fmt(round(edges[i + 1]))} {x_label}"
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{svgparts.color(k)}"><title>{escape(tip)}</title></rect>'
            )
        if j % 2 == 0:
            parts.append(
                f'<text x="{left + j * slot:.1f}" y="{height - bottom + 16}" text-anchor="middle" class="value">'
                f"{_short(edges[i])}</text>"
            )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle" class="label">{escape(x_label)} '
        "(log scale)</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _nice_step(at_least: float) -> int:
    """The smallest 1, 2 or 5 × 10^k (an integer: the axis counts documents) not below ``at_least``."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if factor * magnitude >= at_least:
                return factor * magnitude
        magnitude *= 10


def _short(value: float) -> str:
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.3g}"
