"""Inline SVG charts of the ablation report: loss curves and mean ± std dot plots.

Own charts rather than ``winnow.report.svg``: the import contract keeps ``evaluate`` and ``report``
independent siblings; the pieces both need (palette, ``<svg>`` tag, legend) are in ``winnow.svgparts``,
so the two reports look alike."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from winnow import svgparts


def line_chart(
    series: dict[str, list[list[tuple[float, float]]]], title: str, x_label: str, y_label: str, width: int = 760
) -> str:
    """One colour per name, one thin line per seed (x, y points)."""
    points = [p for runs in series.values() for run in runs for p in run]
    if not points:
        return '<p class="empty">nothing to show</p>'
    height, left, right, top, bottom = 300, 56, 16, 30, 36
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) or 1
    y0, y1 = min(ys), max(ys)
    y1 = y1 if y1 > y0 else y0 + 1
    sx = lambda x: left + (width - left - right) * (x - x0) / ((x1 - x0) or 1)  # noqa: E731
    sy = lambda y: top + (height - top - bottom) * (1 - (y - y0) / (y1 - y0))  # noqa: E731
    parts = [svgparts.svg_open(width, height, title), svgparts.legend(list(series), left)]
    for k in range(5):
        value = y0 + (y1 - y0) * k / 4
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{sy(value):.1f}" y2="{sy(value):.1f}"/>')
        parts.append(f'<text x="{left - 4}" y="{sy(value) + 4:.1f}" text-anchor="end">{value:.2f}</text>')
    parts.append(f'<text x="{(left + width) / 2}" y="{height - 6}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text x="12" y="{top - 10}">{escape(y_label)}</text>')
    parts.append(f'<text x="{width - right}" y="{height - 20}" text-anchor="end">{x1:,.0f}</text>')
    for k, (name, runs) in enumerate(series.items()):
        color = svgparts.color(k)
        for run in runs:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in run)
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="1.4" opacity=".8" points="{path}">'
                f"<title>{escape(name)}</title></polyline>"
            )
    parts.append("</svg>")
    return "".join(parts)


def dot_chart(rows: Sequence[str], values: dict[str, list[tuple[float, float]]], title: str, width: int = 760) -> str:
    """Per row (eval set), one dot per variant at its mean with a bar of ± std; the x axis per row is shared."""
    if not rows or not values:
        return '<p class="empty">nothing to show</p>'
    label_width, row_height, top = min(260, 12 + 7 * max(len(r) for r in rows)), 26, 24
    height = top + row_height * len(rows) + 8
    parts = [svgparts.svg_open(width, height, title), svgparts.legend(list(values), label_width)]
    plot = width - label_width - 30
    for i, row in enumerate(rows):
        y = top + i * row_height + row_height / 2
        cells = [v[i] for v in values.values()]
        lo = min(m - s for m, s in cells)
        hi = max(m + s for m, s in cells)
        span = (hi - lo) or 1e-9
        sx = lambda x, lo=lo, span=span: label_width + 10 + plot * (x - lo) / span  # noqa: E731
        parts.append(f'<text x="{label_width - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(row)}</text>')
        parts.append(f'<line class="grid" x1="{label_width}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}"/>')
        for k, (name, (mean, std)) in enumerate(zip(values, cells, strict=True)):
            color = svgparts.color(k)
            dy = y + (k - (len(values) - 1) / 2) * 5
            parts.append(
                f'<line x1="{sx(mean - std):.1f}" x2="{sx(mean + std):.1f}" y1="{dy:.1f}" y2="{dy:.1f}" '
                f'stroke="{color}" stroke-width="2"/>'
            )
            parts.append(
                f'<circle cx="{sx(mean):.1f}" cy="{dy:.1f}" r="4" fill="{color}">'
                f"<title>{escape(name)}: {mean:.4f} ± {std:.4f}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)
