"""Hand-written inline SVG graphs for the management report.

(Graphs, not charts: in chartroute a chart is always a patient's chart.)

The report must open on a practice's locked-down desktop with no network, so it carries its
charts as plain SVG markup: no script, no fonts or stylesheets to fetch, nothing to execute.
Each function returns one ``<svg>`` element sized by its viewBox (it scales to the page width),
with a ``<title>`` on every mark so hovering shows the exact number. Every label passes through
``html.escape``; missing days are drawn as gaps, never as zeros.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 760
HEIGHT = 280
MARGIN_LEFT = 56
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 56

#: Colour-blind-safe palette (Okabe-Ito), in a fixed order so a category keeps its colour.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
MUTED = "#8a8f98"
GRID = "#e3e6ea"


def color_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if not math.isfinite(value) or value < 1e-6:  # nothing to scale (or a rounding speck)
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


@dataclass(frozen=True)
class _Plot:
    """The plotting area and its y scale."""

    y_max: float
    width: int = WIDTH
    height: int = HEIGHT
    left: int = MARGIN_LEFT
    bottom_margin: int = MARGIN_BOTTOM

    @property
    def right(self) -> float:
        return self.width - MARGIN_RIGHT - 24

    @property
    def top(self) -> float:
        return MARGIN_TOP

    @property
    def bottom(self) -> float:
        return self.height - self.bottom_margin

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * (value / self.y_max)

    def grid(self, unit: str = "") -> list[str]:
        parts = []
        for i in range(5):
            value = self.y_max * i / 4
            y = self.y(value)
            parts.append(
                f'<line x1="{self.left}" y1="{y:.1f}" x2="{self.right}" y2="{y:.1f}" '
                f'stroke="{GRID}" stroke-width="1"/>'
            )
            parts.append(
                f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                f'class="tick">{escape(_fmt(value))}{escape(unit)}</text>'
            )
        parts.append(
            f'<line x1="{self.left}" y1="{self.bottom}" x2="{self.right}" y2="{self.bottom}" '
            f'stroke="{MUTED}" stroke-width="1"/>'
        )
        return parts


def _svg(parts: Sequence[str], label: str, height: int = HEIGHT) -> str:
    body = "\n".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(label)}" class="chart">\n{body}\n</svg>'
    )


def _x_labels(labels: Sequence[str], centres: Sequence[float], plot: _Plot) -> list[str]:
    """Category or day labels under the axis, thinned so they never overlap."""
    if not labels:
        return []
    room = (plot.right - plot.left) / len(labels)
    every = max(1, math.ceil(44 / room)) if room > 0 else 1
    parts = []
    for i, (label, x) in enumerate(zip(labels, centres, strict=True)):
        if i % every:
            continue
        parts.append(
            f'<text x="{x:.1f}" y="{plot.bottom + 16}" text-anchor="middle" '
            f'class="tick">{escape(label)}</text>'
        )
    return parts


def _legend(names: Sequence[str], colors: Sequence[str], y: float) -> list[str]:
    parts = []
    x = float(MARGIN_LEFT)
    for name, color in zip(names, colors, strict=True):
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{x + 14:.1f}" y="{y:.1f}" class="legend">{escape(name)}</text>')
        x += 24 + 7.2 * len(name)
    return parts


def empty_chart(label: str, message: str) -> str:
    """Why there is nothing to draw, in words: no axes, no frame, nothing to misread as zero."""
    return f'<p class="empty" role="note" aria-label="{escape(label)}">{escape(message)}</p>'


def stacked_bars(
    label: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    unit: str = "",
) -> str:
    """One bar per x position, stacked by series; a position with no data has no bar."""
    names = list(series)
    totals = []
    for i in range(len(x_labels)):
        values = [series[n][i] for n in names]
        totals.append(None if all(v is None for v in values) else sum(v or 0.0 for v in values))
    known = [t for t in totals if t is not None]
    if not known:
        return empty_chart(label, "no snapshots in this period")
    plot = _Plot(nice_max(max(known)))
    parts = plot.grid(unit)
    slot = (plot.right - plot.left) / len(x_labels)
    bar = max(1.0, slot * 0.72)
    centres = [plot.left + slot * (i + 0.5) for i in range(len(x_labels))]
    colors = [color_for(i) for i in range(len(names))]
    for i, x in enumerate(centres):
        if totals[i] is None:
            continue
        base = 0.0
        for name, color in zip(names, colors, strict=True):
            value = series[name][i] or 0.0
            if value <= 0:
                continue
            y_top, y_base = plot.y(base + value), plot.y(base)
            parts.append(
                f'<rect x="{x - bar / 2:.1f}" y="{y_top:.1f}" width="{bar:.1f}" '
                f'height="{y_base - y_top:.1f}" fill="{color}"><title>'
                f"{escape(x_labels[i])} · {escape(name)}: {escape(_fmt(value))}{escape(unit)}"
                "</title></rect>"
            )
            base += value
    parts += _x_labels(x_labels, centres, plot)
    parts += _legend(names, colors, HEIGHT - 12)
    return _svg(parts, label)


def line_chart(
    label: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    unit: str = "",
    references: Mapping[str, float] | None = None,
) -> str:
    """One line per series; a missing day breaks the line. ``references`` are dashed levels."""
    names = list(series)
    known = [v for n in names for v in series[n] if v is not None]
    if not known:
        return empty_chart(label, "no snapshots in this period")
    top = max([*known, *(references or {}).values()])
    plot = _Plot(nice_max(top))
    parts = plot.grid(unit)
    slot = (plot.right - plot.left) / len(x_labels)
    centres = [plot.left + slot * (i + 0.5) for i in range(len(x_labels))]
    for ref_label, level in (references or {}).items():
        y = plot.y(level)
        parts.append(
            f'<line x1="{plot.left}" y1="{y:.1f}" x2="{plot.right}" y2="{y:.1f}" '
            f'stroke="{MUTED}" stroke-dasharray="5 4"><title>{escape(ref_label)}</title></line>'
        )
        parts.append(
            f'<text x="{plot.right - 4}" y="{y - 4:.1f}" text-anchor="end" '
            f'class="ref">{escape(ref_label)}</text>'
        )
    colors = [color_for(i) for i in range(len(names))]
    for name, color in zip(names, colors, strict=True):
        values = series[name]
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, value in enumerate(values):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{centres[i]:.1f},{plot.y(value):.1f}")
            parts.append(
                f'<circle cx="{centres[i]:.1f}" cy="{plot.y(value):.1f}" r="2.6" fill="{color}">'
                f"<title>{escape(x_labels[i])} · {escape(name)}: "
                f"{escape(_fmt(value))}{escape(unit)}</title></circle>"
            )
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                parts.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{color}" '
                    'stroke-width="2"/>'
                )
    parts += _x_labels(x_labels, centres, plot)
    parts += _legend(names, colors, HEIGHT - 12)
    return _svg(parts, label)


def bar_chart(label: str, labels: Sequence[str], values: Sequence[float], unit: str = "") -> str:
    """Vertical bars, one per label (e.g. the aging histogram)."""
    if not labels or not any(values):
        return empty_chart(label, "nothing open")
    plot = _Plot(nice_max(max(values)))
    parts = plot.grid(unit)
    slot = (plot.right - plot.left) / len(labels)
    bar = slot * 0.6
    centres = [plot.left + slot * (i + 0.5) for i in range(len(labels))]
    for x, name, value in zip(centres, labels, values, strict=True):
        y = plot.y(value)
        parts.append(
            f'<rect x="{x - bar / 2:.1f}" y="{y:.1f}" width="{bar:.1f}" '
            f'height="{plot.bottom - y:.1f}" fill="{PALETTE[0]}"><title>{escape(name)}: '
            f"{escape(_fmt(value))}{escape(unit)}</title></rect>"
        )
        parts.append(
            f'<text x="{x:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
            f'class="value">{escape(_fmt(value))}</text>'
        )
    parts += _x_labels(labels, centres, plot)
    return _svg(parts, label)


def pareto_chart(label: str, labels: Sequence[str], values: Sequence[float]) -> str:
    """Bars in descending order with the cumulative share as a line (right axis, 0-100%)."""
    pairs = sorted(
        ((n, v) for n, v in zip(labels, values, strict=True) if v > 0), key=lambda p: (-p[1], p[0])
    )
    if not pairs:
        return empty_chart(label, "nothing open")
    total = sum(v for _, v in pairs)
    height = HEIGHT + 70
    plot = _Plot(
        nice_max(pairs[0][1]),
        height=height,
        left=MARGIN_LEFT + 60,
        bottom_margin=MARGIN_BOTTOM + 70,
    )
    parts = plot.grid()
    slot = (plot.right - plot.left) / len(pairs)
    bar = slot * 0.6
    centres = [plot.left + slot * (i + 0.5) for i in range(len(pairs))]
    cumulative = 0.0
    points = []
    for x, (name, value) in zip(centres, pairs, strict=True):
        y = plot.y(value)
        cumulative += value
        share = cumulative / total
        parts.append(
            f'<rect x="{x - bar / 2:.1f}" y="{y:.1f}" width="{bar:.1f}" '
            f'height="{plot.bottom - y:.1f}" fill="{PALETTE[0]}"><title>{escape(name)}: '
            f"{escape(_fmt(value))} ({value / total:.0%}; cumulative {share:.0%})</title></rect>"
        )
        cy = plot.bottom - (plot.bottom - plot.top) * share
        points.append(f"{x:.1f},{cy:.1f}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{cy:.1f}" r="2.6" fill="{PALETTE[5]}"><title>cumulative '
            f"{share:.0%}</title></circle>"
        )
        parts.append(
            f'<text transform="translate({x + 4:.1f},{plot.bottom + 12}) rotate(-35)" '
            f'text-anchor="end" class="tick">{escape(name)}</text>'
        )
    parts.append(
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{PALETTE[5]}" '
        'stroke-width="2"/>'
    )
    for pct in (0, 50, 80, 100):
        cy = plot.bottom - (plot.bottom - plot.top) * pct / 100
        parts.append(f'<text x="{plot.right + 6}" y="{cy + 4:.1f}" class="tick">{pct}%</text>')
    return _svg(parts, label, height)


def horizontal_bars(
    label: str,
    labels: Sequence[str],
    values: Sequence[float],
    highlighted: Sequence[float] | None = None,
    highlight_name: str = "",
    value_name: str = "",
) -> str:
    """One horizontal bar per label; ``highlighted`` draws a darker part of each bar."""
    if not labels:
        return empty_chart(label, "nothing open")
    row = 22
    height = MARGIN_TOP + row * len(labels) + 40
    left = 150
    right = WIDTH - 60
    top = max(values) if values else 0.0
    scale = nice_max(top)
    parts = []
    for i, (name, value) in enumerate(zip(labels, values, strict=True)):
        y = MARGIN_TOP + row * i
        width = (right - left) * value / scale
        parts.append(
            f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" class="tick">'
            f"{escape(name)}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" '
            f'fill="{PALETTE[4]}"><title>{escape(name)}: {escape(_fmt(value))} '
            f"{escape(value_name)}</title></rect>"
        )
        if highlighted is not None and highlighted[i] > 0:
            part = (right - left) * highlighted[i] / scale
            parts.append(
                f'<rect x="{left}" y="{y + 3}" width="{part:.1f}" height="{row - 6}" '
                f'fill="{PALETTE[0]}"><title>{escape(name)}: {escape(_fmt(highlighted[i]))} '
                f"{escape(highlight_name)}</title></rect>"
            )
        parts.append(
            f'<text x="{left + width + 6:.1f}" y="{y + 14}" class="value">'
            f"{escape(_fmt(value))}</text>"
        )
    legend_y = height - 12
    if highlighted is not None:
        parts += _legend([value_name, highlight_name], [PALETTE[4], PALETTE[0]], legend_y)
    return _svg(parts, label, height)


def median_p90_chart(
    label: str, labels: Sequence[str], medians: Sequence[float], p90s: Sequence[float], unit: str
) -> str:
    """Per label, a bar to the median and a whisker to the 90th percentile."""
    if not labels:
        return empty_chart(label, "no work items closed in this period")
    plot = _Plot(nice_max(max(p90s)))
    parts = plot.grid(unit)
    slot = (plot.right - plot.left) / len(labels)
    bar = slot * 0.45
    centres = [plot.left + slot * (i + 0.5) for i in range(len(labels))]
    for x, name, median, p90 in zip(centres, labels, medians, p90s, strict=True):
        y_median, y_p90 = plot.y(median), plot.y(p90)
        parts.append(
            f'<rect x="{x - bar / 2:.1f}" y="{y_median:.1f}" width="{bar:.1f}" '
            f'height="{plot.bottom - y_median:.1f}" fill="{PALETTE[2]}"><title>{escape(name)} '
            f"median: {escape(_fmt(median))}{escape(unit)}</title></rect>"
        )
        parts.append(
            f'<line x1="{x:.1f}" y1="{y_median:.1f}" x2="{x:.1f}" y2="{y_p90:.1f}" '
            f'stroke="{PALETTE[7]}" stroke-width="1.5"/>'
        )
        parts.append(
            f'<line x1="{x - bar / 4:.1f}" y1="{y_p90:.1f}" x2="{x + bar / 4:.1f}" '
            f'y2="{y_p90:.1f}" stroke="{PALETTE[7]}" stroke-width="2"><title>{escape(name)} '
            f"90th percentile: {escape(_fmt(p90))}{escape(unit)}</title></line>"
        )
    parts += _x_labels(labels, centres, plot)
    parts += _legend(["median", "90th percentile (whisker)"], [PALETTE[2], PALETTE[7]], HEIGHT - 12)
    return _svg(parts, label)
