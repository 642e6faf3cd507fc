"""The offices' statistics tables as spreadsheets (openpyxl): 信访数据统计表 — volumes and
every rate (numerator, denominator, rate, the same period last year) in one sheet per
grouping: by district, by category, by handling unit."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.metric import service as metric
from services.analytics.metric.definitions import RATES, VOLUMES
from shared.reference import categories, regions
from shared.settings import Settings

_SHEETS = (("按地区", "region"), ("按类别", "category_top"), ("按责任单位", "unit"))


def _label(group: str, key: str) -> str:
    if key == "all":
        return "合计"
    if group == "region":
        name = regions.full_name(key)
        return f"{name}（{key}）" if name else key
    if group == "category_top":
        cat = categories.get(key)
        return cat.name if cat else key
    return key


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v * 100:.1f}%"


async def statistics_table(
    db: AsyncConnection, scope: metric.Scope, settings: Settings, start: date, end: date
) -> bytes:
    """信访数据统计表 for ``[start, end]`` as .xlsx bytes."""
    wb = Workbook()
    wb.remove(wb.active)
    rates = [r for r in RATES.values() if r.available]
    total = await metric.metrics(db, scope, settings, start, end)
    for title, group in _SHEETS:
        ws = wb.create_sheet(title)
        ws.append([f"信访数据统计表（{start.isoformat()} 至 {end.isoformat()}）"])
        ws["A1"].font = Font(bold=True, size=14)
        header = ["分组"]
        header += [VOLUMES[k] for k in VOLUMES] + ["去年同期收件", "收件同比"]
        for r in rates:
            header += [f"{r.name}分子", f"{r.name}分母", r.name, f"{r.name}去年同期"]
        header += ["12345综合评分"]
        ws.append(header)
        for cell in ws[2]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True)
        rows = await metric.metrics(db, scope, settings, start, end, group, "district")
        for row in [*rows, *total]:
            line: list[object] = [_label(group, row.key)]
            line += [row.volumes.get(k, 0) for k in VOLUMES]
            before = row.volumes_previous.get("received", 0)
            line += [before, _pct((row.volumes["received"] - before) / before) if before else ""]
            for r in rates:
                f = row.rates[r.code]
                line += [f.numerator, f.denominator, _pct(f.value), _pct(f.previous)]
            line += ["" if row.hotline_score is None else round(row.hotline_score, 1)]
            ws.append(line)
        ws.freeze_panes = "B3"
        ws.column_dimensions["A"].width = 28
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
