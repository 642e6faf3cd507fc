"""The workflow's side of the legal clocks: which clock an act starts or stops, through the
deadline engine (``services.casework.deadline``), which owns the counting and the policies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.deadline import clocks
from shared.clock import Clock


def context(row: dict[str, Any]) -> dict[str, Any]:
    """What the layered policies are chosen by."""
    return {
        "region_code": row["region_code"],
        "source": row["source"],
        "case_type": row["category_code"],
        "urgency": row["urgency"],
    }


async def start(
    db: AsyncConnection, row: dict[str, Any], kind: str, at: datetime, clock: Clock
) -> None:
    """Start ``kind`` unless it is already running (a hotline order's handling clock runs
    from receipt, so acceptance does not restart it)."""
    if await running_due(db, row["case_id"], kind) is not None:
        return
    await clocks.start_clock(
        db, case_id=row["case_id"], kind=kind, started_at=at, context=context(row), clock=clock
    )


async def stop(db: AsyncConnection, case_id: uuid.UUID, kind: str, at: datetime) -> bool:
    """Stop the running ``kind`` clock; True when it was met (or none was running)."""
    stopped = await clocks.stop_clock(db, case_id, kind, at)
    return stopped is None or stopped.met


async def stop_all(db: AsyncConnection, case_id: uuid.UUID, at: datetime) -> None:
    await db.execute(
        text(
            "UPDATE casework.case_clock SET stopped_at = :at WHERE case_id = :c "
            "AND stopped_at IS NULL"
        ),
        {"at": at, "c": case_id},
    )


async def running_due(db: AsyncConnection, case_id: uuid.UUID, kind: str) -> datetime | None:
    running = await clocks.running_clock(db, case_id, kind)
    return running.due_at if running is not None else None


async def last_stop(db: AsyncConnection, case_id: uuid.UUID, kind: str) -> datetime | None:
    at: datetime | None = await db.scalar(
        text("SELECT max(stopped_at) FROM casework.case_clock WHERE case_id = :c AND kind = :k"),
        {"c": case_id, "k": kind},
    )
    return at


async def extend(
    db: AsyncConnection,
    case_id: uuid.UUID,
    kind: str,
    days: int,
    reason: str,
    actor: str,
    clock: Clock,
) -> datetime | None:
    return await clocks.extend(
        db, case_id=case_id, kind=kind, days=days, reason=reason, actor=actor, clock=clock
    )


async def check_extension(db: AsyncConnection, case_id: uuid.UUID, kind: str, days: int) -> None:
    """Refuse a request to extend ``kind`` by ``days`` at once (422 ``extension_too_long``)
    when, with the days already granted and any extension of the same clock still awaiting
    approval, it would pass 30 days in all. The approval checks again when it is applied."""
    running = await clocks.running_clock(db, case_id, kind)
    if running is None:
        return  # nothing to extend: answered when the approval is applied
    pending = await db.scalar(
        text(
            "SELECT coalesce(sum((request->'body'->>'days')::int), 0) FROM casework.approval "
            "WHERE case_id = :c AND kind = 'extend' AND state = 'pending' "
            "AND requested_at >= :started"
        ),
        {"c": case_id, "started": running.started_at},
    )
    clocks.check_extension_total(running.extended_days, days, pending=int(pending or 0))


async def pause(
    db: AsyncConnection, case_id: uuid.UUID, kind: str, reason: str, actor: str, clock: Clock
) -> None:
    await clocks.pause(db, case_id=case_id, kind=kind, reason=reason, actor=actor, clock=clock)


async def resume(
    db: AsyncConnection, case_id: uuid.UUID, kind: str, reason: str, actor: str, clock: Clock
) -> None:
    await clocks.resume(db, case_id=case_id, kind=kind, reason=reason, actor=actor, clock=clock)


async def window_end(
    db: AsyncConnection, since: datetime, *, days: int, region_code: str
) -> datetime:
    """The end of a petitioner's window (e.g. 30 days to ask for 复查) counted like a clock."""
    return await clocks.window_end(db, since=since, days=days)


async def refresh_due(db: AsyncConnection, case_ids: list[uuid.UUID]) -> None:
    await clocks.refresh_case_due(db, case_ids)


async def start_registered(db: AsyncConnection, received: list[Any], *, clock: Clock) -> None:
    """The clocks of a newly registered case, all from receipt: transfer or assign
    (``register``) and tell acceptance (``accept``); a hotline order's handling clock
    (``handle``, by its urgency) also runs from receipt."""
    ids = []
    for r in received:
        cid = uuid.UUID(r.case_id)
        ids.append(cid)
        ctx = {
            "region_code": r.region_code,
            "source": r.source,
            "case_type": r.category_code,
            "urgency": r.urgency,
        }
        kinds = ["register", "accept"] + (["handle"] if r.source == "hotline" else [])
        for kind in kinds:
            await clocks.start_clock(
                db, case_id=cid, kind=kind, started_at=r.received_at, context=ctx, clock=clock
            )
    await clocks.refresh_case_due(db, ids)


# the clocks a petitioner is told about; the others (transfer, objection, signing) are internal
PUBLIC_CLOCKS = ("accept", "handle", "review", "reexam")


async def public_dues(db: AsyncConnection, case_ids: list[uuid.UUID]) -> dict[str, datetime]:
    """Each case's first running deadline the petitioner is told about."""
    rows = await db.execute(
        text(
            "SELECT case_id::text, min(due_at) FROM casework.case_clock "
            "WHERE case_id = ANY(CAST(:ids AS uuid[])) AND stopped_at IS NULL "
            "AND kind = ANY(CAST(:kinds AS text[])) GROUP BY case_id"
        ),
        {"ids": case_ids, "kinds": list(PUBLIC_CLOCKS)},
    )
    return {r[0]: r[1] for r in rows}
