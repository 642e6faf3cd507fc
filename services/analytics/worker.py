"""The analytics worker: keeps the read model current from events, checks each new petition
(routing suggestion, repeats; the repeat index is built from PostgreSQL at start) and sweeps
the open cases for risks every hour (arq cron), and also at start and whenever newly received
petitions settle during the first half hour (``screening_at_start``), so the ledger and the
zero reports do not wait for the first hourly sweep. It stores each district's reports on schedule
(Asia/Shanghai; ``schedule.py``, each time a setting): the 日快报 daily at 12:05, the 周预警 of
the previous seven days on Mondays at 08:00, the 月研判 of the previous month on the 1st at
08:00."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone
from typing import Any

from arq import cron
from arq.typing import WEEKDAYS
from sqlalchemy import text

from services.analytics.metric.handlers import HANDLERS
from services.analytics.report.archive import (
    store_daily_reports,
    store_monthly_reports,
    store_weekly_reports,
)
from services.analytics.schedule import (
    hour_minute,
    monthly_report_day,
    report_schedule,
    weekly_report_day,
)
from services.analytics.screening.service import sweep
from services.analytics.suggestion.index import warm_up
from shared.bus import BusContext
from shared.bus.worker import make_worker_settings
from shared.clock import SHANGHAI
from shared.logging import get_logger
from shared.storage import object_store

log = get_logger(__name__)


async def sweep_now(bus: BusContext, reason: str = "hourly") -> int:
    now = bus.clock.now()
    async with bus.db.transaction("analytics") as db:
        result = await sweep(db, as_of=now.astimezone(SHANGHAI).date(), now=now)
    if result is None:
        log.info("analytics.screening.skipped", reason="another sweep is running")
        return 0
    log.info(
        "analytics.screening.swept",
        trigger=reason,
        assessed=result.assessed,
        items=result.items,
        new=result.new_items,
        cleared=result.cleared,
    )
    return result.items


async def screening_sweep(ctx: dict[str, Any]) -> int:
    bus: BusContext = ctx["bus"]
    return await sweep_now(bus)


# After the worker starts: a sweep at once, then, while petitions keep arriving (a fresh
# ``make run`` loads its demo data after the workers are up), one more each time the intake
# settles — checked every SETTLE_SECONDS for START_WINDOW_SECONDS, after which the hourly cron
# alone sweeps. So the ledger is filled before the first hourly sweep.
SETTLE_SECONDS = 20.0
START_WINDOW_SECONDS = 1800.0


async def _received_mark(bus: BusContext) -> int:
    """How far repeat checks have got (one ``case_repeat`` row per received petition)."""
    async with bus.db.transaction("analytics") as db:
        return int(
            await db.scalar(text("SELECT coalesce(max(seq), 0) FROM analytics.case_repeat")) or 0
        )


async def screening_at_start(
    bus: BusContext,
    *,
    settle: float = SETTLE_SECONDS,
    window: float = START_WINDOW_SECONDS,
) -> None:
    """A background task of the worker: the start sweeps above, then idle for the worker's
    life (a background task that returns is started again)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    swept = await _received_mark(bus)
    await sweep_now(bus, "startup")
    seen = swept
    while loop.time() - started < window:
        await asyncio.sleep(settle)
        mark = await _received_mark(bus)
        if mark != swept and mark == seen:  # new petitions, and none since the last look
            await sweep_now(bus, "settled")
            swept = mark
        seen = mark
    await asyncio.Event().wait()


async def daily_reports(ctx: dict[str, Any]) -> int:
    """The 日快报 of today (12:00 yesterday to 12:00 today) for each district, stored once."""
    bus: BusContext = ctx["bus"]
    now = bus.clock.now()
    result = await store_daily_reports(
        bus.db, object_store(bus.settings), bus.settings, now.astimezone(SHANGHAI).date(), now
    )
    log.info("analytics.reports.daily", stored=result.stored, skipped=result.skipped)
    return result.stored


async def weekly_reports(ctx: dict[str, Any]) -> int:
    """The 周预警 of the seven days to yesterday for each district, stored once."""
    bus: BusContext = ctx["bus"]
    now = bus.clock.now()
    end = weekly_report_day(now.astimezone(SHANGHAI).date())
    result = await store_weekly_reports(bus.db, object_store(bus.settings), bus.settings, end, now)
    log.info(
        "analytics.reports.weekly",
        end=end.isoformat(),
        stored=result.stored,
        skipped=result.skipped,
    )
    return result.stored


async def monthly_reports(ctx: dict[str, Any]) -> int:
    """The 月研判 of the previous month for each district, stored once."""
    bus: BusContext = ctx["bus"]
    now = bus.clock.now()
    day = monthly_report_day(now.astimezone(SHANGHAI).date())
    result = await store_monthly_reports(bus.db, object_store(bus.settings), bus.settings, day, now)
    log.info(
        "analytics.reports.monthly",
        month=day.strftime("%Y-%m"),
        stored=result.stored,
        skipped=result.skipped,
    )
    return result.stored


# arq reads cron times in the worker's timezone: Asia/Shanghai (no daylight saving)
CRON_TIMEZONE = timezone(timedelta(hours=8))


def report_crons() -> list[Any]:
    """The report crons at the times of ``schedule.ReportSchedule``."""
    s = report_schedule()
    dh, dm = hour_minute(s.daily_report_at)
    wh, wm = hour_minute(s.weekly_report_at)
    mh, mm = hour_minute(s.monthly_report_at)
    common: dict[str, Any] = {"run_at_startup": False, "unique": True, "timeout": 1800}
    return [
        cron(daily_reports, hour={dh}, minute={dm}, **common),
        cron(
            weekly_reports,
            weekday=WEEKDAYS.index(s.weekly_report_weekday),
            hour={wh},
            minute={wm},
            **common,
        ),
        cron(monthly_reports, day={s.monthly_report_day}, hour={mh}, minute={mm}, **common),
    ]


def worker_settings() -> type:
    ws: Any = make_worker_settings(
        "analytics",
        HANDLERS,
        functions=[screening_sweep, daily_reports, weekly_reports, monthly_reports],
        background=[screening_at_start],
        cron_jobs=[
            cron(screening_sweep, minute={7}, run_at_startup=False, unique=True, timeout=900),
            *report_crons(),
        ],
        startup=warm_up,
    )
    ws.timezone = CRON_TIMEZONE
    return ws
