"""The three reports as documents (``document.py``) from the report data (``service.py``), the
screening ledger and the hotspots:

* 日快报 — yesterday 12:00 to today 12:00: volumes, by channel and category, urgent and
  sensitive items.
* 周预警 — the seven days to ``end``: daily trend over two weeks, categories against the week
  before, rising categories, the week's hotspots, new risks of the screening ledger.
* 月研判 — the month: key figures with the same month a year earlier (YoY), the trend of the
  last twelve months, categories, districts, hotspots, the ledger's risks, unit rankings.

Scoped like every read: figures within ``scope``; item lists, breakdowns, hotspots and ledger
items leave out accusations except for discipline inspectors."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics import casetext
from services.analytics.metric import service as metric
from services.analytics.metric.definitions import RATES, VOLUMES
from services.analytics.report import service
from services.analytics.report.charts import Chart
from services.analytics.report.document import Cell, Document, Section
from services.analytics.report.xlsx import unit_label, unit_names
from services.analytics.screening.service import ledger_rows
from services.analytics.text.hotspots import hotspots
from shared.clock import SHANGHAI
from shared.reference import categories, regions
from shared.settings import Settings

KINDS = ("daily", "weekly", "monthly")
TITLES = {"daily": "信访日快报", "weekly": "信访周预警", "monthly": "信访月研判"}
LEVELS = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
CHANNELS = {
    "web": "网上",
    "app": "移动端",
    "wechat": "微信",
    "online": "网上",
    "email": "电子邮件",
    "phone": "来电",
    "sms": "短信",
    "letter": "来信",
    "visit": "来访",
    "unknown": "未注明渠道",
}
KEY_RATES = (
    "timely_acceptance",
    "reply_on_time",
    "closure",
    "resolution",
    "one_time_resolution",
    "satisfaction_unit",
    "hotline_satisfaction",
    "supervised_on_time",
    "leader_case_resolution",
)


def region_label(scope: metric.Scope) -> str:
    names = []
    for p in scope.prefixes:
        code = p.ljust(6, "0") if len(p) < 6 else p
        names.append(regions.full_name(code) or p)
    return "、".join(names) or "（无管辖范围）"


def category_label(code: str) -> str:
    """A category's name; 未分类 for a case with no category (``unknown`` in the data)."""
    if not code or code == "unknown":
        return "未分类"
    cat = categories.get(code)
    return cat.name if cat else code


def district_label(code: str) -> str:
    r = regions.get(code)
    return r.name if r else code


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def change(current: float, previous: float) -> str:
    if not previous:
        return "—"
    return f"{(current - previous) / previous * 100:+.1f}%"


def _local(t: datetime | None) -> str:
    return t.astimezone(SHANGHAI).strftime("%m-%d %H:%M") if t else ""


async def _hotspot_section(
    db: AsyncConnection, scope: metric.Scope, start: date, end: date, top: int = 5
) -> Section:
    a = datetime.combine(start, time(), SHANGHAI)
    b = datetime.combine(end + timedelta(days=1), time(), SHANGHAI)
    found: list[Any] = []
    if scope.prefixes:
        loaded = await casetext.load(
            db, prefixes=scope.prefixes, accusations=scope.accusations_in_breakdowns, start=a, end=b
        )
        found = await asyncio.to_thread(hotspots, [p for p, _ in loaded], a, b, top)
    return Section(
        "热点问题",
        paragraphs=["按话题、地点与时间聚类，按规模、增长与关注度排序。"],
        header=["排名", "热点", "件数", "人数", "增长", "代表性标题"],
        rows=[
            [h.rank, h.name, h.size, h.people, f"{h.growth:.2f}", h.titles[0] if h.titles else ""]
            for h in found
        ],
        empty="本期无热点（同一地点或事项的诉求少于三人）。",
    )


async def _ledger(
    db: AsyncConnection, scope: metric.Scope, start: date, end: date
) -> list[dict[str, Any]]:
    """The ledger items of the period, each owner unit by its name where known."""
    if not scope.prefixes:
        return []
    rows = await ledger_rows(
        db,
        prefixes=scope.prefixes,
        accusations=scope.accusations_in_breakdowns,
        start=start,
        end=end,
        status=None,
        level=None,
    )
    units = await unit_names(db)
    return [{**r, "owner_unit": unit_label(r["owner_unit"], units)} for r in rows]


def _risk_section(items: list[dict[str, Any]], heading: str) -> Section:
    by_level = {lv: sum(1 for i in items if i["level"] == lv) for lv in LEVELS}
    summary = "，".join(f"{LEVELS[lv]}{n}件" for lv, n in by_level.items() if n) or "无"
    return Section(
        heading,
        paragraphs=[f"排查台账新增风险事项 {len(items)} 件：{summary}。"],
        header=["等级", "事项", "风险原因", "责任单位", "化解期限", "状态"],
        rows=[
            [
                LEVELS.get(i["level"], i["level"]),
                i["matter"],
                "；".join(i["reasons"]),
                i["owner_unit"],
                i["due_on"].isoformat(),
                "在办" if i["status"] == "open" else "已销号",
            ]
            for i in items[:30]
        ],
        empty="本期无新增风险事项。",
    )


