"""The notify worker: turns events into messages and sends them."""

from __future__ import annotations

from services.notify.message.handlers import HANDLERS
from services.notify.message.service import run_sender
from shared.bus.worker import make_worker_settings


def worker_settings() -> type:
    return make_worker_settings("notify", HANDLERS, background=[run_sender])
