"""The notify worker: turns events into messages, alerts and partner callbacks, sends them,
and closes evaluation windows (超期未评价)."""

from __future__ import annotations

from arq import cron

from services.notify.callback.service import run_callbacks
from services.notify.evaluation.service import expire_job
from services.notify.message.handlers import HANDLERS
from services.notify.message.service import run_sender
from shared.bus.worker import make_worker_settings


def worker_settings() -> type:
    return make_worker_settings(
        "notify",
        HANDLERS,
        functions=[expire_job],
        cron_jobs=[cron(expire_job, minute=set(range(0, 60, 5)), unique=True, timeout=60)],
        background=[run_sender, run_callbacks],
    )
