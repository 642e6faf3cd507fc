"""The first vertical slice through the real bus, real PostgreSQL and real Redis:
POST /api/v1/petitions -> case registered -> receipt SMS at the gateway simulator ->
analytics count -> public tracking view."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from minsheng.simulators.sms_gateway import create_app as create_gateway
from services.intake.app import create_app as create_intake
from shared.clock import FixedClock, system_clock
from shared.db import Database
from shared.settings import Settings
from tests.support import eventually, running_workers, serve_app

pytestmark = pytest.mark.asyncio(loop_scope="session")

PETITION = {
    "title": "小区门口餐饮店油烟扰民",
    "content": "宝安区西乡街道某小区门口的餐饮店每天排放油烟，联系电话13800138000，请求处理。",
    "category": "环境保护",
    "region_code": "440306",
    "phone": "13800138000",
    "name": "张三",
}


@contextlib.asynccontextmanager
async def intake_client(
    settings: Settings, clock: Any = system_clock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_intake(settings)
    app.state.clock = clock
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield client


@contextlib.asynccontextmanager
async def system(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, str, Settings]]:
    gateway = create_gateway()
    async with serve_app(gateway) as sms_url:
        cfg = settings.model_copy(update={"sms_gateway_url": sms_url})
        async with running_workers(cfg, ["intake", "casework", "notify", "analytics"]):
            async with intake_client(cfg) as client:
                yield client, sms_url, cfg


async def scalar(db: Database, schema: str, sql: str, **params: Any) -> Any:
    async with db.transaction(schema) as conn:
        return await conn.scalar(text(sql), params)


async def test_slice_end_to_end(settings: Settings, db: Database, clean: None) -> None:
    async with system(settings) as (client, sms_url, _):
        r = await client.post("/api/v1/petitions", json=PETITION)
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["status"] == "received"
        assert len(created["query_code"]) == 6

        async def receipt() -> Any:
            async with httpx.AsyncClient() as c:
                msgs = (
                    await c.get(f"{sms_url}/v1/messages", params={"phone": "13800138000"})
                ).json()
            return [m for m in msgs if created["tracking_no"] in m["text"]]

        msgs = await eventually(receipt)
        assert len(msgs) == 1
        assert created["query_code"] in msgs[0]["text"]

        async def tracked() -> Any:
            t = await client.get(
                f"/api/v1/petitions/{created['tracking_no']}",
                params={"code": created["query_code"]},
            )
            body = t.json()
            return body if body.get("status") == "registered" else None

        view = await eventually(tracked)
        assert [h["milestone"] for h in view["history"]] == ["received", "registered"]
        assert "13800138000" not in str(view)

        async def counted() -> Any:
            return await scalar(
                db,
                "analytics",
                "SELECT count FROM analytics.daily_volume WHERE metric='received' "
                "AND dimension='all'",
            )

        assert await eventually(counted) == 1
        # personal data is redacted in stored and published text, and encrypted at rest
        content = await scalar(db, "intake", "SELECT content FROM intake.petition")
        assert "13800138000" not in content and "138****8000" in content
        payload = await scalar(db, "intake", "SELECT payload::text FROM intake.outbox_event")
        assert "13800138000" not in payload and "张三" not in payload


async def test_redelivered_events_change_nothing(
    settings: Settings, db: Database, clean: None
) -> None:
    async with system(settings) as (client, sms_url, _):
        for i in range(5):
            r = await client.post("/api/v1/petitions", json={**PETITION, "title": f"诉求{i}"})
            assert r.status_code == 201

        async def all_sent() -> bool:
            n = await scalar(
                db, "notify", "SELECT count(*) FROM notify.message WHERE status='sent'"
            )
            return n == 5

        await eventually(all_sent)
        # Forget every acknowledgement: the relays deliver every event again.
        for schema in ("intake", "casework"):
            async with db.transaction(schema) as conn:
                await conn.execute(
                    text(
                        f"UPDATE {schema}.outbox_delivery SET acked_at = NULL, leased_until = NULL"
                    )
                )

        async def all_acked_again() -> bool:
            pending = 0
            for schema in ("intake", "casework"):
                pending += await scalar(
                    db,
                    schema,
                    f"SELECT count(*) FROM {schema}.outbox_delivery WHERE acked_at IS NULL",
                )
            return pending == 0

        await eventually(all_acked_again)
        assert await scalar(db, "casework", "SELECT count(*) FROM casework.case") == 5
        assert await scalar(db, "notify", "SELECT count(*) FROM notify.message") == 5
        assert (
            await scalar(
                db,
                "analytics",
                "SELECT count FROM analytics.daily_volume WHERE "
                "metric='received' AND dimension='all'",
            )
            == 5
        )
        async with httpx.AsyncClient() as c:
            stats = (await c.get(f"{sms_url}/v1/stats")).json()
        assert stats["delivered"] == 5


async def test_jobs_lost_in_a_redis_flush_are_sent_again(
    settings: Settings, db: Database, clean: None, servers: Any
) -> None:
    gateway = create_gateway()
    async with serve_app(gateway) as sms_url:
        cfg = settings.model_copy(update={"sms_gateway_url": sms_url})
        # Only intake's worker runs: its relay queues jobs for casework that nobody takes.
        async with running_workers(cfg, ["intake"]), intake_client(cfg) as client:
            for i in range(3):
                assert (
                    await client.post("/api/v1/petitions", json={**PETITION, "title": f"诉求{i}"})
                ).status_code == 201

            async def leased() -> bool:
                n = await scalar(
                    db,
                    "intake",
                    "SELECT count(*) FROM intake.outbox_delivery "
                    "WHERE consumer='casework' AND leased_until IS NOT NULL",
                )
                return n == 3

            await eventually(leased)
        import redis.asyncio as aioredis

        client_r = aioredis.from_url(servers[1].url())
        assert await client_r.zcard("minsheng:queue:casework") >= 1
        await client_r.flushall()
        await client_r.aclose()
        async with running_workers(cfg, ["intake", "casework", "notify"]):

            async def registered() -> bool:
                return await scalar(db, "casework", "SELECT count(*) FROM casework.case") == 3

            await eventually(registered, timeout=30)

            async def sent() -> bool:
                return (
                    await scalar(
                        db, "notify", "SELECT count(*) FROM notify.message WHERE status='sent'"
                    )
                    == 3
                )

            await eventually(sent, timeout=30)


async def test_idempotency_key(settings: Settings, db: Database, clean: None) -> None:
    async with intake_client(settings) as client:
        headers = {"Idempotency-Key": "retry-me-0001"}
        first = await client.post("/api/v1/petitions", json=PETITION, headers=headers)
        again = await client.post("/api/v1/petitions", json=PETITION, headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        other = await client.post(
            "/api/v1/petitions", json={**PETITION, "title": "别的"}, headers=headers
        )
        assert other.status_code == 422
        assert other.json()["errors"][0]["code"] == "idempotency_key_reused"
        # concurrent repeats: one effect; the others see the stored answer or 409
        key = {"Idempotency-Key": "concurrent-0001"}
        results = await asyncio.gather(
            *(client.post("/api/v1/petitions", json=PETITION, headers=key) for _ in range(6))
        )
        codes = sorted(r.status_code for r in results)
        assert set(codes) <= {201, 409} and 201 in codes
        ids = {r.json()["case_id"] for r in results if r.status_code == 201}
        assert len(ids) == 1
    assert await scalar(db, "intake", "SELECT count(*) FROM intake.petition") == 2
    # the stored answers hold query codes: encrypted at rest
    stored = await scalar(
        db,
        "intake",
        "SELECT string_agg(convert_from(response_body, 'UTF8'), '|') FROM intake.idempotency_key",
    )
    assert first.json()["query_code"] not in stored and stored.startswith("v1.")
    bad = {"Idempotency-Key": "x" * 129}
    async with intake_client(settings) as client:
        r = await client.post("/api/v1/petitions", json=PETITION, headers=bad)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_idempotency_keys_belong_to_their_caller(
    settings: Settings, db: Database, clean: None
) -> None:
    """The same key and body from another caller is another request: it never gets the first
    caller's answer, which holds that caller's query code (integrations §5: keyed by caller)."""
    from shared.clock import system_clock
    from shared.identity.tokens import issue_citizen_token
    from shared.security import keys_for

    key = {"Idempotency-Key": "my-first-petition"}
    token = issue_citizen_token(
        keys_for(settings).hash.digest("phone", PETITION["phone"]), settings, system_clock
    )
    signed_in = {**key, "Authorization": f"Bearer {token}"}
    app = create_intake(settings)
    async with app.router.lifespan_context(app):

        def client_at(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            return httpx.AsyncClient(transport=transport, base_url="http://intake")

        async with client_at("10.0.0.1") as one, client_at("10.0.0.2") as other:
            first = await one.post("/api/v1/petitions", json=PETITION, headers=key)
            again = await one.post("/api/v1/petitions", json=PETITION, headers=key)
            elsewhere = await other.post("/api/v1/petitions", json=PETITION, headers=key)
            citizen = await one.post("/api/v1/petitions", json=PETITION, headers=signed_in)
            citizen_again = await other.post("/api/v1/petitions", json=PETITION, headers=signed_in)
    assert [r.status_code for r in (first, again, elsewhere, citizen, citizen_again)] == [201] * 5
    assert again.json() == first.json()  # a retry by the same caller
    assert citizen_again.json() == citizen.json()  # the same citizen from another address
    codes = {r.json()["query_code"] for r in (first, elsewhere, citizen)}
    cases = {r.json()["case_id"] for r in (first, elsewhere, citizen)}
    assert len(cases) == 3 and len(codes) <= 3
    assert await scalar(db, "intake", "SELECT count(*) FROM intake.petition") == 3


async def test_validation_errors_name_the_field_and_store_nothing(
    settings: Settings, db: Database, clean: None
) -> None:
    async with intake_client(settings) as client:
        r = await client.post(
            "/api/v1/petitions",
            json={
                **PETITION,
                "content": "长" * 5001,
                "phone": "12345678901",
                "surprise": 1,
                "received_level": "city",  # the desk's level: never a citizen's to claim
            },
        )
        assert r.status_code == 422
        errors = {e["field"]: e for e in r.json()["errors"]}
        assert errors["content"]["code"] == "too_long"
        assert errors["phone"]["code"] == "invalid_phone"
        assert errors["surprise"]["code"] == "unknown_field"
        assert errors["received_level"]["code"] == "unknown_field"
        assert all(" / " in e["message"] for e in errors.values())  # Chinese / English
        r = await client.post(
            "/api/v1/petitions", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 422
        assert r.json()["errors"][0] | {"message": ""} == {
            "field": "body",
            "code": "invalid_json",
            "message": "",
        }
    assert await scalar(db, "intake", "SELECT count(*) FROM intake.petition") == 0
    assert await scalar(db, "intake", "SELECT count(*) FROM intake.outbox_event") == 0


async def test_tracking_view_locks_after_ten_wrong_codes(settings: Settings, clean: None) -> None:
    clock = FixedClock(system_clock.now())
    async with intake_client(settings, clock) as client:
        created = (await client.post("/api/v1/petitions", json=PETITION)).json()
        url = f"/api/v1/petitions/{created['tracking_no']}"
        wrong = "000000" if created["query_code"] != "000000" else "111111"
        for _ in range(10):
            r = await client.get(url, params={"code": wrong})
            assert r.status_code == 404
        r = await client.get(url, params={"code": created["query_code"]})
        assert r.status_code == 429 and r.json()["errors"][0]["code"] == "tracking_locked"
        assert int(r.headers["Retry-After"]) > 0
        clock.advance(timedelta(minutes=15, seconds=1))
        r = await client.get(url, params={"code": created["query_code"]})
        assert r.status_code == 200
        # an unknown number is locked the same way: the lock reveals nothing
        for _ in range(10):
            assert (
                await client.get("/api/v1/petitions/MS000000XXXXXXXX", params={"code": "123456"})
            ).status_code == 404
        r = await client.get("/api/v1/petitions/MS000000XXXXXXXX", params={"code": "123456"})
        assert r.status_code == 429
