"""The analytics service (研判): its own read model, built from events."""

from __future__ import annotations

from fastapi import FastAPI

from services.analytics.metric.router import router as metric_router
from services.analytics.report.router import router as report_router
from services.analytics.screening.router import router as screening_router
from services.analytics.suggestion.router import router as suggestion_router
from shared.api.app import create_service_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        "analytics",
        [metric_router, report_router, screening_router, suggestion_router],
        settings=settings,
        title="Minsheng analytics (研判)",
        description="Screening, hotspots, metrics and reports.",
    )
