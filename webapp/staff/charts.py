"""Charts drawn on the server as SVG: titled, with labelled axes, no JavaScript.

Every text that reaches the SVG goes through ``escape``; colours are presentation
attributes, so the page's Content-Security-Policy needs no inline styles.
"""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

from markupsafe import Markup, escape

COLOURS = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df")
FONT = 'font-family="system-ui, sans-serif"'


def _nice_max(value: float, percent: bool) -> float:
    """Top of the axis: four equal steps of a round size (whole numbers for counts)."""
    if percent:
        return next(top for top in (20.0, 40.0, 60.0, 80.0, 100.0) if value <= top or top == 100.0)
    if value <= 4:
        return 4.0
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
                if raw <= m * magnitude and float(m * magnitude).is_integer())
    return 4 * step


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.0f}%"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def line_chart(title: str, labels: Sequence[str], series: Sequence[Tuple[str, Sequence[float]]],
               y_label: str, x_label: str = "Day (UTC)", percent: bool = False,
               width: int = 680, height: int = 280) -> Markup:
    """One or more series over the same x labels (days)."""
    left, right, top, bottom = 64, 16, 40, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs]
    y_max = _nice_max(max(values) if values else 0, percent)
    n = len(labels)
    parts: List[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600" {FONT}>'
        f"{escape(title)}</text>",
    ]
    for i in range(5):  # horizontal grid lines with y values
        v = y_max * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#d0d7de" '
                     f'stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" {FONT}>'
                     f"{escape(_fmt(v, percent))}</text>")
    parts.append(f'<text transform="translate(14 {top + plot_h / 2}) rotate(-90)" text-anchor="middle" '
                 f'font-size="12" {FONT}>{escape(y_label)}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" font-size="12" {FONT}>'
                 f"{escape(x_label)}</text>")
    if n == 0:
        parts.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
                     f'font-size="13" fill="#57606a" {FONT}>No data in this period</text>')
    else:
        step = plot_w / max(1, n - 1) if n > 1 else 0
        xs = [left + (i * step if n > 1 else plot_w / 2) for i in range(n)]
        every = max(1, math.ceil(n / 8))
        for i, label in enumerate(labels):
            last_fits = i == n - 1 and (n - 1) % every >= every / 2
            if i % every == 0 or last_fits:
                parts.append(f'<text x="{xs[i]:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                             f'font-size="11" {FONT}>{escape(label[5:] if len(label) == 10 else label)}</text>')
        for k, (name, vs) in enumerate(series):
            colour = COLOURS[k % len(COLOURS)]
            points = [(xs[i], top + plot_h - plot_h * (min(v, y_max) / y_max)) for i, v in enumerate(vs)]
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
            for (x, y), v, label in zip(points, vs, labels):
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}">'
                             f"<title>{escape(name)} {escape(label)}: {escape(_fmt(v, percent))}</title></circle>")
        # legend
        lx = left
        for k, (name, _) in enumerate(series):
            colour = COLOURS[k % len(COLOURS)]
            parts.append(f'<rect x="{lx}" y="28" width="10" height="10" fill="{colour}"/>')
            parts.append(f'<text x="{lx + 14}" y="37" font-size="11" {FONT}>{escape(name)}</text>')
            lx += 24 + 7 * len(name)
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
                 f'stroke="#57606a" stroke-width="1"/>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#57606a" stroke-width="1"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(title: str, items: Sequence[Tuple[str, float]], x_label: str,
              width: int = 680, label_chars: int = 44) -> Markup:
    """Horizontal bars, largest first: one row per label."""
    bar_h, gap = 20, 6
    left, right, top, bottom = 16 + min(label_chars, max([len(l) for l, _ in items] or [8])) * 6.4, 56, 40, 40
    height = int(top + bottom + max(1, len(items)) * (bar_h + gap))
    plot_w = width - left - right
    top_value = _nice_max(max([v for _, v in items] or [0]), False)
    parts: List[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600" {FONT}>'
        f"{escape(title)}</text>",
    ]
    if not items:
        parts.append(f'<text x="{width / 2}" y="{top + 14}" text-anchor="middle" font-size="13" '
                     f'fill="#57606a" {FONT}>No data in this period</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_h + gap)
        w = plot_w * (value / top_value) if top_value else 0
        parts.append(f'<text x="{left - 8:.1f}" y="{y + 14}" text-anchor="end" font-size="12" {FONT}>'
                     f"<title>{escape(label)}</title>{escape(_shorten(label, label_chars))}</text>")
        parts.append(f'<rect x="{left:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{bar_h}" '
                     f'fill="{COLOURS[0]}"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 14}" font-size="12" {FONT}>'
                     f"{escape(_fmt(value, False))}</text>")
    axis_y = top + max(1, len(items)) * (bar_h + gap)
    parts.append(f'<line x1="{left:.1f}" y1="{axis_y}" x2="{left + plot_w:.1f}" y2="{axis_y}" '
                 f'stroke="#57606a" stroke-width="1"/>')
    for i in range(5):
        x = left + plot_w * i / 4
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle" font-size="11" {FONT}>'
                     f"{escape(_fmt(top_value * i / 4, False))}</text>")
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="12" '
                 f"{FONT}>{escape(x_label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
