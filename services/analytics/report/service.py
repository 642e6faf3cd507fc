"""The data of the reports (domain §5): 日快报 (yesterday 12:00 to today 12:00: volumes, urgent
and sensitive items), 周预警 (the week's trend by category, rising categories, new risk
signals) and 月研判 (the month's figures with year-on-year change and unit rankings).

Totals count every case in the caller's jurisdiction; item lists and breakdowns leave out
accusations except for discipline inspectors (see ``metric.service``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.metric import service as metric
from services.analytics.metric.counters import is_repeat
from services.analytics.metric.definitions import VOLUMES
from shared.clock import SHANGHAI
from shared.reference import categories
from shared.settings import Settings


def brief_window(day: date) -> tuple[datetime, datetime]:
    """日快报 of ``day``: from 12:00 the day before to 12:00 of ``day`` (Asia/Shanghai)."""
    end = datetime.combine(day, time(12, 0), tzinfo=SHANGHAI)
    return end - timedelta(days=1), end


def _region_sql(scope: metric.Scope) -> tuple[str, dict[str, Any]]:
    cond = " OR ".join(f"f.region_code LIKE :p{i}" for i in range(len(scope.prefixes)))
    return f"({cond})", {f"p{i}": p + "%" for i, p in enumerate(scope.prefixes)}


@dataclass
class Item:
    case_id: str
    tracking_no: str | None
    title: str | None
    region_code: str | None
    category_code: str | None
    received_at: datetime | None
    reasons: list[str]


@dataclass
class DailyBrief:
    day: date
    start: datetime
    end: datetime
    volumes: dict[str, int]
    by_channel: dict[str, int]
    by_category: dict[str, int]
    urgent: list[Item] = field(default_factory=list)
    sensitive: list[Item] = field(default_factory=list)


def _reasons(row: Any) -> list[str]:
    reasons = []
    if row.collective:
        reasons.append("集体访")
    if is_repeat(row._mapping):
        reasons.append("重复信访")
    cat = categories.get(row.category_code) if row.category_code else None
    if cat is not None and cat.high_risk:
        reasons.append(f"高风险类别：{cat.name}")
    if row.accusation:
        reasons.append("检举控告")
    return reasons


async def daily_brief(db: AsyncConnection, scope: metric.Scope, day: date) -> DailyBrief:
    start, end = brief_window(day)
    brief = DailyBrief(day, start, end, dict.fromkeys(VOLUMES, 0), {}, {})
    if not scope.prefixes:
        return brief
    region, params = _region_sql(scope)
    rows = (
        await db.execute(
            text(
                "SELECT f.*, t.title FROM analytics.case_fact f "  # noqa: S608
                "LEFT JOIN analytics.case_text t USING (case_id) "
                f"WHERE f.received_at >= :a AND f.received_at < :b AND {region} "
                "ORDER BY f.received_at"
            ),
            {**params, "a": start, "b": end},
        )
    ).all()
    from services.analytics.metric.counters import counts

    for row in rows:
        c = counts(dict(row._mapping))
        for k in VOLUMES:
            brief.volumes[k] += c.get(k, 0)
        if row.accusation and not scope.accusations_in_breakdowns:
            continue
        brief.by_channel[row.channel or "unknown"] = (
            brief.by_channel.get(row.channel or "unknown", 0) + 1
        )
        top = (row.category_code or "unknown").split(".", 1)[0]
        brief.by_category[top] = brief.by_category.get(top, 0) + 1
        item = Item(
            row.case_id,
            row.tracking_no,
            row.title,
            row.region_code,
            row.category_code,
            row.received_at,
            _reasons(row),
        )
        if row.urgency in ("urgent", "emergency"):
            brief.urgent.append(item)
        if item.reasons:
            brief.sensitive.append(item)
    return brief


@dataclass
class Trend:
    key: str
    current: float
    previous: float

    @property
    def growth(self) -> float | None:
        return None if not self.previous else (self.current - self.previous) / self.previous


@dataclass
class WeeklyWarning:
    start: date
    end: date
    totals: metric.Row
    by_category: list[Trend]
    rising: list[Trend]
    risks: dict[str, float]


async def weekly_warning(
    db: AsyncConnection, scope: metric.Scope, settings: Settings, end: date
) -> WeeklyWarning:
    """周预警 of the seven days ending ``end``, against the seven before."""
    start = end - timedelta(days=6)
    prev_start, prev_end = start - timedelta(days=7), start - timedelta(days=1)
    now = await metric.sum_counters(db, scope, start, end, "category_top")
    before = await metric.sum_counters(db, scope, prev_start, prev_end, "category_top")
    trends = [
        Trend(k, now.get(k, {}).get("received", 0), before.get(k, {}).get("received", 0))
        for k in sorted(set(now) | set(before))
    ]
    total = await metric.sum_counters(db, scope, start, end)
    total_before = await metric.sum_counters(db, scope, prev_start, prev_end)
    current = total.get("all", {})
    risks = {
        k: current.get(k, 0)
        for k in (
            "collective",
            "repeat",
            "deadline_missed",
            "extended",
            "review_requested",
            "supervised_overdue",
            "leader_overdue",
        )
    }
    risks["dissatisfied"] = current.get("unit_dissatisfied", 0) + current.get(
        "office_dissatisfied", 0
    )
    rising = sorted(
        (t for t in trends if t.current > t.previous and t.current >= 3),
        key=lambda t: (-(t.current - t.previous), t.key),
    )
    return WeeklyWarning(
        start,
        end,
        metric.figures(current, total_before.get("all"), settings),
        trends,
        rising[:10],
        risks,
    )


@dataclass
class MonthlyAnalysis:
    month: str
    totals: metric.Row
    by_category: list[metric.Row]
    by_region: list[metric.Row]
    rankings: dict[str, list[tuple[int, metric.Row]]]


RANKED_RATES = ("satisfaction_unit", "closure", "reply_on_time", "one_time_resolution")


def month_range(month: str) -> tuple[date, date]:
    first = date.fromisoformat(month + "-01")
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, nxt - timedelta(days=1)


async def monthly_analysis(
    db: AsyncConnection, scope: metric.Scope, settings: Settings, month: str
) -> MonthlyAnalysis:
    """月研判: the month's figures with YoY, by category and district, unit rankings."""
    start, end = month_range(month)
    totals = await metric.metrics(db, scope, settings, start, end)
    units = await metric.metrics(db, scope, settings, start, end, "unit")
    return MonthlyAnalysis(
        month,
        totals[0] if totals else metric.figures({}, None, settings),
        await metric.metrics(db, scope, settings, start, end, "category_top"),
        await metric.metrics(db, scope, settings, start, end, "region", "district"),
        {r: metric.rank(units, r, settings.analytics_ranking_min_cases) for r in RANKED_RATES},
    )
