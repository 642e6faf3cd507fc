"""The receipt slip (回执, 接访有回执): tracking number, query code, what happens next and the
statutory clocks, in Chinese, as HTML (every value escaped) and as PDF (``shared.documents.pdf``:
reportlab with the built-in CID font ``STSong-Light``, no font file to ship)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from shared.clock import SHANGHAI
from shared.documents import pdf

SOURCE_LABELS = {"letter": "来信", "visit": "来访"}

# 《信访工作条例》(2022) statutory defaults; the case's own deadlines follow local policy.
NEXT_STEPS: tuple[str, ...] = (
    "信访部门自收到之日起15日内登记，并转送、交办有权处理的机关、单位（第二十二条）。",
    "有权处理的机关、单位自收到之日起15日内告知您是否受理（第二十三条）。",
    "受理后60日内办结；情况复杂的，经批准可适当延长，延长不超过30日，并告知延期理由（第三十四条）。",
    "对处理意见不服的，可自收到书面答复之日起30日内请求复查；"
    "对复查意见不服的，可自收到之日起30日内请求复核（第三十五条、第三十六条）。",
    "凭信访编号和查询码可查询办理进度。请妥善保管查询码，不要告知他人。",
)
FONT = pdf.FONT


@dataclass(frozen=True)
class Slip:
    tracking_no: str
    query_code: str
    received_at: datetime
    source: str
    title: str
    people_count: int
    # 首问负责: who registered it, at which desk — the petitioner's first contact
    registered_by: str | None = None
    registered_at_unit: str | None = None
    # the deadline the case runs on now (the tracking view's), with what it is for
    due_at: datetime | None = None
    due_for: str | None = None

    def rows(self) -> list[tuple[str, str]]:
        local = self.received_at.astimezone(SHANGHAI)
        out = [
            ("信访编号", self.tracking_no),
            ("查询码", self.query_code),
            ("登记方式", SOURCE_LABELS.get(self.source, self.source)),
            ("收到时间", local.strftime("%Y年%m月%d日 %H:%M")),
            ("事项", self.title),
        ]
        if self.source == "visit":
            out.append(("来访人数", f"{self.people_count}人"))
        if self.registered_at_unit:
            out.append(("登记单位", self.registered_at_unit))
        if self.registered_by:
            out.append(("登记人（首问负责）", self.registered_by))
        if self.due_at is not None:
            when = self.due_at.astimezone(SHANGHAI).strftime("%Y年%m月%d日")
            out.append(("当前办理期限", f"{when}前{self.due_for or ''}"))
        return out


TITLE = "信访事项登记回执"


def render_html(slip: Slip) -> str:
    e = html.escape
    rows = "\n".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in slip.rows())
    steps = "\n".join(f"<li>{e(s)}</li>" for s in NEXT_STEPS)
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>{e(TITLE)}</title>
<style>
body {{ font-family: "SimSun", "Songti SC", serif; max-width: 40em; margin: 2em auto; }}
h1 {{ text-align: center; font-size: 1.4em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #444; padding: .4em .6em; text-align: left; }}
th {{ width: 7em; background: #f3f3f3; }}
</style>
</head>
<body>
<h1>{e(TITLE)}</h1>
<table>
{rows}
</table>
<h2>后续办理与时限</h2>
<ol>
{steps}
</ol>
</body>
</html>
"""


def render_pdf(slip: Slip) -> bytes:
    """CPU-bound (tens of ms): call it in a worker thread."""
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    body = pdf.style("body", 10, 15)
    head = pdf.style("head", 16, 22, alignment=1)
    sub = pdf.style("sub", 12, 18)
    x = pdf.escape
    table = Table(
        [[Paragraph(x(k), body), Paragraph(x(v), body)] for k, v in slip.rows()],
        colWidths=[22 * mm, 98 * mm],
    )
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "#444444")]))
    story = [
        Paragraph(x(TITLE), head),
        Spacer(1, 4 * mm),
        table,
        Spacer(1, 4 * mm),
        Paragraph("后续办理与时限", sub),
        *(Paragraph(f"{i}. {x(s)}", body) for i, s in enumerate(NEXT_STEPS, 1)),
    ]
    return pdf.build(story, title=TITLE, pagesize=A5, margins_mm=(12, 12, 12, 12))
