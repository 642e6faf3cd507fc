"""Screening persisted: a sweep over the open cases writes each case's risk and the ledger
(排查台账); a second sweep leaves the ledger as it was; a closed case's item is cleared; the
ledger, zero reports and hotspots endpoints are scoped (a district sees its district;
accusations only for discipline inspectors); ``minsheng analytics hotspots`` reads the
database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from minsheng.analytics_text_cli import cmd_hotspots
from services.analytics.app import create_app
from services.analytics.screening.service import sweep
from shared.bus.outbox import publish
from shared.db import Database
from shared.events import casework as cw
from shared.settings import Settings
from tests.integration.test_analytics_api import token, unit
from tests.integration.test_analytics_wiring_suggestions import (
    LUOHU,
    T0,
    consumer,
    items,
    received,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

AS_OF = date(2025, 5, 20)  # no sensitive period within 15 days
THREAT = ("讨要工资", "老板拖欠我们农民工工资半年，再不解决我们就集体去北京上访。")
PLAIN = ("路灯不亮", "小区门口路灯坏了，晚上出行不便，请修理。")
GARDEN = "丽景花园小区门口道路积水严重，下雨天无法出行，丽景花园业主多次反映无人处理。"


async def ledger(db: Database) -> list[tuple[Any, ...]]:
    async with db.transaction("analytics") as conn:
        rows = await conn.execute(text("SELECT * FROM analytics.screening_item ORDER BY case_id"))
        return [tuple(r) for r in rows]


async def risks(db: Database) -> dict[str, str]:
    async with db.transaction("analytics") as conn:
        rows = await conn.execute(text("SELECT case_id, level FROM analytics.case_risk"))
        return {r.case_id: r.level for r in rows}


async def run_sweep(db: Database, as_of: date = AS_OF) -> Any:
    async with db.transaction("analytics") as conn:
        return await sweep(conn, as_of=as_of, now=T0)


async def test_sweep_twice_gives_the_same_ledger_and_closing_clears(
    db: Database, settings: Settings, clean: None
) -> None:
    threat = await received(db, THREAT, "pk-t", 0, category="C02.01.01")
    plain = await received(db, PLAIN, "pk-p", 1, category="C04.01")
    analytics = await consumer(db, settings, "analytics")
    await analytics.consume(1, "intake", items([threat, plain]))

    first = await run_sweep(db)
    assert (first.assessed, first.items, first.new_items) == (2, 1, 1)
    assert await risks(db) == {threat.aggregate_id: "red", plain.aggregate_id: "blue"}
    [item] = await ledger(db)
    row = dict(zip(("case_id", "matter", "level", "reasons"), item[:4], strict=True))
    assert row == {
        "case_id": threat.aggregate_id,
        "matter": "讨要工资",
        "level": "red",
        "reasons": ["扬言进京：去北京上访", "高风险类别：欠薪"],
    }
    snapshot = await ledger(db)
    again = await run_sweep(db)
    assert (again.items, again.new_items, again.cleared) == (1, 0, 0)
    assert await ledger(db) == snapshot  # not even updated_at moved
    later = await run_sweep(db, date(2025, 5, 21))
    assert later.new_items == 0 and (await ledger(db))[0][7] == AS_OF  # found_on stays

    async with db.transaction("casework") as conn:
        await publish(
            conn,
            producer="casework",
            event=cw.CaseClosedV1(
                case_id=threat.aggregate_id,
                tracking_no="T",
                status="closed",
                occurred_at=T0,
                actor="staff",
                unit_id="U1",
                region_code="440306001",
                category_code="C02.01.01",
                source="citizen",
                resolved=True,
            ),
            aggregate_id=threat.aggregate_id,
        )
        env = await conn.execute(
            text("SELECT * FROM casework.outbox_event WHERE type = 'casework.case.closed'")
        )
        r = env.one()
    from shared.events.envelope import Envelope

    closed = Envelope(
        event_id=r.event_id,
        type=r.type,
        version=r.version,
        occurred_at=r.occurred_at,
        producer="casework",
        trace_id=r.trace_id,
        aggregate_id=r.aggregate_id,
        aggregate_seq=r.aggregate_seq,
        payload=r.payload,
    )
    await analytics.consume(1, "casework", items([closed]))
    done = await run_sweep(db)
    assert (done.assessed, done.items, done.cleared) == (1, 0, 1)
    assert [x[9] for x in await ledger(db)] == ["cleared"]
    assert await risks(db) == {plain.aggregate_id: "blue"}


async def test_screening_and_hotspots_endpoints_are_scoped(
    db: Database, settings: Settings, clean: None
) -> None:
    threat = await received(db, THREAT, "pk-t", 0)
    accused = await received(db, THREAT, "pk-a", 1, accusation=True)
    far = await received(db, THREAT, "pk-f", 2, region=LUOHU)
    garden = [
        await received(
            db, (f"丽景花园小区门口道路积水{i}", GARDEN), f"pk-g{i}", 3 + i, category="C04.01"
        )
        for i in range(4)
    ]
    analytics = await consumer(db, settings, "analytics")
    await analytics.consume(1, "intake", items([threat, accused, far, *garden]))
    registered = []
    for case, office in ((threat, "OFF-T"), (garden[0], "OFF-G")):
        async with db.transaction("casework") as conn:
            registered.append(
                await publish(
                    conn,
                    producer="casework",
                    event=cw.CaseRegisteredV1(
                        case_id=case.aggregate_id,
                        tracking_no="T",
                        status="registered",
                        source="citizen",
                        channel="web",
                        category_code="C04.01",
                        region_code="440306001",
                        registered_at=T0,
                        public_message="",
                        office_unit_id=office,
                    ),
                    aggregate_id=case.aggregate_id,
                )
            )
    await analytics.consume(1, "casework", items(registered))
    await run_sweep(db)

    baoan_unit = await unit(db, "440306")
    analyst = await token(db, settings, baoan_unit, "analyst")
    inspector = await token(
        db, settings, await unit(db, "440306", "discipline"), "discipline_inspector"
    )
    luohu = await token(db, settings, await unit(db, "440303"), "analyst")
    q = {"start": "2025-01-01", "end": "2025-12-31"}
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def get(path: str, who: dict[str, str], **params: Any) -> Any:
                r = await client.get(f"/api/v1/analytics/{path}", params=params, headers=who)
                assert r.status_code == 200, r.text
                return r.json()

            def ids(rows: list[dict[str, Any]]) -> set[str]:
                return {r["case_id"] for r in rows}

            assert ids(await get("screening/ledger", analyst, **q)) == {threat.aggregate_id}
            assert ids(await get("screening/ledger", inspector, **q)) == {
                threat.aggregate_id,
                accused.aggregate_id,
            }
            assert ids(await get("screening/ledger", luohu, **q)) == {far.aggregate_id}
            r = await client.get("/api/v1/analytics/screening/ledger", params=q)
            assert r.status_code == 401

            # OFF-T owns the threat's item found on the sweep day; OFF-G has none: 零报告
            def units(rows: list[dict[str, Any]]) -> list[str]:
                return [z["owner_unit"] for z in rows]

            may = {"start": "2025-05-01", "end": "2025-05-31"}
            assert units(await get("screening/zero-reports", analyst, **may)) == ["OFF-G"]
            june = {"start": "2025-06-01", "end": "2025-06-30"}
            # no sweep in June yet: no claim of "zero", a 409 in the API's error shape
            r = await client.get(
                "/api/v1/analytics/screening/zero-reports", params=june, headers=analyst
            )
            assert r.status_code == 409, r.text
            [error] = r.json()["errors"]
            assert error["code"] == "not_screened" and "2025-05-20" in error["message"]
            await run_sweep(db, date(2025, 6, 15))
            zero = await get("screening/zero-reports", analyst, **june)
            assert units(zero) == ["OFF-G", "OFF-T"]
            assert {z["swept_through"] for z in zero} == {"2025-06-15"}
            assert await get("screening/zero-reports", luohu, **may) == []

            hot = await get("hotspots", analyst, **{"from": "2025-03-01", "to": "2025-03-31"})
            assert hot["petitions"] == 5  # 宝安 less the accusation
            assert [h["name"] for h in hot["hotspots"]][:1] == ["丽景花园小区门口"]
            assert hot["hotspots"][0]["size"] == 4
            far_view = await get("hotspots", luohu, **{"from": "2025-03-01", "to": "2025-03-31"})
            assert far_view["petitions"] == 1 and far_view["hotspots"] == []

    # the CLI reads the database (not only --csv)
    args = argparse.Namespace(
        date_from=date(2025, 3, 1),
        date_to=date(2025, 3, 31),
        csv=None,
        mapping="teddy2020",
        json=True,
        top=5,
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert await asyncio.to_thread(cmd_hotspots, args) == 0
    printed = json.loads(out.getvalue())
    assert printed["petitions"] == 7
    assert printed["hotspots"][0]["name"] == "丽景花园小区门口"
