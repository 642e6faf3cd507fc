"""The screening ledger does not wait for the first hourly sweep: the analytics worker sweeps
when it starts and again once newly received petitions settle (a fresh ``make run`` loads its
demo data after the workers are up); zero reports are refused until a sweep has run."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date

import pytest
from sqlalchemy import text

from services.analytics import worker
from services.analytics.screening.service import NotScreened, zero_report_rows
from shared.db import Database
from shared.settings import Settings
from tests.integration.test_analytics_wiring_screening import PLAIN, THREAT, ledger
from tests.integration.test_analytics_wiring_suggestions import consumer, items, received

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def runs(db: Database) -> int:
    async with db.transaction("analytics") as conn:
        return int(
            await conn.scalar(text("SELECT coalesce(sum(runs), 0) FROM analytics.screening_run"))
        )


async def wait_for(check, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_zero_reports_need_a_sweep(db: Database, settings: Settings, clean: None) -> None:
    async with db.transaction("analytics") as conn:
        with pytest.raises(NotScreened):
            await zero_report_rows(
                conn,
                prefixes=("44",),
                accusations=False,
                start=date(2025, 1, 1),
                end=date(2025, 1, 31),
            )


async def test_worker_sweeps_at_start_and_when_petitions_settle(
    db: Database, settings: Settings, clean: None
) -> None:
    analytics = await consumer(db, settings, "analytics")
    first = await received(db, THREAT, "pk-t", 0, category="C02.01.01")
    await analytics.consume(1, "intake", items([first]))
    bus = analytics.ctx
    task = asyncio.create_task(worker.screening_at_start(bus, settle=0.2, window=30))
    try:
        await wait_for(lambda: _has_items(db, 1))  # the sweep at start
        assert await runs(db) == 1
        today = bus.clock.now().astimezone(worker.SHANGHAI).date()
        async with db.transaction("analytics") as conn:
            zero = await zero_report_rows(
                conn, prefixes=("44",), accusations=False, start=today, end=today
            )
        assert zero == []  # no unit yet (nothing registered), but no refusal either
        # petitions arriving after the start (the demo load): swept once they settle
        later = await received(db, (THREAT[0] + "二", THREAT[1]), "pk-u", 1, category="C02.01.01")
        plain = await received(db, PLAIN, "pk-p", 1, category="C04.01")
        await analytics.consume(1, "intake", items([later, plain]))
        await wait_for(lambda: _has_items(db, 2))
        await asyncio.sleep(0.6)  # nothing new: no further sweep
        assert await runs(db) == 2
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _has_items(db: Database, n: int) -> bool:
    return len(await ledger(db)) >= n
