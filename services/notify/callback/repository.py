"""Every query of partner callbacks. A stream (one hotline order, one provincial case) is
delivered head of line: only its oldest pending callback may be claimed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

WAKE_CHANNEL = "minsheng_notify_callback"


async def add(
    db: AsyncConnection,
    *,
    partner: str,
    stream: str,
    event_id: uuid.UUID,
    case_id: uuid.UUID | None,
    body: dict[str, Any],
) -> bool:
    """Queue one callback; the same (partner, event) twice adds nothing."""
    added = await db.scalar(
        text(
            "INSERT INTO notify.partner_callback (partner, stream, event_id, case_id, "
            "status_sent, body) VALUES (:p, :s, :e, :c, :st, CAST(:b AS jsonb)) "
            "ON CONFLICT (partner, event_id) DO NOTHING RETURNING 1"
        ),
        {
            "p": partner,
            "s": stream,
            "e": event_id,
            "c": case_id,
            "st": body.get("status") or body.get("milestone"),
            "b": orjson.dumps(body).decode(),
        },
    )
    if added:
        await db.execute(text("SELECT pg_notify(:c, '')"), {"c": WAKE_CHANNEL})
    return added is not None


async def claim_heads(
    db: AsyncConnection, *, partners: list[str], limit: int, lease_seconds: float
) -> list[Row[Any]]:
    """The oldest pending callback of each stream, when due and not leased."""
    return list(
        (
            await db.execute(
                text(
                    """
                    UPDATE notify.partner_callback p
                    SET leased_until = now() + make_interval(secs => :lease),
                        attempts = p.attempts + 1
                    WHERE p.id IN (
                        SELECT c.id FROM notify.partner_callback c
                        WHERE c.state = 'pending' AND c.next_attempt_at <= now()
                          AND c.partner = ANY(CAST(:partners AS text[]))
                          AND (c.leased_until IS NULL OR c.leased_until < now())
                          AND NOT EXISTS (
                              SELECT 1 FROM notify.partner_callback e
                              WHERE e.partner = c.partner AND e.stream = c.stream
                                AND e.state = 'pending' AND e.id < c.id)
                        ORDER BY c.next_attempt_at, c.id
                        LIMIT :n FOR UPDATE SKIP LOCKED)
                    RETURNING p.id, p.partner, p.stream, p.event_id, p.body, p.attempts,
                              p.first_failed_at, p.alerted_at
                    """
                ),
                {"partners": partners, "n": limit, "lease": lease_seconds},
            )
        ).all()
    )


async def mark_sent(db: AsyncConnection, ids: list[int]) -> None:
    if ids:
        await db.execute(
            text(
                "UPDATE notify.partner_callback SET state = 'sent', sent_at = now(), "
                "leased_until = NULL, last_error = NULL WHERE id = ANY(CAST(:ids AS bigint[]))"
            ),
            {"ids": ids},
        )


async def mark_retry(
    db: AsyncConnection, *, callback_id: int, error: str, at: datetime, failed_since: datetime
) -> None:
    await db.execute(
        text(
            "UPDATE notify.partner_callback SET next_attempt_at = :at, leased_until = NULL, "
            "last_error = :err, first_failed_at = coalesce(first_failed_at, :since) "
            "WHERE id = :id"
        ),
        {"id": callback_id, "err": error[:500], "at": at, "since": failed_since},
    )


async def raise_alert(db: AsyncConnection, *, row: Any, error: str, at: datetime) -> None:
    """The operator alert: a row in the one dead-letter store (``minsheng deliveries
    failed`` lists it; ``replay`` retries the stream at once). The callback stays pending."""
    await db.execute(
        text("UPDATE notify.partner_callback SET alerted_at = :at WHERE id = :id"),
        {"id": row.id, "at": at},
    )
    await db.execute(
        text(
            "INSERT INTO notify.dead_letter (kind, ref, target, payload, error, attempts) "
            "VALUES ('callback', :ref, :t, CAST(:p AS jsonb), :err, :n)"
        ),
        {
            "ref": str(row.id),
            "t": row.partner,
            "p": orjson.dumps(
                {
                    "callback_id": row.id,
                    "stream": row.stream,
                    "event_id": str(row.event_id),
                    "failing_since": row.first_failed_at.isoformat()
                    if row.first_failed_at
                    else None,
                    "note": "still retried; replay retries the stream now",
                }
            ).decode(),
            "err": error[:2000],
            "n": row.attempts,
        },
    )


async def hurry_partner(db: AsyncConnection, partner: str) -> int:
    """The partner answered again: streams waiting out a backoff are tried now, so a partner
    back after hours receives its backlog at once rather than over the next 10 minutes."""
    result = await db.execute(
        text(
            "UPDATE notify.partner_callback SET next_attempt_at = now() "
            "WHERE partner = :p AND state = 'pending' AND next_attempt_at > now() "
            "AND attempts > 0"
        ),
        {"p": partner},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def requeue_replayed(db: AsyncConnection) -> int:
    """Alerts an operator asked to replay: the stream is tried now and may alert again."""
    rows = (
        await db.execute(
            text(
                "UPDATE notify.dead_letter SET state = 'replayed', replayed_at = now() "
                "WHERE kind = 'callback' AND state = 'replay_requested' RETURNING ref"
            )
        )
    ).all()
    for (ref,) in rows:
        await db.execute(
            text(
                "UPDATE notify.partner_callback SET next_attempt_at = now(), alerted_at = NULL, "
                "first_failed_at = NULL WHERE id = :id AND state = 'pending'"
            ),
            {"id": int(ref)},
        )
    if rows:
        await db.execute(text("SELECT pg_notify(:c, '')"), {"c": WAKE_CHANNEL})
    return len(rows)


async def resolve_alerts(db: AsyncConnection, ids: list[int]) -> None:
    """A callback that got through closes its open alert."""
    if ids:
        await db.execute(
            text(
                "UPDATE notify.dead_letter SET state = 'replayed', replayed_at = now() "
                "WHERE kind = 'callback' AND state IN ('failed', 'replay_requested') "
                "AND ref = ANY(CAST(:r AS text[]))"
            ),
            {"r": [str(i) for i in ids]},
        )


async def list_for(
    db: AsyncConnection, *, case_id: uuid.UUID | None, stuck: bool, limit: int
) -> list[Row[Any]]:
    where = ["true"]
    params: dict[str, Any] = {"n": limit}
    if case_id is not None:
        where.append("case_id = :c")
        params["c"] = case_id
    if stuck:
        where.append("state = 'pending' AND alerted_at IS NOT NULL")
    return list(
        (
            await db.execute(
                text(
                    "SELECT id, partner, stream, event_id, case_id, status_sent, state, "  # noqa: S608 - fixed fragments only
                    "attempts, next_attempt_at, first_failed_at, alerted_at, last_error, "
                    "created_at, sent_at FROM notify.partner_callback "
                    f"WHERE {' AND '.join(where)} ORDER BY id LIMIT :n"
                ),
                params,
            )
        ).all()
    )
