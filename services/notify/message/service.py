"""Composing messages from events, and sending what is due through the providers."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.message import repository as repo
from services.notify.message import templates
from shared.bus import BusContext
from shared.clock import Clock
from shared.crypto import open_pii
from shared.ids import uuid7
from shared.logging import get_logger
from shared.security import Keys, keys_for
from shared.sms import HttpSmsGateway, SendResult, SmsProvider

log = get_logger(__name__)

SEND_BATCH = 50
SEND_LEASE_SECONDS = 30.0
MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class Sms:
    event_id: uuid.UUID
    kind: str
    phone: str
    text: str
    case_id: uuid.UUID | None


async def queue_sms(db: AsyncConnection, *, keys: Keys, messages: list[Sms]) -> int:
    """One message per (event, recipient, channel); phone and text encrypted at rest."""
    return await repo.add_messages(
        db,
        [
            {
                "m": uuid7(),
                "e": m.event_id,
                "r": keys.hash.digest("phone", m.phone),
                "ch": "sms",
                "k": m.kind,
                "c": m.case_id,
                "re": keys.ring.encrypt_text(m.phone) or "",
                "be": keys.ring.encrypt_text(m.text) or "",
            }
            for m in messages
        ],
    )


def backoff(attempts: int) -> timedelta:
    """Exponential with jitter, capped at 10 minutes."""
    base = min(600.0, 2.0 * 2 ** min(attempts, 10))
    return timedelta(seconds=random.uniform(base / 2, base))


async def send_due(ctx: BusContext, provider: SmsProvider, clock: Clock) -> int:
    """One pass: claim due messages, hand them to the provider, record the outcome."""
    keys = keys_for(ctx.settings)
    async with ctx.db.transaction("notify") as db:
        rows = await repo.claim_due(db, limit=SEND_BATCH, lease_seconds=SEND_LEASE_SECONDS)
    if not rows:
        return 0

    async def one(r: Any) -> SendResult:
        phone = keys.ring.decrypt_text(r.recipient_enc) or ""
        body = keys.ring.decrypt_text(r.body_enc) or ""
        return await provider.send(
            message_id=str(r.message_id), phone=phone, text=body, urgent=r.kind == "otp"
        )

    results = await asyncio.gather(*(one(r) for r in rows))
    # If this process dies before recording, the lease runs out and the messages are sent
    # again under the same ids, which the gateway de-duplicates.
    async with ctx.db.transaction("notify") as db:
        await repo.mark_sent(
            db,
            sent=[
                (r.message_id, res.provider_ref)
                for r, res in zip(rows, results, strict=True)
                if res.ok
            ],
        )
        for r, res in zip(rows, results, strict=True):
            if res.ok:
                continue
            if res.permanent or r.attempts >= MAX_ATTEMPTS:
                await repo.mark_dead(
                    db,
                    message_id=r.message_id,
                    target="sms",
                    error=res.error or "refused",
                    attempts=r.attempts,
                )
            else:
                await repo.mark_retry(
                    db,
                    message_id=r.message_id,
                    error=res.error or "",
                    at=clock.now() + backoff(r.attempts),
                )
    return len(rows)


async def run_sender(ctx: BusContext) -> None:
    """Background loop of the notify worker."""
    from shared.db.listen import Wakeup

    url = ctx.settings.sms_gateway_url
    if not url:
        log.warning("notify.sms.no_gateway", hint="set MINSHENG_SMS_GATEWAY_URL")
        await asyncio.Event().wait()
    provider = HttpSmsGateway(url)
    wake = Wakeup(ctx.settings, "notify", repo.WAKE_CHANNEL)
    try:
        while True:
            async with ctx.db.transaction("notify") as db:
                await repo.requeue_replayed(db)
            sent = await send_due(ctx, provider, ctx.clock)
            if sent < SEND_BATCH:
                await wake.wait(1.0)
    finally:
        await wake.close()
        await provider.aclose()


def receipt_text(ctx: BusContext, pii: dict[str, str], tracking_no: str) -> str:
    return templates.receipt_sms(
        tracking_no=tracking_no,
        query_code=pii.get("query_code", ""),
        track_url=f"{ctx.settings.public_url()}/api/v1/petitions/{tracking_no}",
    )


__all__ = ["Sms", "open_pii", "queue_sms", "receipt_text", "run_sender", "send_due"]
