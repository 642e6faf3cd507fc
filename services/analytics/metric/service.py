"""Queries over the rollups: sums of counters for a period, grouped by one dimension, limited
to the caller's jurisdiction, with the rates of ``definitions`` and the same period a year
earlier. Full months come from ``rollup_month``, the days at either end from ``rollup_day``,
so a year over a city reads a few thousand rows whatever the number of cases. When the
caller's jurisdiction is made of whole districts (and a grouping by region stops at the
district), the ``…_district`` rollups answer instead: the same counters with the region cut to
6 digits, so a city-wide breakdown by unit or category reads about a tenth of the rows.

Accusations (检举控告) are counted in the totals for everyone, but in a breakdown (by unit,
category, region, …) only for discipline inspectors: elsewhere a breakdown could point at the
accused unit.

Two counters depend on the time of the read (``counters.AS_OF_COUNTERS``: supervisions and
包案 whose deadline has passed unanswered); they are counted from ``case_fact`` as of
``as_of`` (default: the database's clock), under the same scope, period and grouping."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.metric.counters import (
    AS_OF_COUNTERS,
    COUNTERS,
    DIMENSIONS,
    DISTRICT_DIGITS,
)
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


def _known(expr: str) -> str:
    return f"coalesce(nullif({expr}, ''), 'unknown')"


# the group key over case_fact: what counters.dimension_values and the rollups' region give
_FACT_DIMS = {
    "unit": _known("coalesce(nullif(unit_id, ''), office_unit_id)"),
    "office": _known("office_unit_id"),
    "category": _known("category_code"),
    "category_top": _known("split_part(category_code, '.', 1)"),
    "channel": _known("channel"),
    "source": _known("source"),
}


def _fact_group_expr(group: str, level: str) -> str:
    if group == "none":
        return "'all'"
    if group == "region":
        return f"substr(coalesce(region_code, 'unknown'), 1, {REGION_LEVELS[level]})"
    if group == "day":
        return "day::text"
    if group == "month":
        return "to_char(day, 'YYYY-MM')"
    return _FACT_DIMS[group]


async def as_of_counters(
    db: AsyncConnection,
    scope: Scope,
    start: date,
    end: date,
    group: str = "none",
    level: str = "district",
    as_of: datetime | None = None,
) -> dict[str, Counters]:
    """``AS_OF_COUNTERS`` per group over the cases of ``[start, end]`` within ``scope``:
    supervised cases with no late reply and a supervision unanswered past its due time, and
    leader-owned accepted cases neither closed nor withdrawn past ``resolve_by``."""
    if not scope.prefixes or end < start:
        return {}
    region = " OR ".join(
        f"coalesce(region_code, 'unknown') LIKE :p{i}" for i in range(len(scope.prefixes))
    )
    acc = "" if group == "none" or scope.accusations_in_breakdowns else " AND NOT accusation"
    params: dict[str, Any] = {f"p{i}": p + "%" for i, p in enumerate(scope.prefixes)}
    overdue_sup = "supervision_open_due < :now AND supervision_late IS NOT TRUE"
    overdue_leader = (
        "resolve_by < :now AND leader_at IS NOT NULL AND accepted IS TRUE "
        "AND closed_at IS NULL AND withdrawn_at IS NULL"
    )
    rows = await db.execute(
        text(
            f"SELECT {_fact_group_expr(group, level)} AS g, "  # noqa: S608
            f"count(*) FILTER (WHERE {overdue_sup}), count(*) FILTER (WHERE {overdue_leader}) "
            "FROM analytics.case_fact "
            f"WHERE (supervision_open_due < :now OR resolve_by < :now) "
            f"AND day BETWEEN :a AND :b AND ({region}){acc} GROUP BY 1"
        ),
        {**params, "a": start, "b": end, "now": as_of or await db.scalar(text("SELECT now()"))},
    )
    out: dict[str, Counters] = {}
    for row in rows:
        values = dict(zip(AS_OF_COUNTERS, (float(v or 0) for v in row[1:]), strict=True))
        if any(values.values()):
            out[str(row[0])] = values
    return out


# parallel workers a dashboard aggregate may use (PostgreSQL's default)
REPORT_WORKERS = 2


async def sum_counters(
    db: AsyncConnection,
    scope: Scope,
    start: date,
    end: date,
    group: str = "none",
    level: str = "district",
    as_of: datetime | None = None,
) -> dict[str, Counters]:
    """``{group value: {counter: sum}}`` over ``[start, end]`` within ``scope``: the rollups'
    counters, and ``AS_OF_COUNTERS`` as of ``as_of`` (default: now)."""
    if not scope.prefixes or end < start:
        return {}
    dim, key = _group_expr(group, level)
    if group == "day":
        parts = [("day", start, end)]
    else:
        parts = segments(start, end)
    sums = ", ".join(f"sum({c})" for c in COUNTERS)
    if db.in_transaction():
        # an aggregate over a year of rollups may use parallel workers, unlike the pages the
        # other services' connections serve (Settings.db_parallel_workers)
        await db.execute(text(f"SET LOCAL max_parallel_workers_per_gather = {REPORT_WORKERS}"))
    suffix = "_district" if uses_district_rollups(scope, group, level) else ""
    region = " OR ".join(f"region_code LIKE :p{i}" for i in range(len(scope.prefixes)))
    acc = "" if group == "none" or scope.accusations_in_breakdowns else " AND NOT accusation"
    params: dict[str, Any] = {f"p{i}": p + "%" for i, p in enumerate(scope.prefixes)}
    params["dim"] = dim
    out: dict[str, Counters] = defaultdict(lambda: dict.fromkeys((*COUNTERS, *AS_OF_COUNTERS), 0.0))
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
    if out:  # the as-of counters' cases are counted in the rollups too (supervised, leader)
        for key, values in (
            await as_of_counters(db, scope, start, end, group, level, as_of)
        ).items():
            for name, v in values.items():
                out[key][name] += v
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
    from services.analytics.metric.definitions import EXTRA_VOLUMES, VOLUMES

    prev = previous or {}
    row = Row(
        key=key,
        volumes={k: current.get(k, 0) for k in (*VOLUMES, *EXTRA_VOLUMES)},
        volumes_previous={k: prev.get(k, 0) for k in (*VOLUMES, *EXTRA_VOLUMES)},
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
    as_of: datetime | None = None,
) -> list[Row]:
    current = await sum_counters(db, scope, start, end, group, level, as_of)
    if group in ("day", "month"):
        previous: dict[str, Counters] = {}
    else:
        previous = await sum_counters(
            db, scope, year_before(start), year_before(end), group, level, as_of
        )
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
