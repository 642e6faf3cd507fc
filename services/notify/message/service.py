"""Queuing outbound messages, and sending what is due through the providers (SMS gateway,
SMTP) with the delivery discipline: one message per (event, recipient, channel), retries
with exponential backoff and jitter, quiet hours and a per-phone rate limit for SMS, and the
dead-letter store after the last attempt or a permanent refusal."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.message import repository as repo
from services.notify.message import templates
from services.notify.message.email import SmtpProvider
from services.notify.message.quiet import quiet_until
from shared.bus import BusContext
from shared.clock import Clock
from shared.crypto import open_pii
from shared.ids import uuid7
from shared.logging import get_logger
from shared.security import Keys, keys_for
from shared.settings import Settings
from shared.sms import HttpSmsGateway, SendResult, SmsProvider

log = get_logger(__name__)

SEND_BATCH = 50
SEND_LEASE_SECONDS = 30.0
MAX_ATTEMPTS = 12  # the default of MINSHENG_NOTIFY_MAX_ATTEMPTS


@dataclass(frozen=True)
class Sms:
    event_id: uuid.UUID
    kind: str
    phone: str
    text: str
    case_id: uuid.UUID | None
    urgent: bool = True
    template: str | None = None


@dataclass(frozen=True)
class Outgoing:
    """A message for a channel that leaves the system (``sms`` or ``email``)."""

    event_id: uuid.UUID
    kind: str
    channel: str
    address: str  # phone number or e-mail address
    recipient_hash: str
    text: str
    case_id: uuid.UUID | None
    urgent: bool
    template: str | None
    subject: str | None = None


def _due(
    settings: Settings, now: datetime, channel: str, urgent: bool
) -> tuple[datetime, str | None]:
    if channel == "sms" and not urgent:
        until = quiet_until(now, settings.notify_quiet_start, settings.notify_quiet_end)
        if until is not None:
            return until, "quiet_hours"
    return now, None


async def queue(
    db: AsyncConnection, *, keys: Keys, settings: Settings, clock: Clock, messages: list[Outgoing]
) -> int:
    """Store messages (address, text and subject encrypted at rest); a non-urgent SMS written
    in quiet hours is due when they end."""
    now = clock.now()
    rows = []
    for m in messages:
        at, held = _due(settings, now, m.channel, m.urgent)
        rows.append(
            {
                "m": uuid7(),
                "e": m.event_id,
                "r": m.recipient_hash,
                "ch": m.channel,
                "k": m.kind,
                "c": m.case_id,
                "re": keys.ring.encrypt_text(m.address) or "",
                "be": keys.ring.encrypt_text(m.text) or "",
                "u": m.urgent,
                "t": m.template,
                "se": keys.ring.encrypt_text(m.subject) if m.subject else None,
                "at": at,
                "h": held,
            }
        )
    return await repo.add_messages(db, rows)


async def queue_sms(
    db: AsyncConnection,
    *,
    keys: Keys,
    messages: list[Sms],
    settings: Settings,
    clock: Clock,
) -> int:
    """SMS of the receipt and one-time codes: urgent (answers to the citizen's own act)."""
    return await queue(
        db,
        keys=keys,
        settings=settings,
        clock=clock,
        messages=[
            Outgoing(
                event_id=m.event_id,
                kind=m.kind,
                channel="sms",
                address=m.phone,
                recipient_hash=keys.hash.digest("phone", m.phone),
                text=m.text,
                case_id=m.case_id,
                urgent=m.urgent,
                template=m.template,
            )
            for m in messages
        ],
    )


def backoff(attempts: int, cap: float = 600.0) -> timedelta:
    """Exponential with jitter, capped (10 minutes by default)."""
    base = min(cap, 2.0 * 2 ** min(attempts, 20))
    return timedelta(seconds=random.uniform(base / 2, base))


class Providers:
    """The channels' providers of one sender loop."""

    def __init__(self, sms: SmsProvider | None, email: SmtpProvider | None) -> None:
        self.sms = sms
        self.email = email

    @classmethod
    def from_settings(cls, settings: Settings) -> Providers:
        sms = HttpSmsGateway(settings.sms_gateway_url) if settings.sms_gateway_url else None
        email = (
            SmtpProvider(settings.smtp_url, settings.notify_email_from)
            if settings.smtp_url
            else None
        )
        return cls(sms, email)

    def channels(self) -> list[str]:
        """Channels with a provider: the others wait (never spend attempts) until one is set."""
        return [c for c, p in (("sms", self.sms), ("email", self.email)) if p is not None]

    async def aclose(self) -> None:
        if isinstance(self.sms, HttpSmsGateway):
            await self.sms.aclose()


async def _hold_for_discipline(
    db: AsyncConnection, settings: Settings, clock: Clock, rows: list[Any]
) -> set[uuid.UUID]:
    """Defer the claimed non-urgent SMS that fall in quiet hours or over the per-phone rate;
    returns the ids held."""
    now = clock.now()
    held: set[uuid.UUID] = set()
    candidates = [r for r in rows if r.channel == "sms" and not r.urgent]
    if not candidates:
        return held
    until = quiet_until(now, settings.notify_quiet_start, settings.notify_quiet_end)
    if until is not None:
        for r in candidates:
            await repo.defer(db, message_id=r.message_id, at=until, reason="quiet_hours")
            held.add(r.message_id)
        return held
    window = timedelta(hours=1)
    limit = settings.notify_sms_per_phone_per_hour
    recent = await repo.sent_in_window(
        db, hashes=sorted({r.recipient_hash for r in candidates}), since=now - window
    )
    for r in candidates:
        times = recent.setdefault(r.recipient_hash, [])
        if len(times) >= limit:
            # the window frees a place when the oldest of the last ``limit`` sends is an hour old
            at = times[-limit] + window + timedelta(seconds=1)
            await repo.defer(db, message_id=r.message_id, at=at, reason="rate_limited")
            held.add(r.message_id)
        else:
            times.append(now)
    return held


async def send_due(ctx: BusContext, provider: SmsProvider | Providers | None, clock: Clock) -> int:
    """One pass: claim due messages, hand them to the providers, record the outcome."""
    settings = ctx.settings
    keys = keys_for(settings)
    providers = provider if isinstance(provider, Providers) else Providers(provider, None)
    async with ctx.db.transaction("notify") as db:
        rows = await repo.claim_due(
            db,
            limit=SEND_BATCH,
            lease_seconds=SEND_LEASE_SECONDS,
            channels=providers.channels(),
        )
        held = await _hold_for_discipline(db, settings, clock, rows) if rows else set()
    if not rows:
        return 0
    rows = [r for r in rows if r.message_id not in held]

    async def one(r: Any) -> SendResult:
        address = keys.ring.decrypt_text(r.recipient_enc) or ""
        body = keys.ring.decrypt_text(r.body_enc) or ""
        if r.channel == "sms":
            if providers.sms is None:
                return SendResult(ok=False, error="no SMS gateway configured")
            return await providers.sms.send(
                message_id=str(r.message_id), phone=address, text=body, urgent=bool(r.urgent)
            )
        if r.channel == "email":
            if providers.email is None:
                return SendResult(ok=False, error="no SMTP server configured")
            subject = (keys.ring.decrypt_text(r.subject_enc) if r.subject_enc else None) or "民声"
            return await providers.email.send(
                message_id=str(r.message_id), to=address, subject=subject, text=body
            )
        return SendResult(ok=False, permanent=True, error=f"unknown channel {r.channel}")

    results = await asyncio.gather(*(one(r) for r in rows))
    # If this process dies before recording, the lease runs out and the messages are sent
    # again under the same ids, which the gateway de-duplicates.
    max_attempts = settings.notify_max_attempts
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
            if res.permanent or r.attempts >= max_attempts:
                await repo.mark_dead(
                    db,
                    message_id=r.message_id,
                    target=r.channel,
                    error=res.error or "refused",
                    attempts=r.attempts,
                )
            else:
                await repo.mark_retry(
                    db,
                    message_id=r.message_id,
                    error=res.error or "",
                    at=clock.now() + backoff(r.attempts, settings.notify_backoff_cap_seconds),
                )
    return len(rows) + len(held)


async def run_sender(ctx: BusContext) -> None:
    """Background loop of the notify worker: messages (SMS, e-mail)."""
    from shared.db.listen import Wakeup

    if not ctx.settings.sms_gateway_url:
        log.warning("notify.sms.no_gateway", hint="set MINSHENG_SMS_GATEWAY_URL")
    providers = Providers.from_settings(ctx.settings)
    wake = Wakeup(ctx.settings, "notify", repo.WAKE_CHANNEL)
    try:
        while True:
            async with ctx.db.transaction("notify") as db:
                await repo.requeue_replayed(db)
            sent = await send_due(ctx, providers, ctx.clock)
            if sent < SEND_BATCH:
                await wake.wait(1.0)
    finally:
        await wake.close()
        await providers.aclose()


def receipt_text(ctx: BusContext, pii: dict[str, str], tracking_no: str) -> str:
    return templates.receipt_sms(
        tracking_no=tracking_no,
        query_code=pii.get("query_code", ""),
        track_url=track_url(ctx.settings, tracking_no),
    )


def track_url(settings: Settings, tracking_no: str) -> str:
    return f"{settings.public_url()}/api/v1/petitions/{tracking_no}"


__all__ = [
    "Outgoing",
    "Providers",
    "Sms",
    "open_pii",
    "queue",
    "queue_sms",
    "receipt_text",
    "run_sender",
    "send_due",
    "track_url",
]
