"""The analytics worker: keeps the read model current from events, checks each new petition
(routing suggestion, repeats; the repeat index is built from PostgreSQL at start) and sweeps
the open cases for risks every hour (arq cron)."""

from __future__ import annotations

from typing import Any

from arq import cron

from services.analytics.metric.handlers import HANDLERS
from services.analytics.screening.service import sweep
from services.analytics.suggestion.index import warm_up
from shared.bus import BusContext
from shared.bus.worker import make_worker_settings
from shared.clock import SHANGHAI
from shared.logging import get_logger

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


def worker_settings() -> type:
    return make_worker_settings(
        "analytics",
        HANDLERS,
        functions=[screening_sweep],
        cron_jobs=[
            cron(screening_sweep, minute={7}, run_at_startup=False, unique=True, timeout=900)
        ],
        startup=warm_up,
    )
