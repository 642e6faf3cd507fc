"""The deadline sweep against real PostgreSQL: each warning and each miss is published
exactly once per clock, however often (and however concurrently) the sweep runs."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from services.casework.deadline.sweep import sweep, sweep_job
from shared.bus.consumer import BusContext
from shared.clock import FixedClock
from shared.db import Database
from shared.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOW = datetime.fromisoformat("2025-06-02T12:00:00+08:00")
APPROACHED = "casework.case.deadline_approached"
MISSED = "casework.case.deadline_missed"


async def add_clock(
    db: Database,
    kind: str,
    *,
    started: timedelta,
    due: timedelta,
    paused: bool = False,
    stopped: bool = False,
) -> uuid.UUID:
    """A case with one clock started and due at these offsets from NOW."""
    case_id = uuid.uuid4()
    async with db.transaction("casework") as conn:
        await conn.execute(
            text(
                'INSERT INTO casework."case" (case_id, tracking_no, source, channel, title, '
                "category_code, region_code, status, received_at, registered_at, updated_at, "
                "lead_unit_id, due_at) VALUES (:id, :no, 'letter', 'letter', '测试', 'C01.05', "
                "'440306', 'in_progress', :s, :s, :s, 'SZBA-ZJJ', :d)"
            ),
            {"id": case_id, "no": "S" + case_id.hex[:12], "s": NOW + started, "d": NOW + due},
        )
        await conn.execute(
            text(
                "INSERT INTO casework.case_clock (case_id, kind, started_at, days, policy, "
                "due_at, paused_at, stopped_at) VALUES (:id, :k, :s, 10, 'test', :d, :p, :st)"
            ),
            {
                "id": case_id,
                "k": kind,
                "s": NOW + started,
                "d": NOW + due,
                "p": NOW - timedelta(days=1) if paused else None,
                "st": NOW - timedelta(hours=1) if stopped else None,
            },
        )
    return case_id


async def published(db: Database) -> list[Any]:
    async with db.transaction("casework") as conn:
        return list(
            (
                await conn.execute(
                    text(
                        "SELECT type, aggregate_id, payload FROM casework.outbox_event "
                        "WHERE type IN (:a, :m) ORDER BY position"
                    ),
                    {"a": APPROACHED, "m": MISSED},
                )
            ).all()
        )


async def run(db: Database, settings: Settings, clock: FixedClock) -> tuple[int, int]:
    async with db.transaction("casework") as conn:
        return await sweep(conn, clock=clock, settings=settings)


async def test_each_warning_and_miss_once(db: Database, settings: Settings, clean: None) -> None:
    day = timedelta(days=1)
    # 9 of 10 days gone: past 80 %, not due → warned
    warn = await add_clock(db, "handle", started=-9 * day, due=day)
    # due yesterday → missed (and never "approaching")
    miss = await add_clock(db, "register", started=-11 * day, due=-day)
    # 1 of 10 days gone → nothing
    early = await add_clock(db, "accept", started=-day, due=9 * day)
    # paused or stopped clocks are not swept
    await add_clock(db, "reexam", started=-11 * day, due=-day, paused=True)
    await add_clock(db, "object", started=-11 * day, due=-day, stopped=True)
    clock = FixedClock(NOW)

    assert await run(db, settings, clock) == (1, 1)
    assert await run(db, settings, clock) == (0, 0)  # run twice: nothing new
    # two sweeps at once: still nothing twice
    both = await asyncio.gather(run(db, settings, clock), run(db, settings, clock))
    assert sorted(both) == [(0, 0), (0, 0)]
    events = await published(db)
    assert [(e.type, e.aggregate_id) for e in events] == [
        (APPROACHED, str(warn)),
        (MISSED, str(miss)),
    ]
    payload = events[0].payload
    assert payload["clock"] == "handle" and payload["actor"] == "system"
    assert payload["unit_id"] == "SZBA-ZJJ" and payload["status"] == "in_progress"
    assert payload["tracking_no"] == "S" + warn.hex[:12]
    assert payload["region_code"] == "440306" and payload["category_code"] == "C01.05"
    assert payload["public_message"] is None and payload["source"] == "letter"
    assert datetime.fromisoformat(payload["deadline"]) == NOW + day

    # two days later the warned clock is missed too; the early one is now at 30 %
    clock.advance(2 * day)
    assert await run(db, settings, clock) == (0, 1)
    # with a warning share of 50 % the early clock (3 of 10 days gone) is warned at day 5
    half = settings.model_copy(update={"deadline_warn_share": 0.5})
    assert await run(db, half, clock) == (0, 0)
    clock.advance(2 * day)  # 5 of 10 days gone
    assert await run(db, half, clock) == (1, 0)
    assert await run(db, half, clock) == (0, 0)

    events = await published(db)
    counts = {t: sum(e.type == t for e in events) for t in (APPROACHED, MISSED)}
    assert counts == {APPROACHED: 2, MISSED: 2}
    assert [e.aggregate_id for e in events if e.type == MISSED] == [str(miss), str(warn)]
    assert [e.aggregate_id for e in events if e.type == APPROACHED] == [str(warn), str(early)]
    async with db.transaction("casework") as conn:
        marks = (
            await conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE warned_at IS NOT NULL), "
                    "count(*) FILTER (WHERE missed_at IS NOT NULL) FROM casework.case_clock"
                )
            )
        ).one()
    assert tuple(marks) == (2, 2)


async def test_sweep_job(db: Database, settings: Settings, clean: None) -> None:
    day = timedelta(days=1)
    for _ in range(3):
        await add_clock(db, "handle", started=-11 * day, due=-day)
    redis: Any = None  # the sweep does not use Redis
    bus = BusContext(
        service="casework", settings=settings, db=db, redis=redis, clock=FixedClock(NOW)
    )
    assert await sweep_job({"bus": bus}) == 3
    assert await sweep_job({"bus": bus}) == 0
    assert len(await published(db)) == 3
