"""The analytics worker: keeps the read model current from events, checks each new petition
(routing suggestion, repeats; the repeat index is built from PostgreSQL at start) and sweeps
the open cases for risks every hour (arq cron) and stores each district's 日快报 at 12:05
Asia/Shanghai."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from arq import cron

from services.analytics.metric.handlers import HANDLERS
from services.analytics.report.archive import store_daily_reports
from services.analytics.screening.service import sweep
from services.analytics.suggestion.index import warm_up
from shared.bus import BusContext
from shared.bus.worker import make_worker_settings
from shared.clock import SHANGHAI
from shared.logging import get_logger
from shared.storage import object_store

log = get_logger(__name__)


async def screening_sweep(ctx: dict[str, Any]) -> int:
    bus: BusContext = ctx["bus"]
    now = bus.clock.now()
    async with bus.db.transaction("analytics") as db:
        result = await sweep(db, as_of=now.astimezone(SHANGHAI).date(), now=now)
    if result is None:
        log.info("analytics.screening.skipped", reason="another sweep is running")
        return 0
    log.info(
        "analytics.screening.swept",
        assessed=result.assessed,
        items=result.items,
        new=result.new_items,
        cleared=result.cleared,
    )
    return result.items


async def daily_reports(ctx: dict[str, Any]) -> int:
    """The 日快报 of today (12:00 yesterday to 12:00 today) for each district, stored once."""
    bus: BusContext = ctx["bus"]
    now = bus.clock.now()
    result = await store_daily_reports(
        bus.db, object_store(bus.settings), bus.settings, now.astimezone(SHANGHAI).date(), now
    )
    log.info("analytics.reports.daily", stored=result.stored, skipped=result.skipped)
    return result.stored


# arq reads cron times in the worker's timezone: Asia/Shanghai (no daylight saving)
CRON_TIMEZONE = timezone(timedelta(hours=8))


def worker_settings() -> type:
    ws: Any = make_worker_settings(
        "analytics",
        HANDLERS,
        functions=[screening_sweep, daily_reports],
        cron_jobs=[
            cron(screening_sweep, minute={7}, run_at_startup=False, unique=True, timeout=900),
            cron(
                daily_reports, hour={12}, minute={5}, run_at_startup=False, unique=True, timeout=900
            ),
        ],
        startup=warm_up,
    )
    ws.timezone = CRON_TIMEZONE
    return ws
