"""The offices' statistics tables as spreadsheets (openpyxl):

* 信访数据统计表 — volumes and every rate (numerator, denominator, rate, the same period last
  year) in one sheet per grouping: by district, by category, by handling unit (by its name
  as casework's events gave it, ``analytics.unit_label``; the id when none is known);
* 矛盾纠纷排查表 — the screening ledger's items (排查台账);
* 排查汇总统计分析一览表 — ledger items by level × category × district;
* 化解汇总统计分析一览表 — 办结率, 化解率, 一次性化解率 by district and by category, from the
  rollups, with the same period a year earlier;
* 包案化解情况表 — the 领导包案 cases one by one (leader, lead unit, deadline, state), and
  包案化解率 with its counts by district, category and handling unit."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.metric import service as metric
from services.analytics.metric.definitions import RATES, VOLUMES
from shared.clock import SHANGHAI
from shared.reference import categories, regions
from shared.settings import Settings
from shared.text import printable

_SHEETS = (("按地区", "region"), ("按类别", "category_top"), ("按责任单位", "unit"))


# what a group key of "not known" (counters.dimension_values) is shown as
UNKNOWN = {
    "region": "未注明地区",
    "category_top": "未分类",
    "category": "未分类",
    "unit": "未指定单位",
}


def _label(group: str, key: str, units: Mapping[str, str] | None = None) -> str:
    """A group key as the tables show it: 合计, a region's full name, a category's name, a
    unit's name (as casework's events gave it; the id when none is known)."""
    if key == "all":
        return "合计"
    if key == "unknown":
        return UNKNOWN.get(group, "未注明")
    if group == "region":
        name = regions.full_name(key)
        return f"{name}（{key}）" if name else key
    if group in ("category_top", "category"):
        cat = categories.get(key)
        return cat.name if cat else key
    if group in ("unit", "office"):
        return unit_label(key, units or {})
    return key


def unit_label(unit_id: str, units: Mapping[str, str]) -> str:
    """A unit's name when analytics has learnt it from casework's events, else its id."""
    return units.get(unit_id) or unit_id


async def unit_names(db: AsyncConnection) -> dict[str, str]:
    """Every unit name analytics knows (``analytics.unit_label``: one row per unit)."""
    rows = await db.execute(text("SELECT unit_id, name FROM analytics.unit_label"))
    return {r.unit_id: r.name for r in rows}


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
    units = await unit_names(db)
    for title, group in _SHEETS:
        ws = wb.create_sheet(title)
        _append(ws, [f"信访数据统计表（{start.isoformat()} 至 {end.isoformat()}）"])
        ws["A1"].font = Font(bold=True, size=14)
        header = ["分组"]
        header += [VOLUMES[k] for k in VOLUMES] + ["去年同期收件", "收件同比"]
        for r in rates:
            header += [f"{r.name}分子", f"{r.name}分母", r.name, f"{r.name}去年同期"]
        header += ["12345综合评分"]
        _append(ws, header)
        for cell in ws[2]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True)
        rows = await metric.metrics(db, scope, settings, start, end, group, "district")
        for row in [*rows, *total]:
            line: list[object] = [_label(group, row.key, units)]
            line += [row.volumes.get(k, 0) for k in VOLUMES]
            before = row.volumes_previous.get("received", 0)
            line += [before, _pct((row.volumes["received"] - before) / before) if before else ""]
            for r in rates:
                f = row.rates[r.code]
                line += [f.numerator, f.denominator, _pct(f.value), _pct(f.previous)]
            line += ["" if row.hotline_score is None else round(row.hotline_score, 1)]
            _append(ws, line)
        ws.freeze_panes = "B3"
        ws.column_dimensions["A"].width = 28
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# 矛盾纠纷排查表, 排查汇总统计分析一览表, 化解汇总统计分析一览表

LEVELS = (("red", "红色"), ("orange", "橙色"), ("yellow", "黄色"), ("blue", "蓝色"))
_LEVEL_NAMES = dict(LEVELS)


def _sheet(wb: Workbook, title: str, heading: str, header: list[str]) -> Worksheet:
    ws = wb.create_sheet(title)
    _append(ws, [heading])
    ws["A1"].font = Font(bold=True, size=14)
    _append(ws, header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True)
    ws.freeze_panes = "B3"
    ws.column_dimensions["A"].width = 24
    return ws


def _append(ws: Worksheet, row: Iterable[Any]) -> None:
    """``ws.append`` of text XML can hold: a petition's title with a control character in it
    (from before intake dropped them, or from a partner's unit name) would otherwise make
    openpyxl refuse the whole table."""
    ws.append([printable(v) if isinstance(v, str) else v for v in row])


def _bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _new() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def _span(start: date, end: date) -> str:
    return f"（{start.isoformat()} 至 {end.isoformat()}）"


async def screening_table(
    db: AsyncConnection, scope: metric.Scope, start: date, end: date
) -> bytes:
    """矛盾纠纷排查表: each item of the screening ledger found in ``[start, end]``, most severe
    first."""
    from services.analytics.screening.service import ledger_rows

    rows = (
        await ledger_rows(
            db,
            prefixes=scope.prefixes,
            accusations=scope.accusations_in_breakdowns,
            start=start,
            end=end,
            status=None,
            level=None,
        )
        if scope.prefixes
        else []
    )
    units = await unit_names(db)
    wb = _new()
    ws = _sheet(
        wb,
        "矛盾纠纷排查表",
        "矛盾纠纷排查表" + _span(start, end),
        [
            "序号",
            "矛盾纠纷事项",
            "风险等级",
            "风险原因",
            "所在地区",
            "责任单位",
            "排查日期",
            "化解期限",
            "状态",
            "案件编号",
        ],
    )
    for n, r in enumerate(rows, start=1):
        _append(
            ws,
            [
                n,
                r["matter"],
                _LEVEL_NAMES.get(r["level"], r["level"]),
                "；".join(r["reasons"]),
                regions.full_name(r["region_code"] or "") or (r["region_code"] or ""),
                unit_label(r["owner_unit"], units),
                r["found_on"],
                r["due_on"],
                "在办" if r["status"] == "open" else "已销号",
                r["case_id"],
            ],
        )
    ws.column_dimensions["B"].width = 40
    return _bytes(wb)


async def screening_counts(
    db: AsyncConnection, scope: metric.Scope, start: date, end: date
) -> list[tuple[str, str, str, str, int]]:
    """(district, top category, level, status, items) of the ledger items found in the period."""
    if not scope.prefixes:
        return []
    acc = "" if scope.accusations_in_breakdowns else " AND NOT s.accusation"
    rows = await db.execute(
        text(
            "SELECT coalesce(substr(s.region_code, 1, 6), 'unknown'), "  # noqa: S608
            "coalesce(split_part(f.category_code, '.', 1), 'unknown'), s.level, s.status, "
            "count(*) FROM analytics.screening_item s "
            "LEFT JOIN analytics.case_fact f USING (case_id) "
            "WHERE s.region_code LIKE ANY(CAST(:prefixes AS text[])) "
            f"AND s.found_on BETWEEN :s AND :e{acc} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        ),
        {"prefixes": [p + "%" for p in scope.prefixes], "s": start, "e": end},
    )
    return [(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]


async def screening_summary(
    db: AsyncConnection, scope: metric.Scope, start: date, end: date
) -> bytes:
    """排查汇总统计分析一览表: ledger items by level × category × district, with totals, open
    and cleared."""
    counts = await screening_counts(db, scope, start, end)
    wb = _new()
    header_levels = [name for _, name in LEVELS]
    for title, key in (("按地区", 0), ("按类别", 1)):
        ws = _sheet(
            wb,
            title,
            "排查汇总统计分析一览表" + _span(start, end),
            ["地区" if key == 0 else "类别", *header_levels, "合计", "在办", "已销号"],
        )
        groups = sorted({str(c[key]) for c in counts})
        for g in [*groups, "all"]:
            mine = [c for c in counts if g == "all" or c[key] == g]
            label = _label("region" if key == 0 else "category_top", g)
            _append(
                ws,
                [
                    label,
                    *(sum(c[4] for c in mine if c[2] == lv) for lv, _ in LEVELS),
                    sum(c[4] for c in mine),
                    sum(c[4] for c in mine if c[3] == "open"),
                    sum(c[4] for c in mine if c[3] != "open"),
                ],
            )
    ws = _sheet(
        wb,
        "地区×类别",
        "排查汇总统计分析一览表" + _span(start, end),
        ["地区", "类别", *header_levels, "合计"],
    )
    for district, cat in sorted({(c[0], c[1]) for c in counts}):
        mine = [c for c in counts if (c[0], c[1]) == (district, cat)]
        _append(
            ws,
            [
                _label("region", district),
                _label("category_top", cat),
                *(sum(c[4] for c in mine if c[2] == lv) for lv, _ in LEVELS),
                sum(c[4] for c in mine),
            ],
        )
    return _bytes(wb)


RESOLUTION_RATES = ("closure", "resolution", "one_time_resolution")


async def resolution_summary(
    db: AsyncConnection, scope: metric.Scope, settings: Settings, start: date, end: date
) -> bytes:
    """化解汇总统计分析一览表: 办结率, 化解率, 一次性化解率 (numerator, denominator, rate, the
    same period last year) by district and by category, from the rollups."""
    wb = _new()
    total = await metric.metrics(db, scope, settings, start, end)
    header = ["分组", "收件", "应办结"]
    for code in RESOLUTION_RATES:
        name = RATES[code].name
        header += [f"{name}分子", name, f"{name}去年同期", f"{name}同比（百分点）"]
    for title, group in (("按地区", "region"), ("按类别", "category_top")):
        ws = _sheet(wb, title, "化解汇总统计分析一览表" + _span(start, end), header)
        rows = await metric.metrics(db, scope, settings, start, end, group, "district")
        for row in [*rows, *total]:
            line: list[object] = [
                _label(group, row.key),
                row.volumes.get("received", 0),
                row.rates["closure"].denominator,
            ]
            for code in RESOLUTION_RATES:
                f = row.rates[code]
                line += [
                    f.numerator,
                    _pct(f.value),
                    _pct(f.previous),
                    "" if f.change is None else round(f.change * 100, 1),
                ]
            _append(ws, line)
    return _bytes(wb)


# 包案化解情况表

_LEADER_SHEETS = (("按地区", "region"), ("按类别", "category_top"), ("按责任单位", "unit"))


def _leader_state(row: Any, now: datetime) -> str:
    if row.closed_at is not None:
        return "已化解" if row.resolved else "已办结未化解"
    if row.withdrawn_at is not None:
        return "已撤回"
    if row.resolve_by is not None and row.resolve_by < now:
        return "逾期未化解"
    return "在办"


async def leader_case_rows(
    db: AsyncConnection, scope: metric.Scope, start: date, end: date
) -> list[Any]:
    """The 包案 cases of the period (received in ``[start, end]``) within ``scope``; the
    accusations only for discipline roles."""
    if not scope.prefixes:
        return []
    acc = "" if scope.accusations_in_breakdowns else " AND NOT f.accusation"
    rows = await db.execute(
        text(
            "SELECT f.case_id, f.tracking_no, t.title, f.region_code, f.category_code, "  # noqa: S608
            "f.leader_id, f.leader_name, f.leader_unit_id, f.unit_id, f.office_unit_id, "
            "f.leader_at, f.resolve_by, f.closed_at, f.resolved, f.withdrawn_at "
            "FROM analytics.case_fact f LEFT JOIN analytics.case_text t USING (case_id) "
            "WHERE f.leader_at IS NOT NULL AND f.day BETWEEN :s AND :e "
            f"AND coalesce(f.region_code, 'unknown') LIKE ANY(CAST(:prefixes AS text[])){acc} "
            "ORDER BY f.resolve_by NULLS LAST, f.case_id"
        ),
        {"prefixes": [p + "%" for p in scope.prefixes], "s": start, "e": end},
    )
    return list(rows)


async def leader_cases_table(
    db: AsyncConnection,
    scope: metric.Scope,
    settings: Settings,
    start: date,
    end: date,
    as_of: datetime | None = None,
) -> bytes:
    """包案化解情况表 for ``[start, end]``: one sheet listing the 包案 cases, and 包案化解率
    (numerator, denominator, rate, the same period last year) with 包案件, 已办结, 按期化解 and
    逾期未化解 (as of ``as_of``, default now) by district, category and handling unit."""
    now = as_of or await db.scalar(text("SELECT now()"))
    units = await unit_names(db)
    wb = _new()
    ws = _sheet(
        wb,
        "包案化解情况表",
        "包案化解情况表" + _span(start, end),
        [
            "序号",
            "信访事项",
            "案件编号",
            "所在地区",
            "类别",
            "包案领导",
            "责任单位",
            "包案日期",
            "化解期限",
            "化解情况",
            "办结日期",
        ],
    )
    for n, r in enumerate(await leader_case_rows(db, scope, start, end), start=1):
        _append(
            ws,
            [
                n,
                r.title or "",
                r.tracking_no or r.case_id,
                regions.full_name(r.region_code or "") or (r.region_code or ""),
                _label("category_top", (r.category_code or "unknown").split(".", 1)[0]),
                r.leader_name or r.leader_id,
                unit_label(r.leader_unit_id or r.unit_id or r.office_unit_id or "", units),
                _local_day(r.leader_at),
                _local_day(r.resolve_by),
                _leader_state(r, now),
                _local_day(r.closed_at),
            ],
        )
    ws.column_dimensions["B"].width = 40
    rate = RATES["leader_case_resolution"]
    header = [
        "分组",
        "包案件数",
        "已办结",
        f"{rate.name}分子（已化解）",
        f"{rate.name}分母（应化解）",
        rate.name,
        f"{rate.name}去年同期",
        f"{rate.name}同比（百分点）",
        "按期化解",
        "逾期未化解",
    ]
    total = await metric.metrics(db, scope, settings, start, end, as_of=now)
    for title, group in _LEADER_SHEETS:
        ws = _sheet(wb, title, "包案化解情况表" + _span(start, end), header)
        rows = await metric.metrics(db, scope, settings, start, end, group, "district", now)
        for row in [*(r for r in rows if r.volumes.get("leader_cases")), *total]:
            f = row.rates[rate.code]
            _append(
                ws,
                [
                    _label(group, row.key, units),
                    row.volumes.get("leader_cases", 0),
                    row.volumes.get("leader_closed", 0),
                    f.numerator,
                    f.denominator,
                    _pct(f.value),
                    _pct(f.previous),
                    "" if f.change is None else round(f.change * 100, 1),
                    row.volumes.get("leader_resolved_by_due", 0),
                    row.volumes.get("leader_overdue", 0),
                ],
            )
    return _bytes(wb)


def _local_day(t: datetime | None) -> date | None:
    return t.astimezone(SHANGHAI).date() if t is not None else None
