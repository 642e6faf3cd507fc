"""Citizens sign in with a one-time code sent by SMS (through notify, the same provider that
sends every other message). Codes are stored as keyed hashes; a code expires after 5
minutes, allows 5 attempts, and a phone gets at most one code a minute and 10 a day."""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.api.errors import ApiError
from shared.bus import publish
from shared.clock import Clock
from shared.crypto import seal_pii
from shared.events.intake import OneTimeCodeIssuedV1
from shared.ids import uuid7
from shared.security import Keys

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
MIN_INTERVAL = timedelta(seconds=60)
DAILY_LIMIT = 10


def _code_hash(keys: Keys, request_id: uuid.UUID, code: str) -> str:
    return keys.hash.digest("otp", f"{request_id}:{code}")


async def issue_code(db: AsyncConnection, *, phone: str, keys: Keys, clock: Clock) -> uuid.UUID:
    now = clock.now()
    phone_hash = keys.hash.digest("phone", phone)
    recent = (
        await db.execute(
            text(
                "SELECT count(*) AS day, max(created_at) AS last FROM intake.otp_request "
                "WHERE phone_hash = :h AND created_at > :since"
            ),
            {"h": phone_hash, "since": now - timedelta(days=1)},
        )
    ).one()
    if recent.last is not None and now - recent.last < MIN_INTERVAL:
        wait = int((MIN_INTERVAL - (now - recent.last)).total_seconds()) + 1
        raise ApiError(
            429,
            "too_many_codes",
            "验证码发送过于频繁，请稍后再试",
            "codes requested too often; try again later",
            field="phone",
            headers={"Retry-After": str(wait)},
        )
    if recent.day >= DAILY_LIMIT:
        raise ApiError(
            429,
            "too_many_codes",
            "今日验证码次数已达上限",
            "daily limit of codes reached",
            field="phone",
            headers={"Retry-After": "3600"},
        )
    request_id = uuid7()
    code = f"{secrets.randbelow(1_000_000):06d}"
    await db.execute(
        text(
            "INSERT INTO intake.otp_request (request_id, phone_hash, code_hash, created_at, "
            "expires_at) VALUES (:r, :p, :c, :now, :exp)"
        ),
        {
            "r": request_id,
            "p": phone_hash,
            "c": _code_hash(keys, request_id, code),
            "now": now,
            "exp": now + CODE_TTL,
        },
    )
    await publish(
        db,
        producer="intake",
        aggregate_id=f"otp:{request_id}",
        clock=clock,
        event=OneTimeCodeIssuedV1(
            request_id=str(request_id),
            expires_at=now + CODE_TTL,
            pii=seal_pii(keys.ring, {"phone": phone, "code": code}),
        ),
    )
    return request_id


async def verify_code(
    db: AsyncConnection, *, request_id: str, phone: str, code: str, keys: Keys, clock: Clock
) -> str | None:
    """The person key on success; None when wrong (the attempt is counted by the caller's
    transaction, which commits either way)."""
    try:
        rid = uuid.UUID(request_id)
    except ValueError:
        return None
    phone_hash = keys.hash.digest("phone", phone)
    row = (
        await db.execute(
            text(
                "SELECT code_hash, expires_at, attempts, used_at FROM intake.otp_request "
                "WHERE request_id = :r AND phone_hash = :p FOR UPDATE"
            ),
            {"r": rid, "p": phone_hash},
        )
    ).first()
    now = clock.now()
    if (
        row is None
        or row.used_at is not None
        or row.expires_at <= now
        or row.attempts >= MAX_ATTEMPTS
    ):
        return None
    if not hmac.compare_digest(row.code_hash, _code_hash(keys, rid, code)):
        await db.execute(
            text("UPDATE intake.otp_request SET attempts = attempts + 1 WHERE request_id = :r"),
            {"r": rid},
        )
        return None
    await db.execute(
        text("UPDATE intake.otp_request SET used_at = :now WHERE request_id = :r"),
        {"r": rid, "now": now},
    )
    return phone_hash
