"""The analytics worker: keeps the read model current from events, checks each new petition
(routing suggestion, repeats; the repeat index is built from PostgreSQL at start) and sweeps
the open cases for risks every hour (arq cron). It stores each district's reports on schedule
(Asia/Shanghai; ``schedule.py``, each time a setting): the 日快报 daily at 12:05, the 周预警 of
the previous seven days on Mondays at 08:00, the 月研判 of the previous month on the 1st at
08:00."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from arq import cron
from arq.typing import WEEKDAYS

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
        cron_jobs=[
            cron(screening_sweep, minute={7}, run_at_startup=False, unique=True, timeout=900),
            *report_crons(),
        ],
        startup=warm_up,
    )
    ws.timezone = CRON_TIMEZONE
    return ws
