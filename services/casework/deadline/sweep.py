"""The scheduled deadline sweep: warnings and misses, each emitted exactly once per clock.

A running clock (not stopped, not paused) is *approaching* once the warning share of its
span has passed (``MINSHENG_DEADLINE_WARN_SHARE``, default 0.8: 80 % of the time from its
start to its due time) while it is not yet due; it is *missed* once its due time has passed.
Each is a set-based ``UPDATE … RETURNING`` that sets ``warned_at`` / ``missed_at`` where it
is still NULL, and only the rows it returns are published (``CaseDeadlineApproachedV1`` /
``CaseDeadlineMissedV1``), in the same transaction. Two sweeps running at once therefore
cannot both emit one clock's warning: the second one's row lock waits, and the re-checked
``IS NULL`` excludes the row. A clock first seen after its due time is missed, not warned.

``sweep_job`` is the arq cron job of the casework worker (it uses ``ctx["bus"]``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.deadline import clocks
from shared.bus.consumer import BusContext
from shared.bus.outbox import publish_many
from shared.clock import Clock
from shared.events.casework import CaseDeadlineApproachedV1, CaseDeadlineMissedV1
from shared.events.envelope import EventPayload
from shared.settings import Settings

BATCH = 1000  # clocks per statement; the job loops until a sweep finds fewer

_CASE_FIELDS = """
    c.tracking_no, c.status, c.region_code, c.category_code, c.source, c.accusation,
    c.lead_unit_id, c.due_at AS case_due_at
"""

_WARN = f"""
WITH due AS (
    SELECT id FROM casework.case_clock
    WHERE stopped_at IS NULL AND paused_at IS NULL AND warned_at IS NULL
      AND missed_at IS NULL AND due_at > :now
      AND started_at + (due_at - started_at) * CAST(:share AS double precision) <= :now
    ORDER BY due_at, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
), hit AS (
    UPDATE casework.case_clock k SET warned_at = :now
    FROM due WHERE k.id = due.id AND k.warned_at IS NULL
    RETURNING k.id, k.case_id, k.kind, k.due_at
)
SELECT hit.id, hit.case_id, hit.kind, hit.due_at, {_CASE_FIELDS}
FROM hit JOIN casework."case" c ON c.case_id = hit.case_id
ORDER BY hit.due_at, hit.id
"""  # noqa: S608 - no input in the text

_MISS = f"""
WITH due AS (
    SELECT id FROM casework.case_clock
    WHERE stopped_at IS NULL AND paused_at IS NULL AND missed_at IS NULL AND due_at < :now
    ORDER BY due_at, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
), hit AS (
    UPDATE casework.case_clock k SET missed_at = :now
    FROM due WHERE k.id = due.id AND k.missed_at IS NULL
    RETURNING k.id, k.case_id, k.kind, k.due_at
)
SELECT hit.id, hit.case_id, hit.kind, hit.due_at, {_CASE_FIELDS}
FROM hit JOIN casework."case" c ON c.case_id = hit.case_id
ORDER BY hit.due_at, hit.id
"""  # noqa: S608 - no input in the text


def _base(row: Any, now: Any) -> dict[str, Any]:
    """The milestone fields every casework event carries, from the case."""
    return {
        "case_id": str(row.case_id),
        "tracking_no": row.tracking_no,
        "status": row.status,
        "occurred_at": now,
        "actor": "system",
        "unit_id": row.lead_unit_id,
        "region_code": row.region_code,
        "category_code": row.category_code,
        "source": row.source,
        "accusation": row.accusation,
        "due_at": row.case_due_at,
        "public_message": None,
        "clock": row.kind,
        "deadline": row.due_at,
    }


async def sweep(
    db: AsyncConnection, *, clock: Clock, settings: Settings, limit: int = BATCH
) -> tuple[int, int]:
    """Mark and publish up to ``limit`` warnings and ``limit`` misses; returns how many of
    each. A clock of a case that casework does not hold is marked without an event."""
    now = clock.now()
    share = settings.deadline_warn_share
    warned = (await db.execute(text(_WARN), {"now": now, "share": share, "limit": limit})).all()
    missed = (await db.execute(text(_MISS), {"now": now, "limit": limit})).all()
    events: list[tuple[EventPayload, str]] = [
        (CaseDeadlineApproachedV1(**_base(r, now)), str(r.case_id)) for r in warned
    ]
    events += [(CaseDeadlineMissedV1(**_base(r, now)), str(r.case_id)) for r in missed]
    await publish_many(db, producer="casework", clock=clock, events=events)
    return len(warned), len(missed)


async def sweep_job(ctx: dict[str, Any]) -> int:
    """arq cron job: recount provisional clocks on the current calendar (a backstop for a
    clock started while its year was being loaded), then sweep in transactions of ``BATCH``
    until nothing is left; returns the number of events published."""
    bus: BusContext = ctx["bus"]
    async with bus.db.transaction("casework") as conn:
        await clocks.recompute_provisional(conn, clock=bus.clock)
    total = 0
    while True:
        async with bus.db.transaction("casework") as conn:
            warned, missed = await sweep(conn, clock=bus.clock, settings=bus.settings)
        total += warned + missed
        if warned < BATCH and missed < BATCH:
            return total