async def daily(db: AsyncConnection, scope: metric.Scope, day: date) -> Document:
    brief = await service.daily_brief(db, scope, day)
    v = brief.volumes
    doc = Document(
        "daily",
        TITLES["daily"],
        f"{region_label(scope)}　{brief.start.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 至 "
        f"{brief.end.astimezone(SHANGHAI):%Y-%m-%d %H:%M}",
    )
    doc.sections.append(
        Section(
            "一、总体情况",
            paragraphs=[
                f"本期共收到信访事项 {v['received']} 件、{v['people']} 人次，其中集体件 "
                f"{v['collective']} 件、重复件 {v['repeat']} 件、初信初访 "
                f"{v['first_petition']} 件；紧急事项 {len(brief.urgent)} 件，敏感事项 "
                f"{len(brief.sensitive)} 件。"
            ],
            header=["指标", "数量"],
            rows=[[VOLUMES[k], v[k]] for k in VOLUMES],
        )
    )
    channels = sorted(brief.by_channel.items(), key=lambda kv: (-kv[1], kv[0]))
    cats = sorted(brief.by_category.items(), key=lambda kv: (-kv[1], kv[0]))
    doc.sections.append(
        Section(
            "二、渠道与类别",
            charts=[
                Chart("bar", "按渠道（件）", tuple((CHANNELS.get(k, k), n) for k, n in channels)),
                Chart("bar", "按类别（件）", tuple((category_label(k), n) for k, n in cats)),
            ],
            header=["类别", "件数"],
            rows=[[category_label(k), n] for k, n in cats],
        )
    )
    for heading, items in (("三、紧急事项", brief.urgent), ("四、敏感事项", brief.sensitive)):
        doc.sections.append(
            Section(
                heading,
                header=["编号", "标题", "地区", "类别", "收件时间", "提示"],
                rows=[
                    [
                        i.tracking_no or i.case_id,
                        i.title or "",
                        regions.full_name(i.region_code or "") or (i.region_code or ""),
                        category_label(i.category_code or ""),
                        _local(i.received_at),
                        "；".join(i.reasons),
                    ]
                    for i in items
                ],
            )
        )
    return doc


async def weekly(
    db: AsyncConnection, scope: metric.Scope, settings: Settings, end: date
) -> Document:
    w = await service.weekly_warning(db, scope, settings, end)
    prev_start = w.start - timedelta(days=7)
    received = w.totals.volumes["received"]
    before = w.totals.volumes_previous["received"]
    doc = Document(
        "weekly",
        TITLES["weekly"],
        f"{region_label(scope)}　{w.start.isoformat()} 至 {w.end.isoformat()}",
    )
    days = await metric.sum_counters(db, scope, prev_start, w.end, "day")
    series = []
    d = prev_start
    while d <= w.end:
        series.append((d.strftime("%m-%d"), days.get(d.isoformat(), {}).get("received", 0)))
        d += timedelta(days=1)
    doc.sections.append(
        Section(
            "一、本周态势",
            paragraphs=[
                f"本周收件 {received:g} 件，上周 {before:g} 件，环比 {change(received, before)}。"
            ],
            charts=[Chart("line", "近两周每日收件（件）", tuple(series))],
        )
    )
    doc.sections.append(
        Section(
            "二、类别变化",
            charts=[
                Chart(
                    "bar",
                    "本周按类别（件）",
                    tuple((category_label(t.key), t.current) for t in w.by_category if t.current),
                )
            ],
            header=["类别", "本周", "上周", "环比"],
            rows=[
                [category_label(t.key), t.current, t.previous, change(t.current, t.previous)]
                for t in w.by_category
            ],
            empty="本周无收件。",
        )
    )
    doc.sections.append(
        Section(
            "三、上升预警",
            header=["类别", "本周", "上周", "增加"],
            rows=[
                [category_label(t.key), t.current, t.previous, t.current - t.previous]
                for t in w.rising
            ],
            empty="无明显上升的类别（本周不少于三件且多于上周）。",
        )
    )
    doc.sections.append(await _hotspot_section(db, scope, w.start, w.end))
    risk = _risk_section(await _ledger(db, scope, w.start, w.end), "五、新增风险")
    signals = {
        "collective": "集体件",
        "repeat": "重复件",
        "deadline_missed": "超期",
        "extended": "延期",
        "review_requested": "申请复查",
        "dissatisfied": "不满意",
        "supervised_overdue": "督办逾期",
        "leader_overdue": "包案逾期",
    }
    risk.paragraphs.append(
        "风险信号：" + "，".join(f"{name} {w.risks.get(k, 0):g}" for k, name in signals.items())
    )
    doc.sections.append(risk)
    return doc


