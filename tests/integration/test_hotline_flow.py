"""A 12345 order through the whole system: registered as a case, amended, then cancelled by
the caller (撤单) — casework closes it as withdrawn and the public view shows it; the
hotline's call-back reaches analytics."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from shared.db import Database
from shared.settings import Settings
from tests.contract.test_hotline import Hotline, order
from tests.integration.test_slice import system
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def q(db: Database, schema: str, sql: str) -> Any:
    async with db.transaction(schema) as conn:
        return await conn.scalar(text(sql))


async def test_order_amended_then_cancelled(settings: Settings, db: Database, clean: None) -> None:
    async with system(settings) as (client, _sms, _cfg):
        hotline = Hotline(client)
        created = (await hotline.post("/api/v1/hotline/work-orders", order("GD-FLOW-1"))).json()

        async def registered() -> bool:
            return await q(db, "casework", "SELECT status FROM casework.case") == "registered"

        await eventually(registered)
        await hotline.post(
            "/api/v1/hotline/work-orders",
            order("GD-FLOW-1", revision=2, title="油烟扰民（已补充材料）"),
        )

        async def amended() -> bool:
            return (
                await q(db, "casework", "SELECT title FROM casework.case")
                == "油烟扰民（已补充材料）"
            )

        await eventually(amended)
        r = await hotline.post(
            "/api/v1/hotline/work-orders/GD-FLOW-1/cancel",
            {"reason": "已自行协商解决", "cancelled_at": "2026-11-22T12:00:00+08:00"},
        )
        assert r.status_code == 200

        async def withdrawn() -> bool:
            return await q(db, "intake", "SELECT status FROM intake.petition") == "withdrawn"

        await eventually(withdrawn)
        assert await q(db, "casework", "SELECT status FROM casework.case") == "withdrawn"
        actions = await q(
            db, "casework", "SELECT string_agg(action, ',' ORDER BY id) FROM casework.case_history"
        )
        assert actions == "register,amend,withdraw"
        await hotline.post(
            "/api/v1/hotline/evaluations",
            {
                "order_no": "GD-FLOW-1",
                "visited_at": "2026-11-23T10:00:00+08:00",
                "contacted": True,
                "solved": True,
                "rating": "满意",
                "comment": None,
            },
        )

        async def counted() -> bool:
            return await q(db, "analytics", "SELECT count(*) FROM analytics.hotline_callback") == 1

        await eventually(counted)
        assert created["tracking_no"]
