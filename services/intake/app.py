"""The intake service (受理入口): every channel in. Also mounts sign-in (identity) for staff."""

from __future__ import annotations

from fastapi import FastAPI

from services.intake.citizen.router import router as citizen_router
from services.intake.exchange.router import router as exchange_router
from services.intake.hotline.router import router as hotline_router
from services.intake.open311.router import router as open311_router
from services.intake.petition.router import citizen_router as my_petitions_router
from services.intake.petition.router import router as petition_router
from services.intake.registrar.router import router as registrar_router
from shared.api.app import create_service_app
from shared.identity.router import admin_router
from shared.identity.router import router as auth_router
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    routers = [
        petition_router,
        my_petitions_router,
        citizen_router,
        hotline_router,
        exchange_router,
        open311_router,
        registrar_router,
        auth_router,
        admin_router,
    ]
    return create_service_app(
        "intake",
        routers,
        settings=settings,
        title="Minsheng intake (受理入口)",
        description="Petitions in from every channel; the public tracking view.",
        # its load is pushes (writes whose plans do not depend on the values); its reads look
        # up by key, where PostgreSQL keeps planning each execution if that is cheaper
        generic_plans=True,
    )