async def monthly(
    db: AsyncConnection, scope: metric.Scope, settings: Settings, month: str
) -> Document:
    m = await service.monthly_analysis(db, scope, settings, month)
    start, end = service.month_range(month)
    t = m.totals
    doc = Document("monthly", TITLES["monthly"], f"{region_label(scope)}　{month}")
    received, before = t.volumes["received"], t.volumes_previous["received"]
    rows: list[list[Cell]] = [["收件总量（件）", received, before, change(received, before)]]
    for code in KEY_RATES:
        f = t.rates[code]
        rows.append(
            [
                RATES[code].name,
                f"{pct(f.value)}（{f.numerator:g}/{f.denominator:g}）",
                pct(f.previous),
                "—" if f.change is None else f"{f.change * 100:+.1f}个百分点",
            ]
        )
    doc.sections.append(
        Section(
            "一、主要指标与同比",
            paragraphs=[
                f"本月收件 {received:g} 件，去年同月 {before:g} 件，"
                f"同比 {change(received, before)}。"
            ],
            header=["指标", "本月", "去年同期", "同比"],
            rows=rows,
        )
    )
    year_start = (start.replace(day=1) - timedelta(days=330)).replace(day=1)
    months = await metric.sum_counters(db, scope, year_start, end, "month")
    trend = tuple((k, v.get("received", 0)) for k, v in sorted(months.items()))
    days = await metric.sum_counters(db, scope, start, end, "day")
    daily_series = tuple(
        ((start + timedelta(days=i)).strftime("%d"), 0.0) for i in range((end - start).days + 1)
    )
    daily_series = tuple(
        (label, days.get((start + timedelta(days=i)).isoformat(), {}).get("received", 0))
        for i, (label, _) in enumerate(daily_series)
    )
    doc.sections.append(
        Section(
            "二、趋势",
            charts=[
                Chart("line", "近十二个月收件（件）", trend),
                Chart("bar", "本月每日收件（件）", daily_series),
            ],
        )
    )
    doc.sections.append(
        Section(
            "三、类别分析",
            charts=[
                Chart(
                    "bar",
                    "按类别（件）",
                    tuple((category_label(r.key), r.volumes["received"]) for r in m.by_category),
                )
            ],
            header=["类别", "本月", "去年同期", "同比", "办结率", "化解率"],
            rows=[
                [
                    category_label(r.key),
                    r.volumes["received"],
                    r.volumes_previous["received"],
                    change(r.volumes["received"], r.volumes_previous["received"]),
                    pct(r.rates["closure"].value),
                    pct(r.rates["resolution"].value),
                ]
                for r in m.by_category
            ],
        )
    )
    doc.sections.append(
        Section(
            "四、地区分析",
            header=["地区", "本月", "去年同期", "同比", "办结率", "满意率"],
            rows=[
                [
                    district_label(r.key),
                    r.volumes["received"],
                    r.volumes_previous["received"],
                    change(r.volumes["received"], r.volumes_previous["received"]),
                    pct(r.rates["closure"].value),
                    pct(r.rates["satisfaction_unit"].value),
                ]
                for r in m.by_region
            ],
        )
    )
    hot = await _hotspot_section(db, scope, start, end)
    hot.heading = "五、热点问题"
    doc.sections.append(hot)
    doc.sections.append(_risk_section(await _ledger(db, scope, start, end), "六、风险研判"))
    ranking_rows: list[list[Cell]] = []
    for code, ranked in m.rankings.items():
        for position, r in ranked[:10]:
            f = r.rates[code]
            ranking_rows.append(
                [
                    RATES[code].name,
                    position,
                    r.key,
                    pct(f.value),
                    f"{f.numerator:g}/{f.denominator:g}",
                ]
            )
    doc.sections.append(
        Section(
            "七、单位排名",
            paragraphs=[f"样本不少于 {settings.analytics_ranking_min_cases} 件的单位参与排名。"],
            header=["指标", "名次", "单位", "比率", "分子/分母"],
            rows=ranking_rows,
            empty="本月无达到样本量的单位。",
        )
    )
    return doc


def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


def default_date(kind: str, today: date) -> date:
    """The default report date: today's 日快报, the week to yesterday, last month."""
    if kind == "daily":
        return today
    if kind == "weekly":
        return today - timedelta(days=1)
    return today.replace(day=1) - timedelta(days=1)


def period_of(kind: str, day: date) -> tuple[date, date]:
    """The period a report of ``kind`` dated ``day`` covers (for the archive)."""
    if kind == "daily":
        return day, day
    if kind == "weekly":
        return day - timedelta(days=6), day
    return service.month_range(month_of(day))


async def build(
    db: AsyncConnection, kind: str, scope: metric.Scope, settings: Settings, day: date
) -> Document:
    if kind == "daily":
        return await daily(db, scope, day)
    if kind == "weekly":
        return await weekly(db, scope, settings, day)
    if kind == "monthly":
        return await monthly(db, scope, settings, month_of(day))
    raise ValueError(kind)
