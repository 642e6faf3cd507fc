"""Analyst and leader API (研判): volumes, every rate of domain §5 with numerator, denominator
and year-on-year change, unit rankings, the definitions.

Scoped like every other read: the caller's jurisdiction (``shared.identity.scope``) limits
every figure; outside it the answer is empty. Accusations are counted in totals only, except
for discipline inspectors."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import text

from services.analytics.metric import service
from services.analytics.metric.definitions import RATES, VISIT_LEVELS, VOLUMES
from shared.api.deps import DbDep, SettingsDep
from shared.api.errors import ApiError
from shared.api.params import Day
from shared.identity.deps import require_roles
from shared.identity.principal import Principal
from shared.identity.roles import (
    ANALYST,
    DISCIPLINE_INSPECTOR,
    LEADER,
    PETITION_OFFICER,
    SUPERVISOR,
    UNIT_LEAD,
)

READERS = (ANALYST, LEADER, SUPERVISOR, PETITION_OFFICER, UNIT_LEAD, DISCIPLINE_INSPECTOR)
Reader = Annotated[Principal, Depends(require_roles(*READERS))]

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

GroupQ = Annotated[str, Query(pattern="^(" + "|".join(service.GROUPS) + ")$")]
LevelQ = Annotated[str, Query(pattern="^(district|street|community)$")]


def period(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or date.today()
    start = start or end.replace(month=1, day=1)
    if start > end or (end - start).days > 3660:
        raise ApiError(
            422, "invalid_period", "统计区间无效（最长十年）", "start after end, or over ten years"
        )
    return start, end


class VolumeRow(BaseModel):
    day: date
    metric: str
    dimension: str
    value: str
    count: int


@router.get("/volumes", response_model=list[VolumeRow], summary="Daily volumes (scoped)")
async def volumes(
    db: DbDep,
    principal: Reader,
    dimension: Annotated[str, Query(pattern="^(all|channel|source|category|region)$")] = "all",
    since: Day | None = None,
) -> list[VolumeRow]:
    """Received and registered per day, by one dimension, within the caller's jurisdiction."""
    scope = service.Scope.of(principal)
    if not scope.prefixes:
        return []
    since = since or date.today() - timedelta(days=365)
    dim, key = ("all", "region_code") if dimension == "region" else (dimension, "value")
    region = " OR ".join(f"region_code LIKE :p{i}" for i in range(len(scope.prefixes)))
    acc = "" if dimension == "all" or scope.accusations_in_breakdowns else " AND NOT accusation"
    params: dict[str, Any] = {f"p{i}": p + "%" for i, p in enumerate(scope.prefixes)}
    async with db.transaction("analytics") as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT period, {key} AS v, sum(received) AS received, "  # noqa: S608
                    "sum(registered) AS registered FROM analytics.rollup_day "
                    f"WHERE dim = :dim AND period >= :s AND ({region}){acc} "
                    "GROUP BY 1, 2 ORDER BY 1, 2"
                ),
                {**params, "dim": dim, "s": since},
            )
        ).all()
    out = []
    for r in rows:
        for metric in ("received", "registered"):
            if r._mapping[metric]:
                out.append(
                    VolumeRow(
                        day=r.period,
                        metric=metric,
                        dimension=dimension,
                        value=r.v,
                        count=int(r._mapping[metric]),
                    )
                )
    return out


@router.get("/metrics", response_model=list[service.Row], summary="Volumes and rates (§5)")
async def metrics(
    db: DbDep,
    settings: SettingsDep,
    principal: Reader,
    start: Day | None = None,
    end: Day | None = None,
    group: GroupQ = "none",
    level: LevelQ = "district",
    region: str | None = None,
) -> list[service.Row]:
    """Every volume and rate of domain §5 for ``[start, end]`` (default: this year so far),
    grouped by one dimension, each rate with numerator, denominator, value (0–1), the value of
    the same period last year and the change. ``region`` narrows within the jurisdiction."""
    a, b = period(start, end)
    scope = service.Scope.of(principal, region)
    async with db.transaction("analytics") as conn:
        return await service.metrics(conn, scope, settings, a, b, group, level)


class Ranked(BaseModel):
    rank: int
    key: str
    value: float | None
    numerator: float
    denominator: float
    previous: float | None


@router.get("/rankings", response_model=list[Ranked], summary="Rankings by a rate")
async def rankings(
    db: DbDep,
    settings: SettingsDep,
    principal: Reader,
    rate: Annotated[str, Query(pattern="^(" + "|".join(RATES) + ")$")] = "satisfaction_unit",
    group: Annotated[str, Query(pattern="^(unit|office|region|category_top)$")] = "unit",
    start: Day | None = None,
    end: Day | None = None,
) -> list[Ranked]:
    """Units (or districts, categories) ranked best first by ``rate``; those with fewer cases
    than ``analytics_ranking_min_cases`` in its denominator are left out."""
    a, b = period(start, end)
    async with db.transaction("analytics") as conn:
        rows = await service.metrics(conn, service.Scope.of(principal), settings, a, b, group)
    return [
        Ranked(
            rank=n,
            key=r.key,
            value=r.rates[rate].value,
            numerator=r.rates[rate].numerator,
            denominator=r.rates[rate].denominator,
            previous=r.rates[rate].previous,
        )
        for n, r in service.rank(rows, rate, settings.analytics_ranking_min_cases)
    ]


class Definition(BaseModel):
    code: str
    name: str
    label: str
    numerator: list[tuple[str, float]]
    denominator: list[str]
    definition: str
    available: bool


@router.get("/definitions", response_model=list[Definition], summary="What each figure means")
async def definitions(principal: Reader) -> list[Definition]:
    return [
        Definition(
            code=r.code,
            name=r.name,
            label=r.label,
            numerator=list(r.numerator),
            denominator=list(r.denominator),
            definition=r.definition,
            available=r.available,
        )
        for r in RATES.values()
    ] + [
        Definition(
            code=k,
            name=v,
            label=k,
            numerator=[(k, 1.0)],
            denominator=[],
            definition=_volume_definition(k),
            available=True,
        )
        for k, v in VOLUMES.items()
    ]


def _volume_definition(code: str) -> str:
    for level, text_ in VISIT_LEVELS.items():
        if code.startswith(f"visit_{level}"):
            return f"volume. {text_}"
    return "volume"
