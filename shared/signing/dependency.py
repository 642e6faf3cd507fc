"""The FastAPI side of inbound signing: read a ``Request``'s raw body and headers and verify
them, so a router says ``key_id = await verify_partner(request, conn, partner="hotline",
schema="intake")`` inside the transaction of its effect.

Owns nothing but that glue; the rules are in ``verify.py``. Signed routes must take the
``Request`` and parse the body themselves *after* verification: a pydantic body parameter
would be validated by FastAPI first, answering an unsigned or forged request with 422
instead of 401, and the signature must cover the bytes as received, not re-serialised JSON.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.clock import Clock
from shared.signing.keys import PartnerKeys, partner_keys
from shared.signing.signature import Partner
from shared.signing.verify import REPLAY_SECONDS, WINDOW_SECONDS, verify_request

__all__ = ["verify_partner"]


async def verify_partner(
    request: Request,
    db: AsyncConnection,
    *,
    partner: Partner,
    schema: str,
    keys: PartnerKeys | None = None,
    clock: Clock | None = None,
    window_seconds: int = WINDOW_SECONDS,
    replay_seconds: int = REPLAY_SECONDS,
) -> str:
    """Verify ``request`` as signed by ``partner``; return the key id or raise
    ``SignatureError`` (401, rendered by ``install_error_handlers``).

    ``keys`` defaults to the partner's keys from ``request.app.state.settings`` and ``clock``
    to ``request.app.state.clock`` (as ``shared.api.deps`` provides them). ``db`` must be
    the transaction that will carry the request's effect. The body stays readable afterwards
    (Starlette caches it), e.g. ``await request.json()`` or ``await request.body()``.
    """
    if keys is None:
        keys = partner_keys(request.app.state.settings, partner)
    if clock is None:
        clock = request.app.state.clock
    raw_body = await request.body()
    return await verify_request(
        db,
        schema=schema,
        partner=partner,
        headers=request.headers,
        raw_body=raw_body,
        keys=keys,
        clock=clock,
        window_seconds=window_seconds,
        replay_seconds=replay_seconds,
    )
