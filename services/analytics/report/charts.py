"""Simple charts for the reports, twice: inline SVG for the HTML (no script, no dependency) and
reportlab.graphics drawings for the PDF (bar and line charts in the CJK font).

A chart is ``(label, value)`` pairs; a bar chart shows categories, a line chart a series over
time. Both scale to the largest value (at least 1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from shared.documents.pdf import cjk_font

BLUE = "#2f6fb0"


@dataclass(frozen=True)
class Chart:
    kind: str  # bar | line
    title: str
    points: tuple[tuple[str, float], ...]


def _top(values: Sequence[float]) -> float:
    return max([1.0, *values])


def svg(chart: Chart, width: int = 640, height: int = 220) -> str:
    """The chart as an inline ``<svg>`` element (text escaped)."""
    left, right, top, bottom = 40, 10, 24, 46
    w, h = width - left - right, height - top - bottom
    values = [v for _, v in chart.points]
    peak = _top(values)
    n = max(1, len(chart.points))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(chart.title)}">',
        f'<text x="{left}" y="16" font-size="13">{escape(chart.title)}</text>',
        f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{peak:g}</text>',
        f'<text x="{left - 4}" y="{top + h}" font-size="10" text-anchor="end">0</text>',
    ]
    step = w / n
    label_every = max(1, n // 16)
    if chart.kind == "bar":
        bar = step * 0.7
        for i, (label, v) in enumerate(chart.points):
            x = left + i * step + (step - bar) / 2
            bh = h * v / peak
            parts.append(
                f'<rect x="{x:.1f}" y="{top + h - bh:.1f}" width="{bar:.1f}" '
                f'height="{bh:.1f}" fill="{BLUE}"><title>{escape(label)}: {v:g}</title></rect>'
            )
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{top + h - bh - 2:.1f}" font-size="10" '
                f'text-anchor="middle">{v:g}</text>'
            )
    else:
        coords = [
            (left + i * step + step / 2, top + h - h * v / peak)
            for i, (_, v) in enumerate(chart.points)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
        for (x, y), (label, v) in zip(coords, chart.points, strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{BLUE}">'
                f"<title>{escape(label)}: {v:g}</title></circle>"
            )
    for i, (label, _) in enumerate(chart.points):
        if i % label_every:
            continue
        x = left + i * step + step / 2
        parts.append(
            f'<text x="{x:.1f}" y="{top + h + 14}" font-size="10" text-anchor="middle">'
            f"{escape(label[:8])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def drawing(chart: Chart, width: float = 480, height: float = 180) -> Drawing:
    """The chart as a reportlab drawing (a flowable of the PDF story)."""
    font = cjk_font()
    d = Drawing(width, height)
    d.add(String(0, height - 12, chart.title, fontName=font, fontSize=10))
    values = [float(v) for _, v in chart.points] or [0.0]
    labels = [label[:6] for label, _ in chart.points] or [""]
    plot: VerticalBarChart | HorizontalLineChart
    if chart.kind == "bar":
        plot = VerticalBarChart()
        plot.bars[0].fillColor = colors.HexColor(BLUE)
    else:
        plot = HorizontalLineChart()
        plot.lines[0].strokeColor = colors.HexColor(BLUE)
        plot.lines[0].strokeWidth = 1.5
    plot.x, plot.y = 36, 30
    plot.width, plot.height = width - 50, height - 56
    plot.data = [values]
    plot.valueAxis.valueMin = 0
    plot.valueAxis.valueMax = _top(values)
    plot.valueAxis.labels.fontName = font
    plot.valueAxis.labels.fontSize = 7
    plot.categoryAxis.categoryNames = labels
    plot.categoryAxis.labels.fontName = font
    plot.categoryAxis.labels.fontSize = 7
    if len(labels) > 10:
        plot.categoryAxis.labels.angle = 45
        plot.categoryAxis.labels.boxAnchor = "ne"
    d.add(plot)
    return d
