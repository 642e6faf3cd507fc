"""Signing against the real PostgreSQL (integrations §0): the nonce store and its transaction
rules, and the 401 a FastAPI route answers.

The ``partner_nonce`` table lives in a scratch schema created here, so these tests do not
depend on any service's migrations.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Request
from sqlalchemy import Column, Integer, MetaData, Table, Text, text

from minsheng.embedded import EmbeddedPostgres, EmbeddedRedis
from shared.api.errors import ApiError, install_error_handlers
from shared.clock import FixedClock
from shared.db import Database
from shared.settings import Settings
from shared.signing import (
    PartnerKeys,
    SignatureError,
    SignedClient,
    header_names,
    nonce_table,
    purge_nonces,
    remember_nonce,
    signed_headers,
    verify_partner,
    verify_request,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

SCHEMA = "signing_test"
NOW = datetime(2026, 11, 22, 1, 15, tzinfo=UTC)
KEYS = PartnerKeys.parse("hotline-new:secret-new,hotline-old:secret:old")
BODY = '{"order_no":"GD202611220001234","title":"小区门口餐饮店油烟扰民"}'.encode()
H = header_names("hotline")


@pytest_asyncio.fixture(loop_scope="session")
async def scratch(db: Database) -> AsyncIterator[None]:
    """``signing_test.partner_nonce`` (from ``nonce_table``) and an ``effect`` table that
    stands for whatever an accepted request changes; both emptied for every test."""
    metadata = MetaData(schema=SCHEMA)
    nonce_table(metadata)
    Table(
        "effect",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("key_id", Text, nullable=False),
    )
    async with db.transaction("intake") as conn:
        await conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        await conn.run_sync(metadata.create_all)
        await conn.execute(text(f"TRUNCATE {SCHEMA}.partner_nonce, {SCHEMA}.effect"))
    yield


def signed(
    clock: FixedClock, key_id: str = "hotline-new", body: bytes = BODY, nonce: str | None = None
) -> dict[str, str]:
    secret = KEYS.get(key_id) or b"not-configured"
    return signed_headers("Hotline", key_id, secret, body, clock, nonce=nonce)


async def handle(
    db: Database,
    headers: dict[str, str],
    body: bytes = BODY,
    *,
    clock: FixedClock,
    keys: PartnerKeys = KEYS,
) -> str:
    """A receiver: verification and effect in one transaction, as verify_request requires."""
    async with db.transaction("intake") as conn:
        key_id = await verify_request(
            conn,
            schema=SCHEMA,
            partner="hotline",
            headers=headers,
            raw_body=body,
            keys=keys,
            clock=clock,
        )
        await conn.execute(text(f"INSERT INTO {SCHEMA}.effect (key_id) VALUES (:k)"), {"k": key_id})
        return key_id


async def refused(
    db: Database, headers: dict[str, str], body: bytes = BODY, *, clock: FixedClock
) -> tuple[str, str]:
    with pytest.raises(SignatureError) as exc:
        await handle(db, headers, body, clock=clock)
    err = exc.value
    assert err.status == 401 and len(err.items) == 1
    item = err.items[0]
    return item.field or "", item.code


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction("intake") as conn:
        return list((await conn.execute(text(sql), params)).all())


async def effects(db: Database) -> int:
    return len(await rows(db, f"SELECT id FROM {SCHEMA}.effect"))


async def nonce_rows(db: Database) -> list[Any]:
    return await rows(
        db, f"SELECT partner, key_id, nonce, accepted_at FROM {SCHEMA}.partner_nonce ORDER BY 4"
    )


async def test_valid_request_is_accepted_and_its_nonce_recorded(
    db: Database, scratch: None
) -> None:
    clock = FixedClock(NOW)
    headers = signed(clock, nonce="nonce-1")
    assert await handle(db, headers, clock=clock) == "hotline-new"
    assert await effects(db) == 1
    assert await nonce_rows(db) == [("hotline", "hotline-new", "nonce-1", NOW)]


async def test_replayed_nonce_is_refused_and_changes_nothing(db: Database, scratch: None) -> None:
    clock = FixedClock(NOW)
    headers = signed(clock)
    await handle(db, headers, clock=clock)
    before = await nonce_rows(db)

    clock.advance(timedelta(seconds=299))  # still within ±300 s of the request's timestamp
    assert await refused(db, headers, clock=clock) == ("X-Hotline-Nonce", "replayed_nonce")
    assert await effects(db) == 1
    assert await nonce_rows(db) == before  # accepted_at not moved

    # a fresh signature does not make an old nonce new either
    again = signed(clock, nonce=headers[H.nonce])
    assert await refused(db, again, clock=clock) == ("X-Hotline-Nonce", "replayed_nonce")
    assert await effects(db) == 1


async def test_nonces_survive_a_redis_flush(
    db: Database, scratch: None, servers: tuple[EmbeddedPostgres, EmbeddedRedis]
) -> None:
    import redis.asyncio as aioredis

    clock = FixedClock(NOW)
    headers = signed(clock)
    await handle(db, headers, clock=clock)
    client = aioredis.from_url(servers[1].url())
    await client.flushall()
    await client.aclose()
    assert await refused(db, headers, clock=clock) == ("X-Hotline-Nonce", "replayed_nonce")


@pytest.mark.parametrize("offset", [301, -301])
async def test_stale_timestamp_either_way(db: Database, scratch: None, offset: int) -> None:
    clock = FixedClock(NOW)
    headers = signed(FixedClock(NOW + timedelta(seconds=offset)))
    assert await refused(db, headers, clock=clock) == ("X-Hotline-Timestamp", "stale_timestamp")
    assert await nonce_rows(db) == [] and await effects(db) == 0


@pytest.mark.parametrize("offset", [300, -300])
async def test_timestamp_at_the_window_edge_is_accepted(
    db: Database, scratch: None, offset: int
) -> None:
    clock = FixedClock(NOW)
    assert await handle(db, signed(FixedClock(NOW + timedelta(seconds=offset))), clock=clock)


async def test_bad_signature_does_not_burn_the_nonce(db: Database, scratch: None) -> None:
    clock = FixedClock(NOW)
    good = signed(clock, nonce="shared-nonce")
    forged = {**good, H.signature: "0" * 64}
    assert await refused(db, forged, clock=clock) == ("X-Hotline-Signature", "bad_signature")
    tampered_body = BODY.replace("油烟".encode(), "噪音".encode())
    assert await refused(db, good, tampered_body, clock=clock) == (
        "X-Hotline-Signature",
        "bad_signature",
    )
    assert await nonce_rows(db) == [] and await effects(db) == 0
    # the genuine request with the same nonce still gets through
    assert await handle(db, good, clock=clock) == "hotline-new"
    assert await effects(db) == 1


async def test_unknown_key(db: Database, scratch: None) -> None:
    clock = FixedClock(NOW)
    headers = signed_headers("Hotline", "hotline-retired", b"secret-new", BODY, clock)
    assert await refused(db, headers, clock=clock) == ("X-Hotline-Key-Id", "unknown_key")
    assert await nonce_rows(db) == []


@pytest.mark.parametrize("name", H.all())
async def test_missing_header(db: Database, scratch: None, name: str) -> None:
    clock = FixedClock(NOW)
    headers = signed(clock)
    del headers[name]
    assert await refused(db, headers, clock=clock) == (name, "missing_signature")
    assert await nonce_rows(db) == []


async def test_malformed_nonce_is_missing_signature(db: Database, scratch: None) -> None:
    clock = FixedClock(NOW)
    headers = signed(clock)
    headers[H.nonce] = "x" * 65
    assert await refused(db, headers, clock=clock) == (H.nonce, "missing_signature")


async def test_rotation_both_keys_accepted(db: Database, scratch: None) -> None:
    clock = FixedClock(NOW)
    assert await handle(db, signed(clock, "hotline-new", nonce="n1"), clock=clock) == "hotline-new"
    # the old secret contains a colon: everything after the first ':' is the secret
    old = signed_headers("Hotline", "hotline-old", b"secret:old", BODY, clock, nonce="n1")
    assert await handle(db, old, clock=clock) == "hotline-old"
    # the same nonce under another key is another (key_id, nonce)
    assert [(r.key_id, r.nonce) for r in await nonce_rows(db)] == [
        ("hotline-new", "n1"),
        ("hotline-old", "n1"),
    ]


async def test_nonce_older_than_the_replay_window_may_be_reused(
    db: Database, scratch: None
) -> None:
    clock = FixedClock(NOW)
    await handle(db, signed(clock, nonce="reused"), clock=clock)

    clock.advance(timedelta(seconds=600))  # exactly 600 s: still "within the last 600 s"
    assert await refused(db, signed(clock, nonce="reused"), clock=clock) == (
        H.nonce,
        "replayed_nonce",
    )

    clock.advance(timedelta(seconds=1))
    assert await handle(db, signed(clock, nonce="reused"), clock=clock) == "hotline-new"
    assert await effects(db) == 2
    rows_ = await nonce_rows(db)
    assert len(rows_) == 1 and rows_[0].accepted_at == NOW + timedelta(seconds=601)

    # and the refreshed nonce is protected again
    clock.advance(timedelta(seconds=10))
    assert await refused(db, signed(clock, nonce="reused"), clock=clock) == (
        H.nonce,
        "replayed_nonce",
    )


async def test_concurrent_copies_serialise_on_the_nonce(db: Database, scratch: None) -> None:
    clock = FixedClock(NOW)
    headers = signed(clock)
    async with db.transaction("intake") as conn:
        await verify_request(
            conn,
            schema=SCHEMA,
            partner="hotline",
            headers=headers,
            raw_body=BODY,
            keys=KEYS,
            clock=clock,
        )
        copy = asyncio.create_task(handle(db, headers, clock=clock))
        await asyncio.sleep(0.3)
        assert not copy.done()  # waits for the first transaction's nonce row
    with pytest.raises(SignatureError) as exc:
        await copy
    assert exc.value.code == "replayed_nonce"


async def test_rolled_back_request_leaves_no_nonce_unless_remembered(
    db: Database, scratch: None
) -> None:
    clock = FixedClock(NOW)
    headers = signed(clock)

    async def receive() -> None:
        """A receiver that authenticates, then refuses the content with 422."""
        key_id = ""
        try:
            async with db.transaction("intake") as conn:
                key_id = await verify_request(
                    conn,
                    schema=SCHEMA,
                    partner="hotline",
                    headers=headers,
                    raw_body=BODY,
                    keys=KEYS,
                    clock=clock,
                )
                raise ApiError(422, "too_long", "内容过长", "too long", field="content")
        except ApiError as exc:
            if exc.status != 401:
                async with db.transaction("intake") as conn:
                    assert await remember_nonce(
                        conn,
                        schema=SCHEMA,
                        partner="hotline",
                        key_id=key_id,
                        nonce=headers[H.nonce],
                        clock=clock,
                    )
            raise

    with pytest.raises(ApiError) as first:
        await receive()
    assert first.value.status == 422
    assert [r.nonce for r in await nonce_rows(db)] == [headers[H.nonce]]
    # the replay of the refused request is now a replay, not a second 422
    assert await refused(db, headers, clock=clock) == (H.nonce, "replayed_nonce")
    assert await effects(db) == 0


async def test_purge_nonces(db: Database, scratch: None) -> None:
    clock = FixedClock(NOW)
    await handle(db, signed(clock, nonce="old"), clock=clock)
    clock.advance(timedelta(seconds=700))
    await handle(db, signed(clock, nonce="young"), clock=clock)
    async with db.transaction("intake") as conn:
        deleted = await purge_nonces(
            conn, schema=SCHEMA, older_than=clock.now() - timedelta(seconds=600)
        )
    assert deleted == 1
    assert [r.nonce for r in await nonce_rows(db)] == ["young"]


async def test_windows_that_would_reopen_replay_are_refused(db: Database, scratch: None) -> None:
    clock = FixedClock(NOW)
    async with db.transaction("intake") as conn:
        with pytest.raises(ValueError):
            await verify_request(
                conn,
                schema=SCHEMA,
                partner="hotline",
                headers=signed(clock),
                raw_body=BODY,
                keys=KEYS,
                clock=clock,
                replay_seconds=599,
            )


# --- through FastAPI --------------------------------------------------------------------


def hook_app(db: Database, settings: Settings, clock: FixedClock) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.settings = settings.model_copy(
        update={"hotline_keys": "hotline-new:secret-new,hotline-old:secret:old"}
    )
    app.state.clock = clock

    @app.post("/hook")
    async def hook(request: Request) -> dict[str, Any]:
        async with db.transaction("intake") as conn:
            key_id = await verify_partner(request, conn, partner="hotline", schema=SCHEMA)
            payload = await request.json()  # parsed only after the signature checked out
            await conn.execute(
                text(f"INSERT INTO {SCHEMA}.effect (key_id) VALUES (:k)"), {"k": key_id}
            )
        return {"key_id": key_id, "payload": payload, "raw": (await request.body()).decode()}

    return app


@pytest_asyncio.fixture(loop_scope="session")
async def hook(
    db: Database, settings: Settings, scratch: None
) -> AsyncIterator[tuple[httpx.AsyncClient, FixedClock]]:
    clock = FixedClock(NOW)
    transport = httpx.ASGITransport(app=hook_app(db, settings, clock))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        yield http, clock


async def test_fastapi_accepts_a_signed_client(
    db: Database, hook: tuple[httpx.AsyncClient, FixedClock]
) -> None:
    http, clock = hook
    client = SignedClient(http, partner="hotline", keys=KEYS, clock=clock)
    payload = {"order_no": "GD202611220001234", "title": "油烟扰民", "revision": 1}
    r = await client.post_json("/hook", payload)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["key_id"] == "hotline-new"
    assert got["payload"] == payload
    # compact, UTF-8, characters as themselves: exactly the bytes that were signed
    assert got["raw"] == '{"order_no":"GD202611220001234","title":"油烟扰民","revision":1}'
    # a retry through the client is signed afresh, so it is not a replay
    assert (await client.post_json("/hook", payload)).status_code == 200
    assert await effects(db) == 2


async def test_fastapi_bad_signature_body_shape(
    db: Database, hook: tuple[httpx.AsyncClient, FixedClock]
) -> None:
    http, clock = hook
    headers = signed(clock)
    headers[H.signature] = "f" * 64
    r = await http.post("/hook", content=BODY, headers=headers)
    assert r.status_code == 401
    assert r.json() == {
        "errors": [
            {
                "field": "X-Hotline-Signature",
                "code": "bad_signature",
                "message": "签名无效 / invalid signature",
            }
        ]
    }
    assert await effects(db) == 0 and await nonce_rows(db) == []


async def test_fastapi_unsigned_garbage_is_401_not_422(
    hook: tuple[httpx.AsyncClient, FixedClock],
) -> None:
    http, _ = hook
    r = await http.post("/hook", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    assert r.json()["errors"] == [
        {
            "field": "X-Hotline-Key-Id",
            "code": "missing_signature",
            "message": "缺少签名信息或格式错误 / missing or malformed signature header",
        }
    ]


async def test_fastapi_replay_and_repeated_header(
    hook: tuple[httpx.AsyncClient, FixedClock],
) -> None:
    http, clock = hook
    headers = signed(clock)
    assert (await http.post("/hook", content=BODY, headers=headers)).status_code == 200
    r = await http.post("/hook", content=BODY, headers=headers)
    assert r.status_code == 401
    assert r.json()["errors"][0]["code"] == "replayed_nonce"
    assert r.json()["errors"][0]["field"] == "X-Hotline-Nonce"

    fresh = signed(clock)
    doubled = [*fresh.items(), (H.nonce, fresh[H.nonce])]
    r = await http.post("/hook", content=BODY, headers=doubled)
    assert r.status_code == 401
    assert (r.json()["errors"][0]["field"], r.json()["errors"][0]["code"]) == (
        H.nonce,
        "missing_signature",
    )
