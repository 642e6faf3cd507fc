"""Reports over HTTP: the data of 日快报, 周预警, 月研判, and 信访数据统计表 as .xlsx. Scoped
like every analytics read."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.analytics.metric import service as metric
from services.analytics.metric.router import Reader, period
from services.analytics.report import service
from services.analytics.report.xlsx import statistics_table
from shared.api.deps import DbDep, SettingsDep

router = APIRouter(prefix="/api/v1/analytics/reports", tags=["analytics"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/daily", response_model=service.DailyBrief, summary="日快报 (12:00–12:00)")
async def daily(db: DbDep, principal: Reader, day: date | None = None) -> service.DailyBrief:
    async with db.transaction("analytics") as conn:
        return await service.daily_brief(conn, metric.Scope.of(principal), day or date.today())


@router.get("/weekly", response_model=service.WeeklyWarning, summary="周预警 (7 days)")
async def weekly(
    db: DbDep, settings: SettingsDep, principal: Reader, end: date | None = None
) -> service.WeeklyWarning:
    async with db.transaction("analytics") as conn:
        return await service.weekly_warning(
            conn, metric.Scope.of(principal), settings, end or date.today() - timedelta(days=1)
        )


@router.get("/monthly", response_model=service.MonthlyAnalysis, summary="月研判")
async def monthly(
    db: DbDep,
    settings: SettingsDep,
    principal: Reader,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
) -> service.MonthlyAnalysis:
    month = month or (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    async with db.transaction("analytics") as conn:
        return await service.monthly_analysis(conn, metric.Scope.of(principal), settings, month)


@router.get(
    "/statistics.xlsx",
    summary="信访数据统计表 (.xlsx)",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def statistics(
    db: DbDep,
    settings: SettingsDep,
    principal: Reader,
    start: date | None = None,
    end: date | None = None,
) -> Response:
    a, b = period(start, end)
    async with db.transaction("analytics") as conn:
        body = await statistics_table(conn, metric.Scope.of(principal), settings, a, b)
    name = f"xinfang-statistics-{a.isoformat()}-{b.isoformat()}.xlsx"
    return Response(
        body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
