"""The casework worker: registers cases from intake's events, relays casework's events, and
sweeps the legal clocks (warnings at the configured share of a clock, misses at its end)
every minute."""

from __future__ import annotations

from arq import cron

from services.casework.case.handlers import HANDLERS
from services.casework.deadline.sweep import sweep_job
from shared.bus.worker import make_worker_settings


def worker_settings() -> type:
    return make_worker_settings(
        "casework",
        HANDLERS,
        cron_jobs=[cron(sweep_job, second=7, run_at_startup=True, unique=True, timeout=120)],
    )
