"""The casework service (办理): the statutory workflow on the legal clock."""

from __future__ import annotations

from fastapi import FastAPI

from services.casework.case import router as case_router
from services.casework.deadline import router as deadline_router
from services.casework.notice import router as notice_router
from shared.api.app import create_service_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        "casework",
        [case_router.router, deadline_router.router, notice_router.router],
        settings=settings,
        title="Minsheng casework (办理)",
        description="Cases, routing, deadlines, replies and notices.",
    )
