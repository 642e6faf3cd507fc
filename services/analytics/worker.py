"""The analytics worker: keeps the read model current from events."""

from __future__ import annotations

from services.analytics.metric.handlers import HANDLERS
from shared.bus.worker import make_worker_settings


def worker_settings() -> type:
    return make_worker_settings("analytics", HANDLERS)
