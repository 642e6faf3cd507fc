"""Citizens sign in with a one-time code that travels through the bus and the SMS provider."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from shared.db import Database
from shared.identity.tokens import decode_access_token
from shared.settings import Settings
from tests.integration.test_slice import system
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

PHONE = "13900139000"


async def test_sign_in_by_sms_code(settings: Settings, db: Database, clean: None) -> None:
    async with system(settings) as (client, sms_url, cfg):
        r = await client.post("/api/v1/citizen/auth/code", json={"phone": PHONE})
        assert r.status_code == 202, r.text
        request_id = r.json()["request_id"]

        async def code() -> Any:
            async with httpx.AsyncClient() as c:
                msgs = (await c.get(f"{sms_url}/v1/messages", params={"phone": PHONE})).json()
            found = [re.search(r"验证码为(\d{6})", m["text"]) for m in msgs]
            return next((f.group(1) for f in found if f), None)

        sent = await eventually(code)
        again = await client.post("/api/v1/citizen/auth/code", json={"phone": PHONE})
        assert again.status_code == 429 and "Retry-After" in again.headers
        wrong = "000000" if sent != "000000" else "111111"
        bad = await client.post(
            "/api/v1/citizen/auth/verify",
            json={"request_id": request_id, "phone": PHONE, "code": wrong},
        )
        assert bad.status_code == 401 and bad.json()["errors"][0]["code"] == "invalid_code"
        ok = await client.post(
            "/api/v1/citizen/auth/verify",
            json={"request_id": request_id, "phone": PHONE, "code": sent},
        )
        assert ok.status_code == 200, ok.text
        from shared.clock import system_clock

        principal = decode_access_token(ok.json()["access_token"], cfg, system_clock)
        assert principal.kind == "citizen" and PHONE not in principal.subject
        reused = await client.post(
            "/api/v1/citizen/auth/verify",
            json={"request_id": request_id, "phone": PHONE, "code": sent},
        )
        assert reused.status_code == 401  # a code works once


async def test_code_locks_after_five_wrong_attempts(settings: Settings, clean: None) -> None:
    from tests.integration.test_slice import intake_client

    async with intake_client(settings) as client:
        request_id = (
            await client.post("/api/v1/citizen/auth/code", json={"phone": "13700137000"})
        ).json()["request_id"]
        for code in ("000001", "000002", "000003", "000004", "000005"):
            r = await client.post(
                "/api/v1/citizen/auth/verify",
                json={"request_id": request_id, "phone": "13700137000", "code": code},
            )
            assert r.status_code == 401
        from sqlalchemy import text

        from shared.db import Database as _Db

        database = _Db(settings, pool_size=1)
        async with database.transaction("intake") as conn:
            attempts = await conn.scalar(text("SELECT attempts FROM intake.otp_request"))
        await database.dispose()
        assert attempts == 5
        bad = await client.post(
            "/api/v1/citizen/auth/verify",
            json={"request_id": request_id, "phone": "139", "code": "1"},
        )
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"phone", "code"}


async def test_sign_in_posts_honour_idempotency_keys(settings: Settings, clean: None) -> None:
    from tests.integration.test_slice import intake_client

    async with intake_client(settings) as client:
        key = {"Idempotency-Key": "send-code-once"}
        first = await client.post(
            "/api/v1/citizen/auth/code", json={"phone": "13300133000"}, headers=key
        )
        retry = await client.post(
            "/api/v1/citizen/auth/code", json={"phone": "13300133000"}, headers=key
        )
        assert first.status_code == retry.status_code == 202
        assert first.json()["request_id"] == retry.json()["request_id"]  # not a 429
        fresh = await client.post("/api/v1/citizen/auth/code", json={"phone": "13300133000"})
        assert fresh.status_code == 429
