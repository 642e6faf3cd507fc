"""Analytics over HTTP: scoped by the caller's jurisdiction, accusations in totals only
outside discipline roles, roles checked, the reports' data and the statistics table."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from openpyxl import load_workbook

from services.analytics.app import create_app
from shared.db import Database
from shared.identity import service as identity
from shared.settings import Settings
from tests.casework_world import _staff
from tests.integration.test_analytics_metrics import History, build, consumer, deliver

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def unit(db: Database, region: str, kind: str = "petition_office") -> str:
    uid = f"AN-{uuid.uuid4().hex[:8]}"
    async with db.transaction("identity") as conn:
        await identity.create_org_unit(
            conn, id=uid, name=uid, kind=kind, parent_id=None, region_codes=[region]
        )
    return uid


async def token(db: Database, settings: Settings, unit_id: str, role: str) -> dict[str, str]:
    headers, _ = await _staff(db, settings, unit_id, [role], f"{unit_id}:{role}")
    return headers


Q = {"start": "2025-01-01", "end": "2025-12-31"}


async def test_scoped_metrics_reports_and_xlsx(
    client: httpx.AsyncClient, db: Database, settings: Settings, clean: None
) -> None:
    h = History(db)
    await build(h)
    await deliver(await consumer(db, settings), h.log)
    baoan = await unit(db, "440306")
    analyst = await token(db, settings, baoan, "analyst")
    inspector = await token(
        db, settings, await unit(db, "440306", "discipline"), "discipline_inspector"
    )
    luohu = await token(db, settings, await unit(db, "440303"), "leader")
    longgang = await token(db, settings, await unit(db, "440307"), "analyst")
    handler = await token(db, settings, baoan, "handler")

    r = await client.get("/api/v1/analytics/metrics", params=Q, headers=analyst)
    assert r.status_code == 200
    [total] = r.json()
    assert total["volumes"]["received"] == 9  # J is in 罗湖
    closure = total["rates"]["closure"]
    assert (closure["numerator"], closure["denominator"]) == (4, 6)
    assert closure["previous"] is None  # no cases a year earlier
    assert total["rates"]["hotline_satisfaction"]["value"] == pytest.approx(0.9)

    r = await client.get(
        "/api/v1/analytics/metrics", params={**Q, "group": "category"}, headers=analyst
    )
    cats = {row["key"]: row["volumes"]["received"] for row in r.json()}
    assert "C09.01.01" not in cats  # the accusation: totals only
    r = await client.get(
        "/api/v1/analytics/metrics", params={**Q, "group": "category"}, headers=inspector
    )
    assert {row["key"]: row["volumes"]["received"] for row in r.json()}["C09.01.01"] == 1

    r = await client.get("/api/v1/analytics/metrics", params=Q, headers=luohu)
    assert [row["volumes"]["received"] for row in r.json()] == [1]
    assert (await client.get("/api/v1/analytics/metrics", params=Q, headers=longgang)).json() == []
    assert (
        await client.get("/api/v1/analytics/metrics", params=Q, headers=handler)
    ).status_code == 403
    assert (await client.get("/api/v1/analytics/metrics", params=Q)).status_code == 401
    r = await client.get(
        "/api/v1/analytics/metrics", params={**Q, "region": "440303"}, headers=analyst
    )
    assert r.json() == []  # a filter never widens the jurisdiction

    vols = (
        await client.get("/api/v1/analytics/volumes", params={"since": "2025-01-01"}, headers=luohu)
    ).json()
    assert [(v["metric"], v["count"]) for v in vols] == [("received", 1)]

    r = await client.get(
        "/api/v1/analytics/rankings",
        params={**Q, "rate": "timely_acceptance", "group": "unit"},
        headers=inspector,
    )
    ranks = r.json()
    # U1: A B C D E H I accepted, C late → 6/7; OFFICE: F refused on time → under min_cases
    assert [(x["key"], x["numerator"], x["denominator"]) for x in ranks] == [("U1", 6, 7)]

    brief = (
        await client.get(
            "/api/v1/analytics/reports/daily", params={"day": "2025-03-06"}, headers=analyst
        )
    ).json()
    # 2025-03-05 12:00 → 2025-03-06 12:00 Shanghai: D (received 03-06 10:00)
    assert brief["volumes"]["received"] == 1 and brief["volumes"]["visit_individual"] == 1
    monthly = (
        await client.get(
            "/api/v1/analytics/reports/monthly", params={"month": "2025-03"}, headers=analyst
        )
    ).json()
    assert monthly["totals"]["volumes"]["received"] == 8  # G came in April
    weekly = (
        await client.get(
            "/api/v1/analytics/reports/weekly", params={"end": "2025-03-09"}, headers=analyst
        )
    ).json()
    assert weekly["totals"]["volumes"]["received"] == 7  # A..I of 3–9 March less J and G

    r = await client.get("/api/v1/analytics/reports/statistics.xlsx", params=Q, headers=analyst)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["按地区", "按类别", "按责任单位"]
    rows = list(wb["按地区"].iter_rows(values_only=True))
    assert rows[-1][0] == "合计" and rows[-1][1] == 9
