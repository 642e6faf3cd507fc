"""The intake worker: relays intake's events and keeps the tracking view up to date."""

from __future__ import annotations

from services.intake.petition.handlers import HANDLERS
from shared.bus.worker import make_worker_settings


def worker_settings() -> type:
    return make_worker_settings("intake", HANDLERS)
