"""Small server-side SVG charts (no JS, nothing fetched)."""

from __future__ import annotations

from markupsafe import Markup, escape


def bar_chart(bars: list[tuple[str, float | None]], title: str, width: int = 420) -> Markup:
    """Horizontal bars of values in [0, 1]; a missing value shows as n/a."""
    row, label_w = 22, 120
    height = row * len(bars) + 28
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="14" class="chart-title">{escape(title)}</text>',
    ]
    span = width - label_w - 50
    for i, (name, value) in enumerate(bars):
        y = 24 + i * row
        parts.append(f'<text x="0" y="{y + 14}" class="chart-label">{escape(name)}</text>')
        if value is None:
            parts.append(f'<text x="{label_w}" y="{y + 14}" class="chart-label">n/a</text>')
            continue
        w = max(1, int(span * max(0.0, min(1.0, value))))
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row - 8}" class="chart-bar"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 14}" class="chart-label">{value:.2f}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
