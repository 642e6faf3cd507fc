"""Queries over the rollups: sums of counters for a period, grouped by one dimension, limited
to the caller's jurisdiction, with the rates of ``definitions`` and the same period a year
earlier. Full months come from ``rollup_month``, the days at either end from ``rollup_day``,
so a year over a city reads a few thousand rows whatever the number of cases. When the
caller's jurisdiction is made of whole districts (and a grouping by region stops at the
district), the ``…_district`` rollups answer instead: the same counters with the region cut to
6 digits, so a city-wide breakdown by unit or category reads about a tenth of the rows.

Accusations (检举控告) are counted in the totals for everyone, but in a breakdown (by unit,
category, region, …) only for discipline inspectors: elsewhere a breakdown could point at the
accused unit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.metric.counters import COUNTERS, DIMENSIONS, DISTRICT_DIGITS
from services.analytics.metric.definitions import RATES, hotline_score
from shared.identity.principal import Principal
from shared.identity.roles import DISCIPLINE_INSPECTOR
from shared.identity.scope import region_prefix, region_prefixes
from shared.settings import Settings

# groupings on top of the rollups' own dimensions
REGION_LEVELS = {"district": 6, "street": 9, "community": 12}
GROUPS: tuple[str, ...] = (
    "none",
    *(d for d in DIMENSIONS if d != "all"),
    "region",
    "day",
    "month",
)

Counters = dict[str, float]


@dataclass(frozen=True)
class Scope:
    """What a caller may count: region prefixes (empty: nothing) and whether accusations may be
    broken down."""

    prefixes: tuple[str, ...]
    accusations_in_breakdowns: bool

    @classmethod
    def of(cls, principal: Principal, region: str | None = None) -> Scope:
        prefixes = region_prefixes(principal.region_codes) if principal.is_staff else ()
        if region:
            wanted = region_prefix(region)
            if wanted is None:
                prefixes = ()
            else:
                # the narrower of the filter and each jurisdiction, where they overlap
                prefixes = tuple(
                    sorted(
                        {
                            wanted if wanted.startswith(p) else p
                            for p in prefixes
                            if wanted.startswith(p) or p.startswith(wanted)
                        }
                    )
                )
        return cls(prefixes, principal.has_role(DISCIPLINE_INSPECTOR))


def year_before(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def segments(start: date, end: date) -> list[tuple[str, date, date]]:
    """``[start, end]`` split into day-grain ends and a month-grain middle."""
    out: list[tuple[str, date, date]] = []
    first_full = (
        start if start.day == 1 else (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    )
    after_end = end + timedelta(days=1)
    last_full_end = after_end.replace(day=1)  # months starting before this are full
    if first_full >= last_full_end:
        return [("day", start, end)]
    if start < first_full:
        out.append(("day", start, first_full - timedelta(days=1)))
    out.append(("month", first_full, last_full_end - timedelta(days=1)))
    if last_full_end <= end:
        out.append(("day", last_full_end, end))
    return out


def _group_expr(group: str, level: str) -> tuple[str, str]:
    """(dim filter, SQL of the group key)."""
    if group == "none":
        return "all", "'all'"
    if group == "region":
        return "all", f"substr(region_code, 1, {REGION_LEVELS[level]})"
    if group == "day":
        return "all", "period::text"
    if group == "month":
        return "all", "to_char(period, 'YYYY-MM')"
    return group, "value"


def uses_district_rollups(scope: Scope, group: str, level: str) -> bool:
    """Whether a read may use the district rollups: every jurisdiction prefix covers whole
    districts (``44``, ``4403``, ``440306``), and a grouping by region stops at districts."""
    if group == "region" and REGION_LEVELS[level] > DISTRICT_DIGITS:
        return False
    return all(len(p) <= DISTRICT_DIGITS for p in scope.prefixes)


async def sum_counters(
    db: AsyncConnection,
    scope: Scope,
    start: date,
    end: date,
    group: str = "none",
    level: str = "district",
) -> dict[str, Counters]:
    """``{group value: {counter: sum}}`` over ``[start, end]`` within ``scope``."""
    if not scope.prefixes or end < start:
        return {}
    dim, key = _group_expr(group, level)
    if group == "day":
        parts = [("day", start, end)]
    else:
        parts = segments(start, end)
    sums = ", ".join(f"sum({c})" for c in COUNTERS)
    suffix = "_district" if uses_district_rollups(scope, group, level) else ""
    region = " OR ".join(f"region_code LIKE :p{i}" for i in range(len(scope.prefixes)))
    acc = "" if group == "none" or scope.accusations_in_breakdowns else " AND NOT accusation"
    params: dict[str, Any] = {f"p{i}": p + "%" for i, p in enumerate(scope.prefixes)}
    params["dim"] = dim
    out: dict[str, Counters] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0.0))
    for grain, a, b in parts:
        rows = await db.execute(
            text(
                f"SELECT {key} AS g, {sums} FROM analytics.rollup_{grain}{suffix} "  # noqa: S608
                f"WHERE dim = :dim AND period BETWEEN :a AND :b AND ({region}){acc} GROUP BY 1"
            ),
            {**params, "a": a, "b": b},
        )
        for row in rows:
            target = out[str(row[0])]
            for name, v in zip(COUNTERS, row[1:], strict=True):
                target[name] += float(v or 0)
    return dict(out)


@dataclass
class Figure:
    numerator: float
    denominator: float
    value: float | None
    previous: float | None  # the same period a year earlier
    change: float | None  # value − previous (percentage points when ×100)


@dataclass
class Row:
    key: str
    volumes: dict[str, float]
    volumes_previous: dict[str, float]
    rates: dict[str, Figure] = field(default_factory=dict)
    hotline_score: float | None = None
    hotline_score_previous: float | None = None


def figures(
    current: Counters, previous: Counters | None, settings: Settings, key: str = "all"
) -> Row:
    from services.analytics.metric.definitions import VOLUMES

    prev = previous or {}
    row = Row(
        key=key,
        volumes={k: current.get(k, 0) for k in (*VOLUMES, "registered", "accepted")},
        volumes_previous={k: prev.get(k, 0) for k in (*VOLUMES, "registered", "accepted")},
        hotline_score=hotline_score(current, settings),
        hotline_score_previous=hotline_score(prev, settings) if prev else None,
    )
    for code, rate in RATES.items():
        value = rate.value_of(current)
        before = rate.value_of(prev) if prev else None
        row.rates[code] = Figure(
            numerator=rate.numerator_of(current),
            denominator=rate.denominator_of(current),
            value=value,
            previous=before,
            change=None if value is None or before is None else value - before,
        )
    return row


async def metrics(
    db: AsyncConnection,
    scope: Scope,
    settings: Settings,
    start: date,
    end: date,
    group: str = "none",
    level: str = "district",
) -> list[Row]:
    current = await sum_counters(db, scope, start, end, group, level)
    if group in ("day", "month"):
        previous: dict[str, Counters] = {}
    else:
        previous = await sum_counters(db, scope, year_before(start), year_before(end), group, level)
    return [figures(current[k], previous.get(k), settings, k) for k in sorted(current)]


def rank(rows: list[Row], rate: str, min_cases: int) -> list[tuple[int, Row]]:
    """Rows ranked by ``rate`` (best first; ties share a rank), leaving out rows whose
    denominator is under ``min_cases``."""
    eligible = [
        r
        for r in rows
        if r.rates[rate].value is not None and r.rates[rate].denominator >= min_cases
    ]
    eligible.sort(key=lambda r: (-(r.rates[rate].value or 0), r.key))
    out: list[tuple[int, Row]] = []
    last: float | None = None
    position = 0
    for i, r in enumerate(eligible, start=1):
        if r.rates[rate].value != last:
            position, last = i, r.rates[rate].value
        out.append((position, r))
    return out
