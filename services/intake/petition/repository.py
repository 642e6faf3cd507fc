"""Every query of the petition domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.models import person, person_identifier, petition, public_milestone


async def find_person(db: AsyncConnection, *, kind: str, value_hash: str) -> uuid.UUID | None:
    return await db.scalar(
        select(person_identifier.c.person_id).where(
            person_identifier.c.kind == kind, person_identifier.c.value_hash == value_hash
        )
    )


async def link_person(
    db: AsyncConnection, *, kind: str, value_hash: str, new_id: uuid.UUID
) -> uuid.UUID:
    """The person holding this identifier, created if unknown — one statement on the usual
    paths; race-safe (a concurrent first link wins and is used)."""
    found = await db.scalar(
        text(
            """
            WITH found AS (
                SELECT person_id FROM intake.person_identifier WHERE kind = :k AND value_hash = :h
            ), newp AS (
                INSERT INTO intake.person (person_id) SELECT :p
                WHERE NOT EXISTS (SELECT 1 FROM found) RETURNING person_id
            ), link AS (
                INSERT INTO intake.person_identifier (kind, value_hash, person_id)
                SELECT :k, :h, person_id FROM newp ON CONFLICT DO NOTHING RETURNING person_id
            )
            SELECT person_id FROM found UNION ALL SELECT person_id FROM link
            """
        ),
        {"k": kind, "h": value_hash, "p": new_id},
    )
    if found is not None:
        return found
    # another transaction linked the identifier first: drop our person, use theirs
    await db.execute(person.delete().where(person.c.person_id == new_id))
    theirs = await find_person(db, kind=kind, value_hash=value_hash)
    assert theirs is not None
    return theirs


async def insert_petition(db: AsyncConnection, **values: Any) -> bool:
    """False when the tracking number is already taken (the caller draws another)."""
    inserted = await db.scalar(
        pg_insert(petition)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tracking_no"])
        .returning(petition.c.case_id)
    )
    return inserted is not None


async def get_by_tracking_no(db: AsyncConnection, tracking_no: str) -> Row[Any] | None:
    return (await db.execute(select(petition).where(petition.c.tracking_no == tracking_no))).first()


async def milestones(db: AsyncConnection, case_id: uuid.UUID) -> list[Row[Any]]:
    return list(
        (
            await db.execute(
                select(public_milestone)
                .where(public_milestone.c.case_id == case_id)
                .order_by(public_milestone.c.occurred_at, public_milestone.c.seq)
            )
        ).all()
    )


async def record_milestones(db: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Project many milestones at once; a repeated milestone is ignored."""
    if not rows:
        return
    cols = ("c", "s", "m", "st", "msg", "at")
    await db.execute(
        text(
            "INSERT INTO intake.public_milestone (case_id, seq, milestone, status, message, "
            "occurred_at) SELECT * FROM unnest(CAST(:c AS uuid[]), CAST(:s AS int[]), "
            "CAST(:m AS text[]), CAST(:st AS text[]), CAST(:msg AS text[]), "
            "CAST(:at AS timestamptz[])) ON CONFLICT DO NOTHING"
        ),
        {k: [r[k] for r in rows] for k in cols},
    )
    await db.execute(
        text(
            "UPDATE intake.petition p SET status = u.st FROM unnest(CAST(:c AS uuid[]), "
            "CAST(:st AS text[])) AS u(c, st) WHERE p.case_id = u.c"
        ),
        {"c": [r["c"] for r in rows], "st": [r["st"] for r in rows]},
    )


async def guard_state(db: AsyncConnection, tracking_no: str) -> Row[Any] | None:
    return (
        await db.execute(
            text("SELECT failures, locked_until FROM intake.tracking_guard WHERE tracking_no = :t"),
            {"t": tracking_no},
        )
    ).first()


async def guard_fail(
    db: AsyncConnection, *, tracking_no: str, now: datetime, max_failures: int, lock_seconds: int
) -> None:
    await db.execute(
        text(
            """
            INSERT INTO intake.tracking_guard (tracking_no, failures, updated_at)
            VALUES (:t, 1, :now)
            ON CONFLICT (tracking_no) DO UPDATE SET
                failures = CASE WHEN tracking_guard.locked_until IS NOT NULL
                                     AND tracking_guard.locked_until <= :now
                                THEN 1 ELSE tracking_guard.failures + 1 END,
                locked_until = CASE
                    WHEN tracking_guard.locked_until IS NOT NULL
                         AND tracking_guard.locked_until <= :now THEN NULL
                    WHEN tracking_guard.failures + 1 >= :max
                         THEN :now + make_interval(secs => :lock)
                    ELSE tracking_guard.locked_until END,
                updated_at = :now
            """
        ),
        {"t": tracking_no, "now": now, "max": max_failures, "lock": lock_seconds},
    )


async def guard_reset(db: AsyncConnection, tracking_no: str) -> None:
    await db.execute(
        text("DELETE FROM intake.tracking_guard WHERE tracking_no = :t"), {"t": tracking_no}
    )
