"""``Idempotency-Key`` (integrations §5): the first response is stored for 24 h, keyed by
caller, method and path; a repeat with the same body gets it back, another body gets 422
``idempotency_key_reused``, and a repeat while the first is still running gets 409.

The stored answer commits in the same transaction as the effect it describes, so a client
that lost the response of a committed request gets that response, never a second effect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.api.errors import ApiError
from shared.clock import Clock, system_clock
from shared.crypto import KeyRing
from shared.db import Database
from shared.identity.principal import Principal

TTL = timedelta(hours=24)
_AAD = b"minsheng.idempotency.v1"


def validate_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= 128:
        raise ApiError(
            422,
            "invalid_idempotency_key",
            "Idempotency-Key 长度须为1至128个字符",
            "Idempotency-Key must be 1 to 128 characters",
            field="Idempotency-Key",
        )
    return key


def caller_of(request: Request, principal: Principal | None) -> str:
    """Whose Idempotency-Key it is on an endpoint open to citizens: the signed-in person or
    staff member, else the anonymous caller's address. Never one name for every citizen: a
    key another caller happened to choose must not hand back that caller's answer (a query
    code, a token)."""
    if principal is not None:
        return f"{'citizen' if principal.is_citizen else 'staff'}:{principal.subject}"
    return f"anonymous:{request.client.host if request.client else 'unknown'}"


@dataclass
class Stored:
    status_code: int
    body: bytes


class IdempotencyGuard:
    def __init__(
        self, schema: str, key_hash: str, request_hash: str, clock: Clock, ring: KeyRing
    ) -> None:
        self.schema = schema
        self.key_hash = key_hash
        self.request_hash = request_hash
        self.clock = clock
        self.ring = ring

    async def save(self, db: AsyncConnection, status_code: int, body: bytes) -> None:
        now = self.clock.now()
        await db.execute(
            text(
                f"INSERT INTO {self.schema}.idempotency_key "  # noqa: S608
                "(key_hash, request_hash, status_code, response_body, created_at, expires_at) "
                "VALUES (:k, :r, :s, :b, :now, :exp) ON CONFLICT (key_hash) DO UPDATE SET "
                "request_hash = :r, status_code = :s, response_body = :b, created_at = :now, "
                "expires_at = :exp"
            ),
            {
                "k": self.key_hash,
                "r": self.request_hash,
                "s": status_code,
                # answers can hold a query code: stored encrypted like any personal data
                "b": self.ring.encrypt(body, _AAD).encode("ascii"),
                "now": now,
                "exp": now + TTL,
            },
        )


async def begin(
    db: AsyncConnection,
    *,
    schema: str,
    caller: str,
    method: str,
    path: str,
    key: str,
    body: bytes,
    ring: KeyRing,
    clock: Clock = system_clock,
) -> tuple[IdempotencyGuard, Stored | None]:
    """Take the key for this transaction. Returns the stored answer of an earlier identical
    request, if any; raises 409 while another request holds the key, 422 on a different body."""
    key_hash = hashlib.sha256(f"{caller}\x00{method}\x00{path}\x00{key}".encode()).hexdigest()
    request_hash = hashlib.sha256(body).hexdigest()
    got = await db.scalar(
        text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key_hash}
    )
    if not got:
        raise ApiError(
            409,
            "idempotency_in_progress",
            "相同 Idempotency-Key 的请求正在处理",
            "a request with this Idempotency-Key is still in progress",
            field="Idempotency-Key",
        )
    row = (
        await db.execute(
            text(
                f"SELECT request_hash, status_code, response_body FROM {schema}.idempotency_key "  # noqa: S608
                "WHERE key_hash = :k AND expires_at > :now"
            ),
            {"k": key_hash, "now": clock.now()},
        )
    ).first()
    guard = IdempotencyGuard(schema, key_hash, request_hash, clock, ring)
    if row is None:
        return guard, None
    if row.request_hash != request_hash:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "该 Idempotency-Key 已用于不同的请求内容",
            "Idempotency-Key was already used with a different body",
            field="Idempotency-Key",
        )
    return guard, Stored(row.status_code, ring.decrypt(bytes(row.response_body), _AAD))


async def run_once(
    db: Database,
    *,
    schema: str,
    request: Request,
    caller: str,
    key: str | None,
    ring: KeyRing,
    clock: Clock,
    status: int,
    act: Callable[[AsyncConnection], Awaitable[bytes]],
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Run ``act`` (which returns the JSON answer) in one transaction on ``schema``, with the
    answer kept under the caller's Idempotency-Key, when sent, in that same transaction.
    ``body`` is what identifies the request (default: the raw request body)."""
    raw = await request.body() if body is None else body
    async with db.transaction(schema) as conn:
        guard = None
        if key:
            guard, stored = await begin(
                conn,
                schema=schema,
                caller=caller,
                method=request.method,
                path=request.url.path,
                key=key,
                body=raw,
                ring=ring,
                clock=clock,
            )
            if stored is not None:
                return Response(
                    stored.body,
                    status_code=stored.status_code,
                    media_type="application/json",
                    headers=headers,
                )
        payload = await act(conn)
        if guard is not None:
            await guard.save(conn, status, payload)
    return Response(payload, status_code=status, media_type="application/json", headers=headers)
