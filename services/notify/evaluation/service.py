"""The 回访 evaluation (domain §3): opened when a case is replied to, rated once by the
petitioner — the handling unit and the petition office separately, 满意 / 基本满意 / 不满意,
a reason required for 不满意 — through the signed link or the signed-in citizen API within
the window (``notify_evaluation_days``, default 15), else 超期未评价 by the expiry job.

Every outcome is published as ``notify.evaluation.recorded`` from notify's outbox (casework
turns it into ``evaluated`` and opens a 回访复核 for 不满意) and, for provincial cases, queued
as the platform's ``evaluated`` result (integrations §3) in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.callback import mapping
from services.notify.callback import repository as callbacks
from shared.api.errors import ApiError
from shared.bus.outbox import publish
from shared.clock import Clock
from shared.crypto import redact
from shared.events.notify import EvaluationRecordedV1
from shared.settings import Settings

RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")
CHANNELS = ("link", "citizen", "expired")
PRODUCER = "notify"


async def open_for(
    db: AsyncConnection,
    *,
    case_id: uuid.UUID,
    tracking_no: str,
    recipient_hash: str | None,
    unit_id: str | None,
    unit_name: str | None,
    province_case_no: str | None,
    replied_at: datetime,
    settings: Settings,
) -> datetime | None:
    """Open the evaluation of a replied case; its expiry, or None when already open (a
    repeated reply, e.g. after a review, does not reopen or extend it)."""
    expires_at = replied_at + timedelta(days=settings.notify_evaluation_days)
    opened = await db.scalar(
        text(
            "INSERT INTO notify.evaluation (case_id, tracking_no, recipient_hash, unit_id, "
            "unit_name, province_case_no, invited_at, expires_at) "
            "VALUES (:c, :t, :r, :u, :un, :p, :at, :exp) ON CONFLICT (case_id) DO NOTHING "
            "RETURNING expires_at"
        ),
        {
            "c": case_id,
            "t": tracking_no,
            "r": recipient_hash,
            "u": unit_id,
            "un": unit_name,
            "p": province_case_no,
            "at": replied_at,
            "exp": expires_at,
        },
    )
    return opened


def _err(status: int, code: str, zh: str, en: str, field: str | None = None) -> ApiError:
    return ApiError(status, code, zh, en, field=field)


def validate(unit_rating: str, office_rating: str, reason: str | None) -> str | None:
    """The reason to keep (redacted), or an ``ApiError``; 不满意 of either needs a reason."""
    for name, value in (("unit_rating", unit_rating), ("office_rating", office_rating)):
        if value not in RATINGS:
            raise _err(
                422,
                "invalid_rating",
                "评价须为满意、基本满意或不满意",
                "rating must be satisfied, basically_satisfied or dissatisfied",
                name,
            )
    cleaned = (reason or "").strip()
    if "dissatisfied" in (unit_rating, office_rating) and not cleaned:
        raise _err(
            422,
            "reason_required",
            "不满意须说明理由",
            "a reason is required for dissatisfied",
            "reason",
        )
    if len(cleaned) > 1000:
        raise _err(
            422, "too_long", "理由不能超过1000字", "reason exceeds 1000 characters", "reason"
        )
    return redact(cleaned) if cleaned else None


async def get(db: AsyncConnection, case_id: uuid.UUID) -> Any:
    return (
        await db.execute(text("SELECT * FROM notify.evaluation WHERE case_id = :c"), {"c": case_id})
    ).first()


async def _emit(
    db: AsyncConnection, *, row: Any, event: EvaluationRecordedV1, clock: Clock
) -> None:
    envelope = await publish(
        db, producer=PRODUCER, event=event, aggregate_id=str(row.case_id), clock=clock
    )
    if row.province_case_no:
        body = mapping.exchange_result(event)
        assert body is not None
        body["org_unit"] = row.unit_name
        await callbacks.add(
            db,
            partner=mapping.EXCHANGE,
            stream=row.province_case_no,
            event_id=envelope.event_id,
            case_id=row.case_id,
            body={
                "event_id": str(envelope.event_id),
                "province_case_no": row.province_case_no,
                **body,
            },
        )


async def record(
    db: AsyncConnection,
    *,
    case_id: uuid.UUID,
    unit_rating: str,
    office_rating: str,
    reason: str | None,
    channel: str,
    clock: Clock,
    recipient_hash: str | None = None,
) -> dict[str, Any]:
    """Rate once within the window. ``recipient_hash`` (the signed-in citizen) must be the
    petitioner's; a link holder needs none. 404 unknown (or not theirs), 409 already rated or
    expired."""
    kept = validate(unit_rating, office_rating, reason)
    now = clock.now()
    row = (
        await db.execute(
            text("SELECT * FROM notify.evaluation WHERE case_id = :c FOR UPDATE"), {"c": case_id}
        )
    ).first()
    if row is None or (recipient_hash is not None and row.recipient_hash != recipient_hash):
        raise _err(404, "not_found", "没有待评价的事项", "no evaluation for this case")
    if row.status == "rated":
        raise _err(409, "already_rated", "该事项已评价", "this case was already rated")
    if row.status == "expired" or row.expires_at <= now:
        raise _err(409, "evaluation_expired", "评价期限已过", "the evaluation window has passed")
    await db.execute(
        text(
            "UPDATE notify.evaluation SET status = 'rated', unit_rating = :u, office_rating = :o, "
            "reason = :r, rated_at = :at, channel = :ch WHERE case_id = :c"
        ),
        {"c": case_id, "u": unit_rating, "o": office_rating, "r": kept, "at": now, "ch": channel},
    )
    event = EvaluationRecordedV1(
        case_id=str(case_id),
        tracking_no=row.tracking_no,
        unit_rating=unit_rating,
        office_rating=office_rating,
        reason=kept,
        rated_at=now,
        channel=channel,
    )
    await _emit(db, row=row, event=event, clock=clock)
    return {
        "case_id": str(case_id),
        "tracking_no": row.tracking_no,
        "status": "rated",
        "unit_rating": unit_rating,
        "office_rating": office_rating,
        "reason": kept,
        "rated_at": now.isoformat(),
        "channel": channel,
    }


async def close_by_staff(
    db: AsyncConnection,
    *,
    case_id: uuid.UUID,
    unit_rating: str | None,
    office_rating: str | None,
    reason: str | None,
    at: datetime,
) -> bool:
    """Staff recorded the petitioner's rating with casework's evaluate act (given by phone, at
    the desk): the window closes with that rating, so neither the link nor the expiry makes
    a second evaluation. Nothing is emitted or sent here: casework's event is the evaluation.
    False when the window was not open (already rated, expired, or never opened)."""
    result = await db.execute(
        text(
            "UPDATE notify.evaluation SET status = 'rated', unit_rating = :u, office_rating = :o, "
            "reason = :r, rated_at = :at, channel = 'staff' WHERE case_id = :c AND status = 'open'"
        ),
        {"c": case_id, "u": unit_rating, "o": office_rating, "r": reason, "at": at},
    )
    return bool(result.rowcount)


async def expire_due(db: AsyncConnection, *, clock: Clock, limit: int = 500) -> int:
    """Evaluations whose window passed unrated become 超期未评价 (one event each)."""
    now = clock.now()
    rows = (
        await db.execute(
            text(
                "UPDATE notify.evaluation e SET status = 'expired', unit_rating = 'expired', "
                "office_rating = 'expired', rated_at = e.expires_at, channel = 'expired' "
                "WHERE e.case_id IN (SELECT case_id FROM notify.evaluation WHERE status = 'open' "
                "AND expires_at <= :now ORDER BY expires_at LIMIT :n FOR UPDATE SKIP LOCKED) "
                "RETURNING e.*"
            ),
            {"now": now, "n": limit},
        )
    ).all()
    for row in rows:
        event = EvaluationRecordedV1(
            case_id=str(row.case_id),
            tracking_no=row.tracking_no,
            unit_rating="expired",
            office_rating="expired",
            reason=None,
            rated_at=row.expires_at,
            channel="expired",
        )
        await _emit(db, row=row, event=event, clock=clock)
    return len(rows)


async def expire_job(ctx: dict[str, Any]) -> int:
    """arq cron: 超期未评价 for every window that passed."""
    bus = ctx["bus"]
    total = 0
    while True:
        async with bus.db.transaction("notify") as db:
            n = await expire_due(db, clock=bus.clock)
        total += n
        if n < 500:
            return total


async def open_for_citizen(db: AsyncConnection, recipient_hash: str) -> list[Any]:
    return list(
        (
            await db.execute(
                text(
                    "SELECT * FROM notify.evaluation WHERE recipient_hash = :r "
                    "ORDER BY invited_at DESC LIMIT 100"
                ),
                {"r": recipient_hash},
            )
        ).all()
    )
