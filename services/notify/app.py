"""The notify service (通知): every outbound message."""

from __future__ import annotations

from fastapi import FastAPI

from services.notify.router import router
from shared.api.app import create_service_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        "notify",
        [router],
        settings=settings,
        title="Minsheng notify (通知)",
        description="The five returns, alerts, evaluations and partner callbacks.",
    )
