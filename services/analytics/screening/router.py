"""Screening and hotspots over HTTP: the ledger (排查台账), zero reports (零报告) and hotspots,
each limited to the caller's jurisdiction; accusations only for discipline inspectors."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.analytics import casetext
from services.analytics.metric import service as metric_service
from services.analytics.metric.router import Reader, period
from services.analytics.screening import service
from services.analytics.text.hotspots import hotspots as find_hotspots
from shared.api.deps import DbDep
from shared.api.errors import ApiError
from shared.api.params import Day
from shared.clock import SHANGHAI

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


class LedgerRow(BaseModel):
    case_id: str
    matter: str
    level: str  # red | orange | yellow
    reasons: list[str]
    owner_unit: str
    region_code: str | None
    found_on: date
    due_on: date
    status: str  # open | cleared


def _month_start(end: date) -> date:
    return end.replace(day=1)


@router.get(
    "/screening/ledger", response_model=list[LedgerRow], summary="排查台账: screening ledger"
)
async def screening_ledger(
    db: DbDep,
    principal: Reader,
    start: Day | None = None,
    end: Day | None = None,
    status: Annotated[str | None, Query(pattern="^(open|cleared)$")] = "open",
    level: Annotated[str | None, Query(pattern="^(red|orange|yellow)$")] = None,
) -> list[LedgerRow]:
    """Risk items found in ``[start, end]`` (default: this year so far), most severe first."""
    a, b = period(start, end)
    scope = metric_service.Scope.of(principal)
    if not scope.prefixes:
        return []
    async with db.transaction("analytics") as conn:
        rows = await service.ledger_rows(
            conn,
            prefixes=scope.prefixes,
            accusations=scope.accusations_in_breakdowns,
            start=a,
            end=b,
            status=status,
            level=level,
        )
    return [LedgerRow(**r) for r in rows]


class ZeroReportRow(BaseModel):
    owner_unit: str
    period_start: date
    period_end: date
    items: int
    swept_through: date  # the last day of the period a screening sweep ran on


@router.get(
    "/screening/zero-reports",
    response_model=list[ZeroReportRow],
    summary="零报告: units with no risk item in the period",
)
async def screening_zero_reports(
    db: DbDep, principal: Reader, start: Day | None = None, end: Day | None = None
) -> list[ZeroReportRow]:
    """Units handling cases in the jurisdiction with no ledger item found in ``[start, end]``
    (default: this month so far), as of the period's last screening sweep (``swept_through``).
    409 ``not_screened`` when no sweep has run on any day of the period yet: a zero report
    claims the unit was screened and nothing was found, which cannot be said then."""
    end = end or date.today()
    a, b = period(start or _month_start(end), end)
    scope = metric_service.Scope.of(principal)
    if not scope.prefixes:
        return []
    async with db.transaction("analytics") as conn:
        try:
            found = await service.zero_report_rows(
                conn,
                prefixes=scope.prefixes,
                accusations=scope.accusations_in_breakdowns,
                start=a,
                end=b,
            )
        except service.NotScreened as e:
            last = e.last_sweep.isoformat() if e.last_sweep else None
            raise ApiError(
                409,
                "not_screened",
                f"{a.isoformat()} 至 {b.isoformat()} 尚未开展矛盾纠纷排查（"
                + (f"最近一次排查：{last}" if last else "系统尚未进行过排查")
                + "），不能出具零报告",
                f"no screening sweep has run in {a.isoformat()}..{b.isoformat()} yet ("
                + (f"last sweep {last}" if last else "no sweep has run yet")
                + "): a zero report cannot be given",
            ) from None
        coverage = await service.sweep_coverage(conn, a, b)
    through = coverage.last_day if coverage is not None else b
    return [
        ZeroReportRow(
            owner_unit=z.owner_unit,
            period_start=z.period_start,
            period_end=z.period_end,
            items=0,
            swept_through=through,
        )
        for z in found
    ]


@router.get("/hotspots", summary="Hotspots: clusters by topic × place × time, ranked")
async def hotspots(
    db: DbDep,
    principal: Reader,
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    top: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    """The ``top`` hotspots among petitions received from ``from`` to ``to`` (local days,
    inclusive; default the last 30 days) in the caller's jurisdiction."""
    b = date_to or date.today()
    a, b = period(date_from or b - timedelta(days=29), b)
    scope = metric_service.Scope.of(principal)
    start = datetime.combine(a, time(), SHANGHAI)
    end = datetime.combine(b + timedelta(days=1), time(), SHANGHAI)
    found: list[Any] = []
    petitions = 0
    if scope.prefixes:
        async with db.transaction("analytics") as conn:
            loaded = await casetext.load(
                conn,
                prefixes=scope.prefixes,
                accusations=scope.accusations_in_breakdowns,
                start=start,
                end=end,
            )
        records = [p for p, _ in loaded]
        petitions = len(records)
        found = await asyncio.to_thread(find_hotspots, records, start, end, top)
    return {
        "from": a.isoformat(),
        "to": b.isoformat(),
        "petitions": petitions,
        "hotspots": [h.as_dict() for h in found],
    }
