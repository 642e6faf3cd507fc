"""Oversight of a case while it is handled: supervision (督办) with its own deadline, chasing
(催办), and a leader owning the case (领导包案, 五落实).

A supervision's deadline is a date the supervising unit names or a number of working days
(default the setting ``casework_supervision_days``, 10) counted by the
deadline engine on the database calendar, so holidays and make-up days count as for any
clock. It is not a clock of ``case_clock``: the handling clock keeps being the legal one;
a supervision is current until the case is replied to or ends, and then records whether it
was met. ``casework.case.supervision_due_at`` is the earliest due time of the current ones
(NULL: not under supervision), ``casework.case.leader`` the leader who owns the case.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.case import workflow
from services.casework.deadline import clocks, engine
from shared.api.errors import ApiError
from shared.clock import SHANGHAI
from shared.settings import Settings

MAX_AHEAD_DAYS = 366  # a date further ahead is a typing mistake
# Reaching these ends the case's current supervisions (the handling they chased is done).
ENDS_SUPERVISION: frozenset[str] = frozenset(
    {workflow.REPLIED, workflow.CLOSED} | workflow.TERMINAL
)


def supervision_days(settings: Settings) -> int:
    return settings.casework_supervision_days


def _err(code: str, zh: str, en: str, field: str) -> ApiError:
    return ApiError(422, code, zh, en, field)


def check_date_or_days(
    on: date | None, days: int | None, now: datetime, *, field: str, required: bool
) -> None:
    """422 unless at most one (``required``: exactly one) of a date and a number of days is
    given, and a date lies after today (Asia/Shanghai) and within a year."""
    if on is not None and days is not None:
        raise _err(
            "date_or_days", "期限请填写日期或天数之一", "give a date or a number of days", field
        )
    if required and on is None and days is None:
        raise _err(
            "deadline_required", "须填写期限", "a deadline (date or days) is required", field
        )
    if on is not None:
        today = now.astimezone(SHANGHAI).date()
        if on <= today:
            raise _err("date_not_future", "期限须晚于今天", "the date must be after today", field)
        if on > today + timedelta(days=MAX_AHEAD_DAYS):
            raise _err("date_too_far", "期限过远", "the date is more than a year ahead", field)


async def due(
    db: AsyncConnection,
    now: datetime,
    *,
    on: date | None,
    days: int | None,
    working_days: bool,
) -> engine.Due | datetime:
    """The deadline: the end of ``on`` (Asia/Shanghai), or ``days`` counted from ``now`` by
    the deadline engine (the start day not counted)."""
    if on is not None:
        return datetime.combine(on, engine.END_OF_DAY, tzinfo=SHANGHAI)
    assert days is not None
    return engine.due(
        now, days=days, working_days=working_days, calendar=await clocks.calendar_for(db)
    )


async def open_supervision(
    db: AsyncConnection,
    *,
    case_id: uuid.UUID,
    unit_id: str,
    origin: str,
    reason: str,
    notice_no: str | None,
    due_at: datetime,
    provisional: bool,
    at: datetime,
    by: str,
) -> uuid.UUID:
    """Record a supervision and put the case under it; returns the supervision id."""
    supervision_id = uuid.uuid4()
    await db.execute(
        text(
            "INSERT INTO casework.supervision (id, case_id, unit_id, origin, reason, notice_no, "
            "due_at, provisional, created_at, created_by) VALUES (:id, :c, :u, :o, :r, :n, "
            ":due, :p, :at, :by)"
        ),
        {
            "id": supervision_id,
            "c": case_id,
            "u": unit_id,
            "o": origin,
            "r": reason,
            "n": notice_no,
            "due": due_at,
            "p": provisional,
            "at": at,
            "by": by,
        },
    )
    await _refresh(db, case_id)
    return supervision_id


async def end_supervisions(db: AsyncConnection, case_id: uuid.UUID, at: datetime) -> None:
    """The handling they chased is done (replied) or the case ended: each current supervision
    ends, met when by its due time."""
    await db.execute(
        text(
            "UPDATE casework.supervision SET ended_at = :at, met = (:at <= due_at) "
            "WHERE case_id = :c AND ended_at IS NULL"
        ),
        {"at": at, "c": case_id},
    )
    await _refresh(db, case_id)


async def _refresh(db: AsyncConnection, case_id: uuid.UUID) -> None:
    await db.execute(
        text(
            'UPDATE casework."case" SET supervision_due_at = (SELECT min(due_at) '
            "FROM casework.supervision s WHERE s.case_id = :c AND s.ended_at IS NULL) "
            "WHERE case_id = :c"
        ),
        {"c": case_id},
    )


async def current(db: AsyncConnection, case_id: uuid.UUID) -> list[dict[str, Any]]:
    """The case's current supervisions, oldest first."""
    rows = await db.execute(
        text(
            "SELECT id, unit_id, origin, reason, notice_no, due_at, provisional, created_at, "
            "created_by FROM casework.supervision WHERE case_id = :c AND ended_at IS NULL "
            "ORDER BY created_at, id"
        ),
        {"c": case_id},
    )
    return [dict(r._mapping) for r in rows]
