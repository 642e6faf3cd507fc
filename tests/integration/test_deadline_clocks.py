"""Case clocks against real PostgreSQL: policy layers from the table, the provisional path of
a far-future year recomputed when its holidays are loaded, overrides over the library,
extensions and pauses recorded as events, and ``case.due_at``.

Each test runs in one transaction that is rolled back, so no holiday row or policy row it
enters is seen by any other test. Expected dates are worked out by hand in the comments.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.deadline import clocks, holidays
from services.casework.deadline.calendar import library_knows
from services.casework.deadline.holidays import HolidayDay
from shared.api.errors import ApiError
from shared.clock import FixedClock
from shared.db import Database

pytestmark = pytest.mark.asyncio(loop_scope="session")


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@asynccontextmanager
async def rolled_back(db: Database) -> AsyncIterator[AsyncConnection]:
    async with db.engine("casework").connect() as conn:
        tx = await conn.begin()
        try:
            yield conn
        finally:
            await tx.rollback()


async def new_case(
    conn: AsyncConnection,
    received: str,
    *,
    region: str = "440306",
    source: str = "letter",
    urgency: str = "normal",
    category: str | None = None,
) -> uuid.UUID:
    case_id = uuid.uuid4()
    await conn.execute(
        text(
            'INSERT INTO casework."case" (case_id, tracking_no, source, channel, title, '
            "category_code, region_code, status, received_at, registered_at, updated_at, urgency, "
            "lead_unit_id) VALUES (:id, :no, :src, 'web', '测试', :cat, :region, 'registered', "
            ":at, :at, :at, :urg, 'UNIT-1')"
        ),
        {
            "id": case_id,
            "no": "T" + case_id.hex[:12],
            "src": source,
            "cat": category,
            "region": region,
            "at": at(received),
            "urg": urgency,
        },
    )
    return case_id


def ctx(region: str = "440306", source: str = "letter", **kw: Any) -> dict[str, Any]:
    return {"region_code": region, "source": source, "case_type": None, "urgency": "normal", **kw}


async def events(conn: AsyncConnection, clock_id: int) -> list[Any]:
    return list(
        (
            await conn.execute(
                text(
                    "SELECT kind, actor, reason, days, due_before, due_after "
                    "FROM casework.clock_event WHERE clock_id = :id ORDER BY id"
                ),
                {"id": clock_id},
            )
        ).all()
    )


async def case_due(conn: AsyncConnection, case_id: uuid.UUID) -> datetime | None:
    due: datetime | None = await conn.scalar(
        text('SELECT due_at FROM casework."case" WHERE case_id = :c'), {"c": case_id}
    )
    return due


async def test_policy_rows_and_case_due(db: Database) -> None:
    async with rolled_back(db) as conn:
        await conn.execute(
            text(
                "INSERT INTO casework.deadline_policy (clock, region_prefix, days, working_days, "
                "label, created_at, created_by) VALUES ('register', '440306', 5, true, "
                "'宝安区 5 working days', now(), 'test'), ('handle', '440306', 30, false, "
                "'宝安区 30 days', now(), 'test')"
            )
        )
        baoan = await new_case(conn, "2025-09-28T10:00:00+08:00")
        futian = await new_case(conn, "2025-09-28T10:00:00+08:00", region="440304")
        start = at("2025-09-28T10:00:00+08:00")
        # Bao'an: 5 working days → the make-up Saturday 2025-10-11 (domain example)
        b = await clocks.start_clock(
            conn, case_id=baoan, kind="register", started_at=start, context=ctx()
        )
        assert b.due_at == at("2025-10-11T23:59:59+08:00")
        assert b.working_days and b.policy.startswith("policy #") and not b.provisional
        # Futian: the statutory 15 days → 2025-10-13
        f = await clocks.start_clock(
            conn, case_id=futian, kind="register", started_at=start, context=ctx("440304")
        )
        assert f.due_at == at("2025-10-13T23:59:59+08:00")
        assert f.policy.startswith("statutory:")
        # starting a running clock again changes nothing
        again = await clocks.start_clock(
            conn, case_id=baoan, kind="register", started_at=at("2025-09-29T10:00:00+08:00"),
            context=ctx(),
        )  # fmt: skip
        assert again.id == b.id and again.due_at == b.due_at
        # accept has no Bao'an row: statutory 15 days; case.due_at is the earliest
        await clocks.start_clock(
            conn, case_id=baoan, kind="accept", started_at=start, context=ctx()
        )
        await clocks.refresh_case_due(conn, [baoan, futian])
        assert await case_due(conn, baoan) == at("2025-10-11T23:59:59+08:00")
        assert await case_due(conn, futian) == at("2025-10-13T23:59:59+08:00")
        # stopping the register clock: the accept clock is next
        stopped = await clocks.stop_clock(conn, baoan, "register", at("2025-10-10T09:00:00+08:00"))
        assert stopped is not None and stopped.met
        await clocks.refresh_case_due(conn, [baoan])
        assert await case_due(conn, baoan) == at("2025-10-13T23:59:59+08:00")
        late = await clocks.stop_clock(conn, futian, "register", at("2025-10-14T00:00:00+08:00"))
        assert late is not None and not late.met
        assert (
            await clocks.stop_clock(conn, futian, "register", at("2025-10-14T00:00:00+08:00"))
            is None
        )
        # a hotline emergency: 2 hours, continuous
        hot = await new_case(conn, "2025-10-01T23:00:00+08:00", source="hotline")
        h = await clocks.start_clock(
            conn, case_id=hot, kind="handle", started_at=at("2025-10-01T23:00:00+08:00"),
            context=ctx(source="hotline", urgency="emergency"),
        )  # fmt: skip
        assert h.hours == 2 and h.due_at == at("2025-10-02T01:00:00+08:00")
        with pytest.raises(ApiError) as err:
            await clocks.start_clock(
                conn, case_id=hot, kind="nonsense", started_at=start, context=ctx()
            )
        assert err.value.items[0].code == "unknown_clock"


# An invented 2032 schedule, entered as an administrator would (no notice exists yet):
# 元旦 01-01 (Thu); 春节 02-07 (Sat) .. 02-15 (Sun), make-up 01-31 (Sat) and 02-21 (Sat).
DAYS_2032 = [
    HolidayDay(date(2032, 1, 1), "holiday", "元旦"),
    HolidayDay(date(2032, 1, 31), "workday", "春节"),
    *[HolidayDay(date(2032, 2, d), "holiday", "春节") for d in range(7, 16)],
    HolidayDay(date(2032, 2, 21), "workday", "春节"),
]


async def test_far_future_year_provisional_then_recomputed(db: Database) -> None:
    async with rolled_back(db) as conn:
        case_id = await new_case(conn, "2031-12-10T09:00:00+08:00")
        # 60 days from 2031-12-10: day 60 is 2032-02-08, a Sunday → Monday 02-09 (weekends only)
        handle = await clocks.start_clock(
            conn, case_id=case_id, kind="handle",
            started_at=at("2031-12-10T09:00:00+08:00"), context=ctx(),
        )  # fmt: skip
        assert handle.provisional and handle.due_at == at("2032-02-09T23:59:59+08:00")
        # 15 days end 2031-12-25, inside 2031: not touched by loading 2032
        register = await clocks.start_clock(
            conn, case_id=case_id, kind="register",
            started_at=at("2031-12-10T09:00:00+08:00"), context=ctx(),
        )  # fmt: skip
        assert register.provisional and register.due_at == at("2031-12-25T23:59:59+08:00")
        # 5 working days from Monday 2031-12-29: 12-30 1, 12-31 2, 01-01 3, 01-02 4, 01-05 5
        other = await new_case(conn, "2031-12-29T09:00:00+08:00")
        obj = await clocks.start_clock(
            conn, case_id=other, kind="object",
            started_at=at("2031-12-29T09:00:00+08:00"), context=ctx(),
        )  # fmt: skip
        assert obj.provisional and obj.due_at == at("2032-01-05T23:59:59+08:00")

        loaded = await holidays.load_year(
            conn, year=2032, days=DAYS_2032, source="测试用假日安排", actor="admin-1",
            clock=FixedClock(at("2031-10-20T10:00:00+08:00")),
        )  # fmt: skip
        assert loaded.recomputed == 2 and loaded.days == len(DAYS_2032)

        h = await clocks.running_clock(conn, case_id, "handle")
        assert h is not None
        # 02-08 is now a holiday (春节 02-07..02-15) → first working day 02-16 (Monday)
        assert h.due_at == at("2032-02-16T23:59:59+08:00") and not h.provisional
        [ev] = await events(conn, h.id)
        assert ev.kind == "recompute" and ev.actor == "admin-1"
        assert ev.due_before == at("2032-02-09T23:59:59+08:00")
        assert ev.due_after == at("2032-02-16T23:59:59+08:00")
        assert "2032" in ev.reason and "provisional cleared" in ev.reason
        # 01-01 is now a holiday: 12-30 1, 12-31 2, 01-02 3, 01-05 4, 01-06 5; still
        # provisional, because 2031 is still unknown
        o = await clocks.running_clock(conn, other, "object")
        assert o is not None
        assert o.due_at == at("2032-01-06T23:59:59+08:00") and o.provisional
        assert [e.kind for e in await events(conn, o.id)] == ["recompute"]
        r = await clocks.running_clock(conn, case_id, "register")
        assert r is not None and r.due_at == register.due_at and r.provisional
        assert await events(conn, r.id) == []
        # the year is listed as loaded
        listing = await holidays.list_year(conn, 2032)
        assert listing.known and not listing.library_knows and listing.source == "测试用假日安排"
        assert [d.day for d in listing.days][:2] == [date(2032, 1, 1), date(2032, 1, 31)]
        # loading it again with the same days changes no clock
        again = await holidays.load_year(
            conn, year=2032, days=DAYS_2032, source="测试用假日安排", actor="admin-1"
        )
        assert again.recomputed == 0
        # a clock counted on the calendar of before the load (a transaction that raced the
        # load) is caught by the sweep job's backstop
        late = await new_case(conn, "2031-12-10T09:00:00+08:00")
        stale_id = await conn.scalar(
            text(
                "INSERT INTO casework.case_clock (case_id, kind, started_at, days, policy, "
                "due_at, provisional) VALUES (:c, 'handle', :s, 60, 'test', :d, true) RETURNING id"
            ),
            {"c": late, "s": at("2031-12-10T09:00:00+08:00"), "d": at("2032-02-09T23:59:59+08:00")},
        )
        # the other provisional clocks (register, object: 2031 unknown) are already current
        assert await clocks.recompute_provisional(conn) == 1
        stale = await clocks.running_clock(conn, late, "handle")
        assert stale is not None and stale.id == stale_id
        assert stale.due_at == at("2032-02-16T23:59:59+08:00") and not stale.provisional


async def test_december_2026_clock_into_unknown_2027(db: Database) -> None:
    async with rolled_back(db) as conn:
        case_id = await new_case(conn, "2026-12-10T09:00:00+08:00")
        c = await clocks.start_clock(
            conn, case_id=case_id, kind="handle",
            started_at=at("2026-12-10T09:00:00+08:00"), context=ctx(),
        )  # fmt: skip
        # day 60 is 2027-02-08 (Monday)
        assert c.due_at.date() >= date(2027, 2, 8)
        assert c.provisional == (not library_knows(2027))


async def test_holiday_load_refused(db: Database) -> None:
    async with rolled_back(db) as conn:
        with pytest.raises(ApiError) as err:
            await holidays.load_year(
                conn, year=2032,
                days=[HolidayDay(date(2033, 1, 1), "holiday", "元旦"),
                      HolidayDay(date(2032, 1, 1), "holiday", "元旦"),
                      HolidayDay(date(2032, 1, 1), "holiday", "元旦")],
                source=" ", actor="admin",
            )  # fmt: skip
        codes = sorted(i.code for i in err.value.items)
        assert codes == ["day_outside_year", "duplicate_day", "source_required"]


async def test_override_wins_and_recounts_known_year(db: Database) -> None:
    async with rolled_back(db) as conn:
        case_id = await new_case(conn, "2025-09-28T10:00:00+08:00")
        c = await clocks.start_clock(
            conn, case_id=case_id, kind="register",
            started_at=at("2025-09-28T10:00:00+08:00"), context=ctx(),
        )  # fmt: skip
        assert c.due_at == at("2025-10-13T23:59:59+08:00") and not c.provisional
        # a local rest day on Monday 2025-10-13, which the library calls a working day
        loaded = await holidays.load_year(
            conn, year=2025, days=[HolidayDay(date(2025, 10, 13), "holiday", "区级停工日")],
            source="测试", actor="admin",
        )  # fmt: skip
        assert loaded.recomputed == 1
        c2 = await clocks.running_clock(conn, case_id, "register")
        assert c2 is not None and c2.due_at == at("2025-10-14T23:59:59+08:00")
        [ev] = await events(conn, c.id)
        assert (ev.kind, ev.due_before, ev.due_after) == (
            "recompute", at("2025-10-13T23:59:59+08:00"), at("2025-10-14T23:59:59+08:00"),
        )  # fmt: skip
        assert await case_due(conn, case_id) == at("2025-10-14T23:59:59+08:00")
        # a new clock sees the override too
        other = await new_case(conn, "2025-09-28T10:00:00+08:00")
        n = await clocks.start_clock(
            conn, case_id=other, kind="accept",
            started_at=at("2025-09-28T10:00:00+08:00"), context=ctx(),
        )  # fmt: skip
        assert n.due_at == at("2025-10-14T23:59:59+08:00")
        assert await clocks.window_end(conn, since=at("2025-09-28T10:00:00+08:00"), days=15) == at(
            "2025-10-14T23:59:59+08:00"
        )


async def test_extensions_are_limited_and_recorded(db: Database) -> None:
    clock = FixedClock(at("2025-09-01T10:00:00+08:00"))
    async with rolled_back(db) as conn:
        case_id = await new_case(conn, "2025-08-06T10:00:00+08:00")
        c = await clocks.start_clock(
            conn, case_id=case_id, kind="handle",
            started_at=at("2025-08-06T10:00:00+08:00"), context=ctx(),
        )  # fmt: skip
        # 60 days: 25 to 08-31, 30 in September, day 60 is 10-05 (holiday) → 10-09
        assert c.due_at == at("2025-10-09T23:59:59+08:00")

        async def refused(days: int, reason: str = "需补充调查", kind: str = "handle") -> str:
            with pytest.raises(ApiError) as err:
                await clocks.extend(
                    conn, case_id=case_id, kind=kind, days=days, reason=reason,
                    actor="head-1", clock=clock,
                )  # fmt: skip
            return err.value.items[0].code

        assert await refused(31) == "extension_too_long"
        assert await refused(0) == "extension_too_short"
        assert await refused(5, reason="  ") == "reason_required"
        assert await refused(5, kind="review") == "clock_not_running"
        # +20: 80 days, day 80 is 10-25 (Saturday) → 10-26 Sunday → Monday 10-27
        due = await clocks.extend(
            conn, case_id=case_id, kind="handle", days=20, reason="需补充调查",
            actor="head-1", clock=clock,
        )  # fmt: skip
        assert due == at("2025-10-27T23:59:59+08:00")
        assert await refused(11) == "extension_too_long"  # 20 + 11 > 30
        # +10: 90 days, day 90 is 11-04 (Tuesday)
        due = await clocks.extend(
            conn, case_id=case_id, kind="handle", days=10, reason="等待鉴定结论",
            actor="head-2", clock=clock,
        )  # fmt: skip
        assert due == at("2025-11-04T23:59:59+08:00")
        row = await clocks.running_clock(conn, case_id, "handle")
        assert row is not None and row.extended_days == 30 and row.days == 60
        assert row.started_at == c.started_at  # the clock's own history is not rewritten
        evs = await events(conn, c.id)
        assert [(e.kind, e.actor, e.reason, e.days) for e in evs] == [
            ("extend", "head-1", "需补充调查", 20),
            ("extend", "head-2", "等待鉴定结论", 10),
        ]
        assert [(e.due_before, e.due_after) for e in evs] == [
            (at("2025-10-09T23:59:59+08:00"), at("2025-10-27T23:59:59+08:00")),
            (at("2025-10-27T23:59:59+08:00"), at("2025-11-04T23:59:59+08:00")),
        ]
        assert await case_due(conn, case_id) == at("2025-11-04T23:59:59+08:00")


async def test_pause_and_resume(db: Database) -> None:
    clock = FixedClock(at("2025-03-10T09:00:00+08:00"))
    async with rolled_back(db) as conn:
        case_id = await new_case(conn, "2025-03-03T09:00:00+08:00")
        c = await clocks.start_clock(
            conn, case_id=case_id, kind="reexam",
            started_at=at("2025-03-03T09:00:00+08:00"), context=ctx(),
        )  # fmt: skip
        # 30 days: 28 to 03-31, day 30 is 04-02 (Wednesday)
        assert c.due_at == at("2025-04-02T23:59:59+08:00")
        await clocks.refresh_case_due(conn, [case_id])

        async def code(call: Any, **kw: Any) -> str:
            with pytest.raises(ApiError) as err:
                await call(conn, case_id=case_id, actor="h", clock=clock, **kw)
            return err.value.items[0].code

        assert await code(clocks.resume, kind="reexam", reason="x") == "clock_not_paused"
        await clocks.pause(
            conn, case_id=case_id, kind="reexam", reason="举行听证", actor="h", clock=clock
        )
        assert await code(clocks.pause, kind="reexam", reason="x") == "clock_already_paused"
        assert await case_due(conn, case_id) is None  # a paused clock is not running
        # 3 days and 6 hours later: 4 whole days are given back
        clock.advance(at("2025-03-13T15:00:00+08:00") - clock.now())
        due = await clocks.resume(
            conn, case_id=case_id, kind="reexam", reason="听证结束", actor="h", clock=clock
        )
        # 34 days: day 34 is 04-06 (Sunday, 清明 04-04..04-06) → Monday 04-07
        assert due == at("2025-04-07T23:59:59+08:00")
        assert await case_due(conn, case_id) == due
        evs = await events(conn, c.id)
        assert [(e.kind, e.reason, e.days) for e in evs] == [
            ("pause", "举行听证", None),
            ("resume", "听证结束", 4),
        ]
        assert evs[1].due_before == at("2025-04-02T23:59:59+08:00") and evs[1].due_after == due
        # an extension counts the paused days too: 30 + 4 + 5 = 39 days → 04-11 (Friday)
        assert await clocks.extend(
            conn, case_id=case_id, kind="reexam", days=5, reason="复核需要", actor="h",
            clock=clock,
        ) == at("2025-04-11T23:59:59+08:00")  # fmt: skip
        # hour clocks cannot be paused
        hot = await new_case(conn, "2025-03-10T09:00:00+08:00", source="hotline")
        await clocks.start_clock(
            conn, case_id=hot, kind="handle", started_at=at("2025-03-10T09:00:00+08:00"),
            context=ctx(source="hotline", urgency="urgent"),
        )  # fmt: skip
        with pytest.raises(ApiError) as err:
            await clocks.pause(conn, case_id=hot, kind="handle", reason="x", actor="h", clock=clock)
        assert err.value.items[0].code == "clock_not_pausable"
