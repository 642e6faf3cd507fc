"""The 周预警 and 月研判 crons: each district's report of the previous week / month stored
once (HTML and PDF), a rerun of the same period storing nothing, listed and fetched through
the archive API within the caller's jurisdiction."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from services.analytics.worker import monthly_reports, weekly_reports
from shared.bus import BusContext
from shared.bus.worker import open_redis
from shared.clock import FixedClock
from shared.db import Database
from shared.reference import regions
from shared.settings import Settings
from tests.integration.test_analytics_api import token, unit
from tests.integration.test_analytics_reports_rendered import (  # noqa: F401  (fixtures)
    R,
    client,
    history,
    pdf_text,
    store_settings,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _bus(db: Database, settings: Settings, store: Settings, at: datetime) -> BusContext:
    return BusContext(
        service="analytics",
        settings=store,
        db=db,
        redis=await open_redis(settings),
        clock=FixedClock(at),
    )


async def _stored(db: Database) -> list[tuple[str, str, str, str, str]]:
    async with db.transaction("analytics") as conn:
        rows = await conn.execute(
            text(
                "SELECT kind, region_code, period_start::text, period_end::text, format "
                "FROM analytics.generated_report ORDER BY 1, 2, 3, 5"
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_weekly_and_monthly_crons_store_each_district_once(
    client: httpx.AsyncClient,  # noqa: F811
    db: Database,
    settings: Settings,
    store_settings: Settings,  # noqa: F811
    clean: None,
) -> None:
    await history(db, settings)
    districts = len(regions.districts())

    # Monday 10 March 2025, 08:00 in Shanghai: the week of 3–9 March
    monday = datetime(2025, 3, 10, 0, 0, tzinfo=UTC)
    bus = await _bus(db, settings, store_settings, monday)
    assert await weekly_reports({"bus": bus}) == 2 * districts  # HTML and PDF each
    assert await weekly_reports({"bus": bus}) == 0  # a rerun of the same week stores nothing
    # a retry later the same day still covers the same week: nothing new
    later = await _bus(db, settings, store_settings, datetime(2025, 3, 10, 9, 0, tzinfo=UTC))
    assert await weekly_reports({"bus": later}) == 0
    weekly = [r for r in await _stored(db) if r[0] == "weekly"]
    assert len(weekly) == 2 * districts
    assert {(r[2], r[3]) for r in weekly} == {("2025-03-03", "2025-03-09")}

    # 1 April 2025, 08:00 in Shanghai: March
    bus = await _bus(db, settings, store_settings, datetime(2025, 4, 1, 0, 0, tzinfo=UTC))
    assert await monthly_reports({"bus": bus}) == 2 * districts
    assert await monthly_reports({"bus": bus}) == 0
    monthly = [r for r in await _stored(db) if r[0] == "monthly"]
    assert {(r[2], r[3]) for r in monthly} == {("2025-03-01", "2025-03-31")}
    assert len(monthly) == 2 * districts

    # the archive API: 宝安 sees its own two reports of each kind, with the figures
    analyst = await token(db, settings, await unit(db, "440306"), "analyst")
    listed = (await client.get(R + "/archive", params={"kind": "weekly"}, headers=analyst)).json()
    assert [
        (r["kind"], r["region_code"], r["period_start"], r["period_end"], r["format"])
        for r in listed
    ] == [
        ("weekly", "440306", "2025-03-03", "2025-03-09", "html"),
        ("weekly", "440306", "2025-03-03", "2025-03-09", "pdf"),
    ]
    r = await client.get(f"{R}/archive/{listed[1]['id']}", headers=analyst)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "信访周预警" in pdf_text(r.content) and "本周收件7件" in pdf_text(r.content)
    html = (await client.get(f"{R}/archive/{listed[0]['id']}", headers=analyst)).text
    assert "本周收件 7 件，上周 0 件" in html

    listed = (await client.get(R + "/archive", params={"kind": "monthly"}, headers=analyst)).json()
    assert [(r["period_start"], r["format"]) for r in listed] == [
        ("2025-03-01", "html"),
        ("2025-03-01", "pdf"),
    ]
    html = (await client.get(f"{R}/archive/{listed[0]['id']}", headers=analyst)).text
    assert "信访月研判" in html and "本月收件 8 件，去年同月 0 件" in html
    # 罗湖's month: J only, and 宝安's file is out of its reach
    luohu = await token(db, settings, await unit(db, "440303"), "leader")
    theirs = (await client.get(R + "/archive", params={"kind": "monthly"}, headers=luohu)).json()
    assert {r["region_code"] for r in theirs} == {"440303"}
    html = (await client.get(f"{R}/archive/{theirs[0]['id']}", headers=luohu)).text
    assert "本月收件 1 件" in html
    assert (await client.get(f"{R}/archive/{listed[0]['id']}", headers=luohu)).status_code == 404
    # every kind listed together, newest period first
    everything = (await client.get(R + "/archive", headers=analyst)).json()
    assert [(r["kind"], r["period_start"]) for r in everything][::2] == [
        ("weekly", "2025-03-03"),
        ("monthly", "2025-03-01"),
    ]
