"""The casework worker: registers cases and relays casework's events."""

from __future__ import annotations

from services.casework.case.handlers import HANDLERS
from shared.bus.worker import make_worker_settings


def worker_settings() -> type:
    return make_worker_settings("casework", HANDLERS)
