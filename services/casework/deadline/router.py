"""Deadline and holiday endpoints of casework (mounted by the casework app):

* ``GET  /api/v1/casework/deadline?start=&days=|hours=&working_days=`` — any signed-in staff:
  when a clock started at ``start`` is due, with the days counted and skipped;
* ``GET  /api/v1/casework/holidays?year=`` — any signed-in staff: a year's override rows;
* ``PUT  /api/v1/casework/holidays/{year}`` — ``admin``: replace a year's holidays and
  make-up days from the State Council notice; running clocks it touches are recounted.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.casework.deadline import engine, holidays
from services.casework.deadline.calendar import load_calendar
from services.casework.deadline.holidays import HolidayDay
from services.casework.deadline.schemas import DeadlineOut, HolidayYearIn, HolidayYearOut
from shared.api.deps import ClockDep, DbDep
from shared.api.errors import ApiError
from shared.api.params import Moment
from shared.identity.deps import require_roles
from shared.identity.principal import Principal
from shared.identity.roles import ADMIN

PREFIX = "/api/v1/casework"

_require_staff = require_roles()
_require_admin = require_roles(ADMIN)
Staff = Annotated[Principal, Depends(_require_staff)]
Admin = Annotated[Principal, Depends(_require_admin)]

router = APIRouter(prefix=PREFIX, tags=["deadlines (期限)"])

_ERRORS = {
    401: {"description": "not signed in"},
    403: {"description": "a staff role (admin for PUT) is required"},
    422: {"description": "validation failed: `{errors: [{field, code, message}]}`"},
}


@router.get(
    "/deadline",
    response_model=DeadlineOut,
    responses=_ERRORS,  # type: ignore[arg-type]
    summary="When is this due? (期限计算)",
)
async def deadline(
    _: Staff,
    db: DbDep,
    start: Annotated[Moment, Query(description="RFC 3339 with offset")],
    days: Annotated[int | None, Query(ge=0, le=engine.MAX_DAYS)] = None,
    hours: Annotated[int | None, Query(ge=0, le=24 * 366)] = None,
    working_days: bool = False,
) -> DeadlineOut:
    if (days is None) == (hours is None):
        raise ApiError(422, "days_or_hours", "须给出天数或小时数之一", "give days or hours", "days")
    if start.tzinfo is None:
        raise ApiError(
            422, "invalid_datetime", "时间须带时区", "date-time needs an offset", "start"
        )
    async with db.transaction("casework") as conn:
        calendar = await load_calendar(conn)
    return DeadlineOut.of(
        engine.due(start, days=days, hours=hours, working_days=working_days, calendar=calendar)
    )


@router.get(
    "/holidays",
    response_model=HolidayYearOut,
    responses=_ERRORS,  # type: ignore[arg-type]
    summary="A year's holiday overrides (节假日调休)",
)
async def list_holidays(_: Staff, db: DbDep, year: Annotated[int, Query()]) -> HolidayYearOut:
    async with db.transaction("casework") as conn:
        return HolidayYearOut.of(await holidays.list_year(conn, year))


@router.put(
    "/holidays/{year}",
    response_model=HolidayYearOut,
    responses=_ERRORS,  # type: ignore[arg-type]
    summary="Load a year's holidays and make-up working days",
)
async def put_holidays(
    year: int, body: HolidayYearIn, principal: Admin, db: DbDep, clock: ClockDep
) -> HolidayYearOut:
    async with db.transaction("casework") as conn:
        loaded = await holidays.load_year(
            conn,
            year=year,
            days=[HolidayDay(d.day, d.kind, d.name) for d in body.days],
            source=body.source,
            actor=principal.subject,
            clock=clock,
        )
        return HolidayYearOut.of(await holidays.list_year(conn, year), loaded)
