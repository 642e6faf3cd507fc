"""Reports over HTTP: the data of 日快报, 周预警, 月研判; the same reports rendered as HTML and
PDF; the archive of reports rendered on schedule; the statistics tables as .xlsx
(信访数据统计表, 矛盾纠纷排查表, 排查汇总统计分析一览表, 化解汇总统计分析一览表, 包案化解情况表).
Scoped like every analytics read."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from services.analytics.metric import service as metric
from services.analytics.metric.router import Reader, period
from services.analytics.report import archive, document, render, service, xlsx
from services.analytics.report.xlsx import statistics_table
from shared.api.deps import DbDep, SettingsDep
from shared.api.errors import ApiError
from shared.api.params import MONTH_PATTERN, Day, RowId
from shared.storage import object_store

router = APIRouter(prefix="/api/v1/analytics/reports", tags=["analytics"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/daily", response_model=service.DailyBrief, summary="日快报 (12:00–12:00)")
async def daily(db: DbDep, principal: Reader, day: Day | None = None) -> service.DailyBrief:
    async with db.transaction("analytics") as conn:
        return await service.daily_brief(conn, metric.Scope.of(principal), day or date.today())


@router.get("/weekly", response_model=service.WeeklyWarning, summary="周预警 (7 days)")
async def weekly(
    db: DbDep, settings: SettingsDep, principal: Reader, end: Day | None = None
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
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
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
    start: Day | None = None,
    end: Day | None = None,
) -> Response:
    a, b = period(start, end)
    async with db.transaction("analytics") as conn:
        body = await statistics_table(conn, metric.Scope.of(principal), settings, a, b)
    name = f"xinfang-statistics-{a.isoformat()}-{b.isoformat()}.xlsx"
    return Response(
        body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


Format = Literal["html", "pdf"]


async def _rendered(
    kind: str, fmt: str, db: DbDep, settings: SettingsDep, principal: Reader, day: date | None
) -> Response:
    day = day or render.default_date(kind, date.today())
    async with db.transaction("analytics") as conn:
        doc = await render.build(conn, kind, metric.Scope.of(principal), settings, day)
    if fmt == "html":
        return Response(document.html(doc), media_type=archive.MEDIA["html"])
    body = await asyncio.to_thread(document.pdf_bytes, doc)
    name = f"{kind}-{day.isoformat()}.pdf"
    return Response(
        body,
        media_type=archive.MEDIA["pdf"],
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


_RENDERED: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}, "application/pdf": {}}},
}


@router.get(
    "/daily.{fmt}",
    summary="日快报 rendered (HTML or PDF); date: the day ending at 12:00",
    response_class=Response,
    responses=_RENDERED,
)
async def daily_rendered(
    fmt: Annotated[Format, Path()],
    db: DbDep,
    settings: SettingsDep,
    principal: Reader,
    day: Annotated[Day | None, Query(alias="date")] = None,
) -> Response:
    return await _rendered("daily", fmt, db, settings, principal, day)


@router.get(
    "/weekly.{fmt}",
    summary="周预警 rendered (HTML or PDF); date: the week's last day",
    response_class=Response,
    responses=_RENDERED,
)
async def weekly_rendered(
    fmt: Annotated[Format, Path()],
    db: DbDep,
    settings: SettingsDep,
    principal: Reader,
    day: Annotated[Day | None, Query(alias="date")] = None,
) -> Response:
    return await _rendered("weekly", fmt, db, settings, principal, day)


@router.get(
    "/monthly.{fmt}",
    summary="月研判 rendered (HTML or PDF); date: any day of the month",
    response_class=Response,
    responses=_RENDERED,
)
async def monthly_rendered(
    fmt: Annotated[Format, Path()],
    db: DbDep,
    settings: SettingsDep,
    principal: Reader,
    day: Annotated[Day | None, Query(alias="date")] = None,
) -> Response:
    return await _rendered("monthly", fmt, db, settings, principal, day)


class ArchivedReport(BaseModel):
    id: int
    kind: str
    region_code: str
    period_start: date
    period_end: date
    format: str
    created_at: datetime
    sha256: str
    size: int


@router.get(
    "/archive",
    response_model=list[ArchivedReport],
    summary="Reports rendered on schedule (the districts within the caller's jurisdiction)",
)
async def archived(
    db: DbDep,
    principal: Reader,
    kind: Annotated[str | None, Query(pattern="^(daily|weekly|monthly)$")] = None,
    start: Day | None = None,
    end: Day | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, object]]:
    scope = metric.Scope.of(principal)
    return await archive.listing(db, scope.prefixes, kind, start, end, limit)


@router.get(
    "/archive/{report_id}",
    summary="One stored report (its HTML or PDF)",
    response_class=Response,
    responses=_RENDERED,
)
async def archived_file(
    report_id: RowId, db: DbDep, settings: SettingsDep, principal: Reader
) -> Response:
    found = await archive.fetch(
        db, object_store(settings), metric.Scope.of(principal).prefixes, report_id
    )
    if found is None:
        raise ApiError(404, "not_found", "报告不存在", "no such report in your jurisdiction")
    row, body = found
    return Response(body, media_type=archive.MEDIA[row["format"]])


def _xlsx(body: bytes, name: str) -> Response:
    return Response(
        body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get(
    "/screening-ledger.xlsx",
    summary="矛盾纠纷排查表 (.xlsx): the screening ledger's items found in the period",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def screening_ledger_table(
    db: DbDep, principal: Reader, start: Day | None = None, end: Day | None = None
) -> Response:
    a, b = period(start, end)
    async with db.transaction("analytics") as conn:
        body = await xlsx.screening_table(conn, metric.Scope.of(principal), a, b)
    return _xlsx(body, f"screening-ledger-{a.isoformat()}-{b.isoformat()}.xlsx")


@router.get(
    "/screening-summary.xlsx",
    summary="排查汇总统计分析一览表 (.xlsx): ledger items by level × category × district",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def screening_summary_table(
    db: DbDep, principal: Reader, start: Day | None = None, end: Day | None = None
) -> Response:
    a, b = period(start, end)
    async with db.transaction("analytics") as conn:
        body = await xlsx.screening_summary(conn, metric.Scope.of(principal), a, b)
    return _xlsx(body, f"screening-summary-{a.isoformat()}-{b.isoformat()}.xlsx")


@router.get(
    "/resolution-summary.xlsx",
    summary="化解汇总统计分析一览表 (.xlsx): 办结率, 化解率, 一次性化解率 by district and category",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def resolution_summary_table(
    db: DbDep,
    settings: SettingsDep,
    principal: Reader,
    start: Day | None = None,
    end: Day | None = None,
) -> Response:
    a, b = period(start, end)
    async with db.transaction("analytics") as conn:
        body = await xlsx.resolution_summary(conn, metric.Scope.of(principal), settings, a, b)
    return _xlsx(body, f"resolution-summary-{a.isoformat()}-{b.isoformat()}.xlsx")


@router.get(
    "/leader-cases.xlsx",
    summary="包案化解情况表 (.xlsx): the 领导包案 cases and 包案化解率 by district, category, unit",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def leader_cases_table(
    db: DbDep,
    settings: SettingsDep,
    principal: Reader,
    start: Day | None = None,
    end: Day | None = None,
) -> Response:
    a, b = period(start, end)
    async with db.transaction("analytics") as conn:
        body = await xlsx.leader_cases_table(conn, metric.Scope.of(principal), settings, a, b)
    return _xlsx(body, f"leader-cases-{a.isoformat()}-{b.isoformat()}.xlsx")
