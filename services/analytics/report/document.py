"""A report as a small document — title, sections of paragraphs, tables and charts — and its two
renderings: HTML (Jinja2, charts as inline SVG) and PDF (reportlab in STSong-Light via
``shared.documents.pdf``, charts as reportlab drawings). The builders in ``render.py`` fill
it; neither rendering queries anything, so the HTML and the PDF of a report hold the same
figures."""

from __future__ import annotations

from dataclasses import dataclass, field

import jinja2
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from services.analytics.report.charts import Chart, drawing, svg
from shared.documents import pdf

Cell = str | int | float


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    empty: str = "无"  # shown instead of a table with a header and no rows


@dataclass
class Document:
    kind: str  # daily | weekly | monthly
    title: str
    subtitle: str  # the region and the period
    sections: list[Section] = field(default_factory=list)


def fmt(v: Cell) -> str:
    if isinstance(v, float):
        return f"{v:g}" if v == int(v) else f"{v:.2f}"
    return str(v)


_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ doc.title }}</title>
<style>
body{font-family:"Songti SC","SimSun","Noto Serif CJK SC",serif;margin:2em auto;max-width:980px;
color:#222}
h1{text-align:center;font-size:1.6em;margin-bottom:.2em}
.subtitle{text-align:center;color:#555;margin-top:0}
h2{border-bottom:1px solid #ccc;font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #bbb;padding:3px 8px;text-align:left}th{background:#eef3f8}
td.n{text-align:right}.chart{display:block;margin:.5em 0}
</style></head><body>
<h1>{{ doc.title }}</h1><p class="subtitle">{{ doc.subtitle }}</p>
{% for s in doc.sections %}<section><h2>{{ s.heading }}</h2>
{% for p in s.paragraphs %}<p>{{ p }}</p>
{% endfor %}{% for c in s.charts %}{{ svg(c) | safe }}
{% endfor %}{% if s.header %}{% if s.rows %}<table><thead><tr>
{% for h in s.header %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for r in s.rows %}<tr>{% for v in r %}
<td{% if v is number %} class="n"{% endif %}>{{ fmt(v) }}</td>
{% endfor %}</tr>
{% endfor %}</tbody></table>{% else %}<p>{{ s.empty }}</p>{% endif %}{% endif %}
</section>
{% endfor %}</body></html>
"""

_env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)
_template = _env.from_string(_TEMPLATE)


def html(doc: Document) -> str:
    return _template.render(doc=doc, svg=svg, fmt=fmt)


def _table(section: Section, width: float) -> Table:
    font = pdf.cjk_font()
    cell = pdf.style("cell", 8, 11)
    head = pdf.style("head", 8, 11)
    data = [[Paragraph(pdf.escape(h), head) for h in section.header]]
    data += [[Paragraph(pdf.escape(fmt(v)), cell) for v in r] for r in section.rows]
    table = Table(data, repeatRows=1, colWidths=[width / len(section.header)] * len(section.header))
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef3f8")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def pdf_bytes(doc: Document) -> bytes:
    """The PDF (deterministic: the same document gives the same bytes)."""
    title = pdf.style("title", 18, 26, alignment=1)
    subtitle = pdf.style("subtitle", 10, 15, alignment=1, textColor=colors.HexColor("#555555"))
    h2 = pdf.style("h2", 12, 18, spaceBefore=8, spaceAfter=4)
    body = pdf.style("body", 9.5, 14)
    width = 186 * mm
    story: list[Flowable] = [
        Paragraph(pdf.escape(doc.title), title),
        Paragraph(pdf.escape(doc.subtitle), subtitle),
        Spacer(1, 4 * mm),
    ]
    for s in doc.sections:
        story.append(Paragraph(pdf.escape(s.heading), h2))
        story += [Paragraph(pdf.escape(p), body) for p in s.paragraphs]
        story += [drawing(c, width=width) for c in s.charts]
        if s.header:
            story.append(_table(s, width) if s.rows else Paragraph(pdf.escape(s.empty), body))
    return pdf.build(story, title=doc.title)
