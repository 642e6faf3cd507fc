"""Analytics' suggestions reach casework: a received petition through analytics' handler
gives casework a routing suggestion with a confidence; a repeat of the same person on the same
matter is linked and the first petition flagged (also when history arrives out of order); a
duplicate delivery changes nothing; a suggestion for a case casework has not registered yet
waits for it; the repeats endpoint is scoped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq import Retry
from sqlalchemy import text

from services.analytics.app import create_app
from services.analytics.metric.handlers import HANDLERS as ANALYTICS
from services.analytics.suggestion.service import on_received
from services.casework.case.handlers import HANDLERS as CASEWORK
from shared.bus import BusContext
from shared.bus.consumer import Consumer
from shared.bus.outbox import publish
from shared.bus.worker import open_redis
from shared.db import Database
from shared.events.envelope import Envelope
from shared.events.intake import PetitionReceivedV1
from shared.settings import Settings
from tests.integration.test_analytics_api import token, unit

pytestmark = pytest.mark.asyncio(loop_scope="session")

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
BAOAN, LUOHU = "440306001", "440303001"

LIFT = (
    "幸福里小区电梯长期不维修",
    "幸福里小区物业公司长期不维修电梯，老人上下楼非常困难，请求有关部门督促物业尽快维修电梯。",
)
LIFT_AGAIN = (
    "再次反映幸福里小区电梯不维修",
    "幸福里小区的电梯坏了几个月，物业公司一直不维修，老人上下楼很困难，希望有关部门督促物业维修电梯。",
)
WAGES = ("讨要工资", "某工地老板拖欠我们农民工工资半年，多次讨要无果，请劳动监察部门帮助追讨。")


async def received(
    db: Database,
    title_content: tuple[str, str],
    person: str,
    days: float,
    region: str = BAOAN,
    accusation: bool = False,
    category: str = "C01.01.01",
) -> Envelope:
    case = str(uuid.uuid4())
    async with db.transaction("intake") as conn:
        return await publish(
            conn,
            producer="intake",
            event=PetitionReceivedV1(
                case_id=case,
                tracking_no=f"T-{case[:8]}",
                source="citizen",
                channel="web",
                title=title_content[0],
                content=title_content[1],
                category_code=category,
                region_code=region,
                received_at=T0 + timedelta(days=days),
                accusation=accusation,
                person_keys=[person],
            ),
            aggregate_id=case,
        )


async def consumer(db: Database, settings: Settings, service: str) -> Consumer:
    ctx = BusContext(service=service, settings=settings, db=db, redis=await open_redis(settings))
    return Consumer(ctx, ANALYTICS if service == "analytics" else CASEWORK)


def items(envs: list[Envelope]) -> list[dict[str, Any]]:
    return [{"delivery_id": n, "event": e.model_dump(mode="json")} for n, e in enumerate(envs)]


async def analytics_log(db: Database) -> list[Envelope]:
    async with db.transaction("analytics") as conn:
        rows = (
            await conn.execute(text("SELECT * FROM analytics.outbox_event ORDER BY position"))
        ).all()
    return [
        Envelope(
            event_id=r.event_id,
            type=r.type,
            version=r.version,
            occurred_at=r.occurred_at,
            producer="analytics",
            trace_id=r.trace_id,
            aggregate_id=r.aggregate_id,
            aggregate_seq=r.aggregate_seq,
            payload=r.payload,
        )
        for r in rows
    ]


async def suggestions(db: Database) -> dict[str, Any]:
    async with db.transaction("casework") as conn:
        rows = await conn.execute(text("SELECT case_id, route_suggestion FROM casework.case"))
        return {str(r.case_id): r.route_suggestion for r in rows}


async def test_routing_and_repeats_reach_casework(
    db: Database, settings: Settings, clean: None
) -> None:
    a = await received(db, LIFT, "pk-1", 0)
    b = await received(db, LIFT_AGAIN, "pk-1", 20)  # the same person, paraphrased
    c = await received(db, LIFT, "pk-2", 21)  # someone else on the same matter
    w = await received(db, WAGES, "pk-1", 22)  # the same person, another matter
    intake = [a, b, c, w]
    analytics = await consumer(db, settings, "analytics")
    casework = await consumer(db, settings, "casework")

    await analytics.consume(1, "intake", items(intake))
    suggested = await analytics_log(db)
    # casework has not registered the cases yet: the suggestions wait (retried), nothing lost
    with pytest.raises(Retry):
        await casework.consume(1, "analytics", items(suggested[:1]))
    assert await suggestions(db) == {}

    await casework.consume(1, "intake", items(intake))
    await casework.consume(1, "analytics", items(suggested))
    got = await suggestions(db)
    ids = {k: e.aggregate_id for k, e in zip("abcw", intake, strict=True)}
    for case in ids.values():
        s = got[case]
        assert 0.0 <= s["confidence"] <= 1.0
        assert s["label"] and s["model_version"] and s["at"]
    assert got[ids["w"]]["label"] == "劳动和社会保障" and got[ids["w"]]["category_code"] == "C02"
    assert got[ids["a"]]["label"] == "城乡建设"

    rep = {k: got[v]["repeats"] for k, v in ids.items()}
    assert rep["a"]["first_petition"] is True  # 初信初访, and later repeated by b
    assert [x["case_id"] for x in rep["a"]["links"]] == [ids["b"]]
    assert rep["b"]["first_petition"] is False and rep["b"]["earlier_repeats"] == 1
    assert [x["case_id"] for x in rep["b"]["links"]] == [ids["a"]]
    assert "same_person" in rep["b"]["links"][0]["reasons"]
    assert rep["c"]["first_petition"] is True and rep["c"]["links"] == []  # not the same person
    assert rep["w"]["first_petition"] is True and rep["w"]["links"] == []  # not the same matter
    async with db.transaction("analytics") as conn:
        same = await conn.scalar(
            text("SELECT same_matter FROM analytics.case_repeat WHERE case_id = :c"),
            {"c": ids["c"]},
        )
    assert {x["case_id"] for x in same} == {ids["a"], ids["b"]}

    # duplicate delivery, through the inbox and past it: nothing changes
    before_events = len(suggested)
    await analytics.consume(1, "intake", items(intake))
    async with db.transaction("analytics") as conn:
        await on_received(conn, intake, analytics.ctx)
    assert len(await analytics_log(db)) == before_events
    await casework.consume(1, "analytics", items(suggested))
    assert await suggestions(db) == got


async def test_history_out_of_order_unflags_the_later_first_petition(
    db: Database, settings: Settings, clean: None
) -> None:
    later = await received(db, LIFT_AGAIN, "pk-9", 30)
    earlier = await received(db, LIFT, "pk-9", 1)  # imported after, received before
    analytics = await consumer(db, settings, "analytics")
    await analytics.consume(1, "intake", items([later]))
    await analytics.consume(1, "intake", items([earlier]))
    async with db.transaction("analytics") as conn:
        rows = {
            r.case_id: r for r in await conn.execute(text("SELECT * FROM analytics.case_repeat"))
        }
    assert rows[earlier.aggregate_id].first_petition is True
    assert rows[later.aggregate_id].first_petition is False
    assert rows[later.aggregate_id].earlier_repeats == 1
    # casework hears the correction: the later case's latest repeat event says "not first"
    last = [e for e in await analytics_log(db) if e.type == "analytics.repeat.suggested"]
    assert [e.payload["first_petition"] for e in last if e.aggregate_id == later.aggregate_id] == [
        True,
        False,
    ]


async def test_a_new_worker_builds_its_index_from_postgresql(
    db: Database, settings: Settings, clean: None
) -> None:
    first = await consumer(db, settings, "analytics")
    a = await received(db, LIFT, "pk-5", 0)
    await first.consume(1, "intake", items([a]))
    second = await consumer(db, settings, "analytics")  # another process: an empty index
    b = await received(db, LIFT_AGAIN, "pk-5", 3)
    await second.consume(1, "intake", items([b]))
    async with db.transaction("analytics") as conn:
        row = (
            await conn.execute(
                text("SELECT * FROM analytics.case_repeat WHERE case_id = :c"),
                {"c": b.aggregate_id},
            )
        ).one()
    assert row.first_petition is False
    assert [x["case_id"] for x in row.repeats] == [a.aggregate_id]


async def test_repeats_endpoint_is_scoped(db: Database, settings: Settings, clean: None) -> None:
    a = await received(db, LIFT, "pk-7", 0)
    b = await received(db, LIFT_AGAIN, "pk-7", 5)
    x = await received(db, LIFT_AGAIN, "pk-7", 6, accusation=True)
    far = await received(db, LIFT, "pk-8", 7, region=LUOHU)
    analytics = await consumer(db, settings, "analytics")
    await analytics.consume(1, "intake", items([a, b, x, far]))
    analyst = await token(db, settings, await unit(db, "440306"), "analyst")
    inspector = await token(
        db, settings, await unit(db, "440306", "discipline"), "discipline_inspector"
    )
    luohu = await token(db, settings, await unit(db, "440303"), "analyst")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def get(case: Envelope, who: dict[str, str]) -> httpx.Response:
                return await client.get(
                    f"/api/v1/analytics/cases/{case.aggregate_id}/repeats", headers=who
                )

            r = await get(b, analyst)
            assert r.status_code == 200
            body = r.json()
            assert body["first_petition"] is False
            # the accusation x is linked but never shown outside discipline roles
            assert [y["case_id"] for y in body["repeats"]] == [a.aggregate_id]
            assert {y["case_id"] for y in (await get(b, inspector)).json()["repeats"]} == {
                a.aggregate_id,
                x.aggregate_id,
            }
            assert (await get(x, analyst)).status_code == 404
            assert (await get(x, inspector)).status_code == 200
            assert (await get(b, luohu)).status_code == 404  # another district
            assert (await get(far, luohu)).status_code == 200
            assert (await get(far, analyst)).status_code == 404
            assert (
                await client.get(f"/api/v1/analytics/cases/{a.aggregate_id}/repeats")
            ).status_code == 401
