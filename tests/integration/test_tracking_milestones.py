"""The petitioner's tracking view follows the case: casework's public milestones reach intake
through the bus, with the deadline then running (casework issue, point 7)."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
import pytest

from services.casework.app import create_app as create_casework
from shared.clock import system_clock
from shared.db import Database
from shared.identity import service as identity
from shared.settings import Settings
from tests.integration.test_slice import PETITION, system
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_tracking_shows_public_milestones_and_the_running_deadline(
    settings: Settings, db: Database, clean: None
) -> None:
    s = uuid.uuid4().hex[:8]
    async with db.transaction("identity") as conn:
        await identity.create_org_unit(conn, id=f"TRK-{s}", name="宝安区信访局",
                                       kind="petition_office", parent_id=None,
                                       region_codes=["440306"])  # fmt: skip
        await identity.create_staff(conn, username=f"trk.{s}", display_name="信访干部",
                                    org_unit_id=f"TRK-{s}", roles=["petition_officer"],
                                    password="correct-horse-1")  # fmt: skip
    async with db.transaction("identity") as conn:
        login = await identity.authenticate(conn, username=f"trk.{s}", password="correct-horse-1",
                                            totp_code=None, clock=system_clock,
                                            settings=settings)  # fmt: skip
    officer = {"Authorization": f"Bearer {login.access_token}"}
    async with system(settings) as (client, _, cfg):
        created = (await client.post("/api/v1/petitions", json=PETITION)).json()
        url = f"/api/v1/petitions/{created['tracking_no']}"
        code = {"code": created["query_code"]}

        async def registered() -> dict | None:
            view = (await client.get(url, params=code)).json()
            return view if view["status"] == "registered" else None

        view = await eventually(registered)
        first_deadline = view["deadline"]
        assert first_deadline is not None  # the 15-day clocks from receipt
        casework = create_casework(cfg)
        async with casework.router.lifespan_context(casework):
            transport = httpx.ASGITransport(app=casework)
            async with httpx.AsyncClient(transport=transport, base_url="http://cw") as staff:
                r = await staff.post(
                    f"/api/v1/casework/cases/{created['case_id']}/acts/accept",
                    json={"handling_path": "claim"}, headers=officer,
                )  # fmt: skip
                assert r.status_code == 200, r.text

        async def accepted() -> dict | None:
            view = (await client.get(url, params=code)).json()
            return view if view["status"] == "accepted" else None

        view = await eventually(accepted)
        assert [m["milestone"] for m in view["history"]] == ["received", "registered", "accepted"]
        assert "已受理" in view["history"][-1]["message"]
        # the deadline is now the 60-day handling clock, later than the acceptance one
        assert datetime.fromisoformat(view["deadline"]) > datetime.fromisoformat(first_deadline)
