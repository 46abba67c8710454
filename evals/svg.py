"""Two small inline-SVG charts, written by hand so an HTML report needs no plotting library.

Every text that reaches the markup goes through :func:`html.escape`; the charts reference
nothing outside themselves (no fonts, images or scripts), so the report is one file.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR = "#4c72b0"
NEGATIVE = "#c44e52"
AXIS = "#444"
GRID = "#ddd"
FONT = 'font-family="sans-serif" font-size="12"'


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
        f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" {FONT} font-weight="bold">'
        f"{escape(title)}</text>" + "".join(body) + "</svg>"
    )


def histogram(counts: Sequence[int], title: str, low: float = 0.0, high: float = 1.0) -> str:
    """Vertical bars over equal bins of [low, high], with count labels and an x axis."""
    width, height = 560, 260
    left, right, top, bottom = 40, 10, 30, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(counts) if counts and max(counts) > 0 else 1
    step = plot_w / max(len(counts), 1)
    body: list[str] = []
    for k in range(5):  # light horizontal grid at quarters of the peak
        y = top + plot_h - plot_h * k / 4
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>'
            f"{peak * k / 4:.0f}</text>"
        )
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        x = left + i * step
        body.append(
            f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{step - 2:.1f}" '
            f'height="{h:.1f}" fill="{BAR}"><title>{count}</title></rect>'
        )
        if count:
            body.append(
                f'<text x="{x + step / 2:.1f}" y="{top + plot_h - h - 3:.1f}" '
                f'text-anchor="middle" {FONT}>{count}</text>'
            )
    for i in range(len(counts) + 1):
        if i % 2 and len(counts) > 10:
            continue  # every other tick label when bins are narrow
        x = left + i * step
        value = low + (high - low) * i / max(len(counts), 1)
        body.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" {FONT}>'
            f"{value:.1f}</text>"
        )
    body.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        f'stroke="{AXIS}"/>'
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" text-anchor="middle" {FONT}>'
        "score</text>"
    )
    return _svg(width, height, title, body)


def bar_chart(items: Sequence[tuple[str, float, str]], title: str, high: float = 100.0) -> str:
    """Horizontal bars of ``(label, value, value text)``; negative values go left of zero.

    The scale runs from min(0, lowest value) to ``high`` so a negative entity dimension is
    visible as a red bar instead of being clipped to nothing.
    """
    row, label_w, value_w = 26, 90, 100
    width = 520
    height = 40 + row * len(items) + 10
    plot_w = width - label_w - value_w
    low = min([0.0, *(value for _, value, _ in items)])
    span = (high - low) or 1.0

    def x_at(value: float) -> float:
        return label_w + plot_w * (min(max(value, low), high) - low) / span

    zero = x_at(0.0)
    body = [f'<line x1="{zero:.1f}" y1="30" x2="{zero:.1f}" y2="{height - 10}" stroke="{AXIS}"/>']
    for i, (label, value, text) in enumerate(items):
        y = 36 + i * row
        x0, x1 = sorted((zero, x_at(value)))
        colour = NEGATIVE if value < 0 else BAR
        body.append(
            f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end" {FONT}>{escape(label)}</text>'
            f'<rect x="{x0:.1f}" y="{y}" width="{x1 - x0:.1f}" height="{row - 8}" '
            f'fill="{colour}"><title>{escape(text)}</title></rect>'
            f'<text x="{label_w + plot_w + 8}" y="{y + 14}" {FONT}>{escape(text)}</text>'
        )
    return _svg(width, height, title, body)
