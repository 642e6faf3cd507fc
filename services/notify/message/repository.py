"""Every query of the message domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

WAKE_CHANNEL = "minsheng_notify_message"


async def add_messages(db: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """Many messages in one statement; each is unique per (event, recipient, channel), so
    re-delivered events add nothing. Returns how many were new."""
    if not rows:
        return 0
    cols = ("m", "e", "r", "ch", "k", "c", "re", "be", "u", "t", "se", "at", "h")
    result = await db.execute(
        text(
            "INSERT INTO notify.message (message_id, event_id, recipient_hash, channel, kind, "
            "case_id, recipient_enc, body_enc, urgent, template, subject_enc, next_attempt_at, "
            "held) "
            "SELECT * FROM unnest(CAST(:m AS uuid[]), CAST(:e AS uuid[]), CAST(:r AS text[]), "
            "CAST(:ch AS text[]), CAST(:k AS text[]), CAST(:c AS uuid[]), CAST(:re AS text[]), "
            "CAST(:be AS text[]), CAST(:u AS boolean[]), CAST(:t AS text[]), "
            "CAST(:se AS text[]), CAST(:at AS timestamptz[]), CAST(:h AS text[])) "
            "ON CONFLICT (event_id, recipient_hash, channel) DO NOTHING RETURNING 1"
        ),
        {key: [row.get(key) for row in rows] for key in cols},
    )
    added = len(result.all())
    if added:
        await db.execute(text("SELECT pg_notify(:c, '')"), {"c": WAKE_CHANNEL})
    return added


async def claim_due(
    db: AsyncConnection, *, limit: int, lease_seconds: float, channels: list[str]
) -> list[Row[Any]]:
    return list(
        (
            await db.execute(
                text(
                    """
                    UPDATE notify.message m
                    SET leased_until = now() + make_interval(secs => :lease),
                        attempts = m.attempts + 1
                    WHERE m.message_id IN (
                        SELECT message_id FROM notify.message
                        WHERE status = 'pending' AND next_attempt_at <= now()
                          AND (leased_until IS NULL OR leased_until < now())
                          AND channel = ANY(CAST(:ch AS text[]))
                        ORDER BY next_attempt_at
                        LIMIT :n FOR UPDATE SKIP LOCKED)
                    RETURNING m.message_id, m.channel, m.kind, m.recipient_enc, m.body_enc,
                              m.attempts, m.urgent, m.recipient_hash, m.subject_enc
                    """
                ),
                {"n": limit, "lease": lease_seconds, "ch": channels},
            )
        ).all()
    )


async def mark_sent(db: AsyncConnection, *, sent: list[tuple[uuid.UUID, str | None]]) -> None:
    """Record the gateway's acceptance of many messages in one statement."""
    if not sent:
        return
    await db.execute(
        text(
            "UPDATE notify.message m SET status = 'sent', sent_at = now(), provider_ref = u.p, "
            "leased_until = NULL, last_error = NULL, held = NULL FROM unnest(CAST(:m AS uuid[]), "
            "CAST(:p AS text[])) AS u(id, p) WHERE m.message_id = u.id"
        ),
        {"m": [m for m, _ in sent], "p": [p for _, p in sent]},
    )


async def mark_retry(
    db: AsyncConnection, *, message_id: uuid.UUID, error: str, at: datetime
) -> None:
    await db.execute(
        text(
            "UPDATE notify.message SET next_attempt_at = :at, leased_until = NULL, "
            "last_error = :err WHERE message_id = :m"
        ),
        {"m": message_id, "err": error, "at": at},
    )


async def defer(db: AsyncConnection, *, message_id: uuid.UUID, at: datetime, reason: str) -> None:
    """Hold a claimed message without spending an attempt (quiet hours, rate limit)."""
    await db.execute(
        text(
            "UPDATE notify.message SET next_attempt_at = :at, leased_until = NULL, held = :why, "
            "attempts = greatest(attempts - 1, 0) WHERE message_id = :m"
        ),
        {"m": message_id, "at": at, "why": reason},
    )


async def sent_in_window(
    db: AsyncConnection, *, hashes: list[str], since: datetime
) -> dict[str, list[datetime]]:
    """The send times of non-urgent SMS per recipient since ``since`` (rate limits)."""
    if not hashes:
        return {}
    rows = (
        await db.execute(
            text(
                "SELECT recipient_hash, sent_at FROM notify.message WHERE channel = 'sms' "
                "AND NOT urgent AND sent_at IS NOT NULL AND sent_at > :since "
                "AND recipient_hash = ANY(CAST(:h AS text[])) ORDER BY sent_at"
            ),
            {"h": hashes, "since": since},
        )
    ).all()
    out: dict[str, list[datetime]] = {}
    for h, at in rows:
        out.setdefault(h, []).append(at)
    return out


async def record_receipt(
    db: AsyncConnection, *, message_id: uuid.UUID, provider_ref: str, status: str, at: datetime
) -> bool:
    """A provider's delivery receipt; True when it matched a message we sent."""
    return (
        await db.scalar(
            text(
                "UPDATE notify.message SET delivery_status = :s, delivered_at = :at "
                "WHERE message_id = :m AND (provider_ref IS NULL OR provider_ref = :p) RETURNING 1"
            ),
            {"m": message_id, "p": provider_ref, "s": status, "at": at},
        )
    ) is not None


async def mark_dead(
    db: AsyncConnection, *, message_id: uuid.UUID, target: str, error: str, attempts: int
) -> None:
    await db.execute(
        text(
            "UPDATE notify.message SET status = 'failed', leased_until = NULL, last_error = :err "
            "WHERE message_id = :m"
        ),
        {"m": message_id, "err": error},
    )
    await db.execute(
        text(
            "INSERT INTO notify.dead_letter (kind, ref, target, payload, error, attempts) "
            "VALUES ('delivery', :ref, :t, CAST(:p AS jsonb), :err, :n)"
        ),
        {
            "ref": str(message_id),
            "t": target,
            "p": orjson.dumps({"message_id": str(message_id)}).decode(),
            "err": error,
            "n": attempts,
        },
    )


async def requeue_replayed(db: AsyncConnection) -> int:
    """Deliveries an operator asked to replay go back to pending with fresh attempts."""
    rows = (
        await db.execute(
            text(
                "UPDATE notify.dead_letter SET state = 'replayed', replayed_at = now() "
                "WHERE kind = 'delivery' AND state = 'replay_requested' RETURNING ref"
            )
        )
    ).all()
    for (ref,) in rows:
        await db.execute(
            text(
                "UPDATE notify.message SET status = 'pending', attempts = 0, "
                "next_attempt_at = now(), leased_until = NULL WHERE message_id = :m"
            ),
            {"m": uuid.UUID(ref)},
        )
    if rows:
        await db.execute(text("SELECT pg_notify(:c, '')"), {"c": WAKE_CHANNEL})
    return len(rows)
