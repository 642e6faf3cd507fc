"""Every query of the petition domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.models import (
    attachment,
    external_ref,
    person,
    person_identifier,
    petition,
    petitioner,
    public_milestone,
)
from shared.crypto import KeyRing


async def find_person(db: AsyncConnection, *, kind: str, value_hash: str) -> uuid.UUID | None:
    return await db.scalar(
        select(person_identifier.c.person_id).where(
            person_identifier.c.kind == kind, person_identifier.c.value_hash == value_hash
        )
    )


async def link_person(
    db: AsyncConnection, *, identifiers: list[tuple[str, str]], new_id: uuid.UUID
) -> uuid.UUID:
    """The one person holding any of these identifiers (keyed hashes, strongest first), created
    if none is known; identifiers not yet linked are attached to that person. One statement
    on the usual paths; when a concurrent first petition linked an identifier first, theirs
    wins and ours is dropped."""
    kinds = [k for k, _ in identifiers]
    hashes = [h for _, h in identifiers]
    row = (
        await db.execute(
            text(
                """
                WITH ids AS (
                    SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:hashes AS text[]))
                        WITH ORDINALITY AS t(kind, value_hash, ord)
                ), found AS (
                    SELECT pi.person_id FROM ids
                    JOIN intake.person_identifier pi USING (kind, value_hash)
                    ORDER BY ids.ord LIMIT 1
                ), newp AS (
                    INSERT INTO intake.person (person_id) SELECT :p
                    WHERE NOT EXISTS (SELECT 1 FROM found) RETURNING person_id
                ), chosen AS (
                    SELECT person_id FROM found UNION ALL SELECT person_id FROM newp
                ), link AS (
                    INSERT INTO intake.person_identifier (kind, value_hash, person_id)
                    SELECT ids.kind, ids.value_hash, chosen.person_id FROM ids, chosen
                    ON CONFLICT DO NOTHING RETURNING 1
                )
                SELECT (SELECT person_id FROM chosen) AS person_id,
                       EXISTS (SELECT 1 FROM newp) AS created,
                       (SELECT count(*) FROM link) AS linked
                """
            ),
            {"kinds": kinds, "hashes": hashes, "p": new_id},
        )
    ).one()
    if not row.created or row.linked == len(identifiers):
        return uuid.UUID(str(row.person_id))
    theirs = None
    for kind, value_hash in identifiers:
        theirs = await find_person(db, kind=kind, value_hash=value_hash)
        if theirs is not None and theirs != new_id:
            break
    if theirs is None or theirs == new_id:
        return new_id
    await db.execute(
        text("DELETE FROM intake.person_identifier WHERE person_id = :p"), {"p": new_id}
    )
    await db.execute(person.delete().where(person.c.person_id == new_id))
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


async def insert_petitioners(db: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await db.execute(petitioner.insert(), rows)


async def insert_external_ref(db: AsyncConnection, **values: Any) -> None:
    await db.execute(external_ref.insert().values(**values))


async def link_prior_cases(
    db: AsyncConnection, *, case_id: uuid.UUID, system: str, prior: list[str]
) -> list[str]:
    """Record the earlier petitions a source named; returns those we know as our cases."""
    rows = (
        await db.execute(
            text(
                "INSERT INTO intake.prior_case_link (case_id, system, prior_external_id, "
                "prior_case_id) SELECT :c, :s, p.id, r.case_id "
                "FROM unnest(CAST(:ids AS text[])) AS p(id) LEFT JOIN intake.external_ref r "
                "ON r.system = :s AND r.external_id = p.id ON CONFLICT DO NOTHING "
                "RETURNING prior_case_id"
            ),
            {"c": case_id, "s": system, "ids": prior},
        )
    ).all()
    return [str(r[0]) for r in rows if r[0] is not None]


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


async def add_history(
    db: AsyncConnection,
    *,
    case_id: uuid.UUID,
    action: str,
    actor: str,
    at: datetime,
    changes: dict[str, Any],
    ring: KeyRing,
    revision: int | None = None,
) -> None:
    """One entry of a petition's history; what changed is personal data, so it is stored
    encrypted (every writer goes through here)."""
    await db.execute(
        text(
            "INSERT INTO intake.petition_history (case_id, occurred_at, action, actor, revision, "
            "changes_enc) VALUES (:c, :at, :a, :actor, :r, :ch)"
        ),
        {
            "c": case_id,
            "at": at,
            "a": action,
            "actor": actor,
            "r": revision,
            "ch": ring.encrypt_text(orjson.dumps(changes, default=str).decode()),
        },
    )


async def add_attachment(db: AsyncConnection, **values: Any) -> None:
    await db.execute(attachment.insert().values(**values))


async def petitions_of(
    db: AsyncConnection,
    *,
    person_key: str,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Row[Any]]:
    """A person's petitions, newest first, keyset-paginated."""
    return list(
        (
            await db.execute(
                text(
                    "SELECT p.case_id, p.tracking_no, p.title, p.status, p.received_at "
                    "FROM intake.petition p JOIN intake.person_identifier i "
                    "ON i.person_id = p.person_id AND i.kind = 'phone' AND i.value_hash = :k "
                    "WHERE (CAST(:at AS timestamptz) IS NULL OR (p.received_at, p.case_id) < "
                    "(CAST(:at AS timestamptz), CAST(:id AS uuid))) "
                    "ORDER BY p.received_at DESC, p.case_id DESC LIMIT :n"
                ),
                {
                    "k": person_key,
                    "at": before[0] if before else None,
                    "id": before[1] if before else None,
                    "n": limit,
                },
            )
        ).all()
    )
