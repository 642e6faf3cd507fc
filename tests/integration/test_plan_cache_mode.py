"""Which services let PostgreSQL keep generic plans for their prepared statements: intake,
whose load is pushes (writes whose plans do not depend on the values), does; casework, whose
searches and scoped queues need each execution planned with its values, does not."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from services.casework.app import create_app as casework_app
from services.intake.app import create_app as intake_app
from shared.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.mark.parametrize(
    ("create_app", "schema", "mode"),
    [(intake_app, "intake", "auto"), (casework_app, "casework", "force_custom_plan")],
)
async def test_a_service_plans_as_its_load_needs(
    settings: Settings, create_app: Callable[[Settings], FastAPI], schema: str, mode: str
) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with app.state.db.transaction(schema) as conn:
            shown = (await conn.execute(text("SHOW plan_cache_mode"))).scalar_one()
    assert shown == mode
