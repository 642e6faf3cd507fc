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
from shared.db.direct import fetch


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
                .order_by(public_milestone.c.seq)
            )
        ).all()
    )


async def record_milestones(db: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Project many milestones at once; a repeated milestone is ignored. The petition's
    public status becomes that of its latest milestone (by the case's event sequence).
    ``unit`` is the lead unit's name on an assignment / transfer, else None."""
    if not rows:
        return
    cols = ("c", "s", "m", "st", "msg", "at", "due", "unit")
    await db.execute(
        text(
            "INSERT INTO intake.public_milestone (case_id, seq, milestone, status, message, "
            "occurred_at, due_at, lead_unit_name) SELECT * FROM unnest(CAST(:c AS uuid[]), "
            "CAST(:s AS int[]), CAST(:m AS text[]), CAST(:st AS text[]), CAST(:msg AS text[]), "
            "CAST(:at AS timestamptz[]), CAST(:due AS timestamptz[]), CAST(:unit AS text[])) "
            "ON CONFLICT DO NOTHING"
        ),
        {k: [r.get(k) for r in rows] for k in cols},
    )
    await db.execute(
        text(
            "UPDATE intake.petition p SET status = u.st FROM ("
            "  SELECT DISTINCT ON (c) c, st FROM unnest(CAST(:c AS uuid[]), CAST(:s AS int[]),"
            "  CAST(:st AS text[])) AS x(c, s, st) ORDER BY c, s DESC) AS u "
            "WHERE p.case_id = u.c"
        ),
        {"c": [r["c"] for r in rows], "s": [r["s"] for r in rows], "st": [r["st"] for r in rows]},
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


# --- set-based intake: a handful of statements for any number of petitions -----------------
# The statements are built once (module constants): building SQL per request was a notable
# part of a push's CPU time.

_LOCK_EXTERNAL = text(
    "SELECT count(pg_advisory_xact_lock(hashtextextended(:s || ':' || k, 0))) "
    "FROM (SELECT DISTINCT k FROM unnest(CAST(:ids AS text[])) AS k ORDER BY k) AS l"
)


async def lock_external(db: AsyncConnection, *, system: str, ids: list[str]) -> None:
    """Transaction locks on partner ids (``system:id``), taken in a fixed order, so that two
    writers of overlapping ids wait for each other instead of deadlocking or inserting
    twice. The same key as a lock on one id (the hotline's per-order lock)."""
    await fetch(db, _LOCK_EXTERNAL, {"s": system, "ids": ids})


_KNOWN_IDENTIFIERS = text(
    "SELECT i.kind, i.value_hash, i.person_id FROM intake.person_identifier i "
    "JOIN unnest(CAST(:kinds AS text[]), CAST(:hashes AS text[])) AS t(kind, value_hash) "
    "USING (kind, value_hash)"
)

_LINK_PEOPLE = text(
    """
    WITH newp AS (
        INSERT INTO intake.person (person_id) SELECT unnest(CAST(:new AS uuid[]))
    ), link AS (
        INSERT INTO intake.person_identifier (kind, value_hash, person_id)
        SELECT kind, value_hash, person_id
        FROM unnest(CAST(:kinds AS text[]), CAST(:hashes AS text[]), CAST(:people AS uuid[]))
            AS t(kind, value_hash, person_id)
        ORDER BY kind, value_hash
        ON CONFLICT DO NOTHING
        RETURNING kind, value_hash
    )
    SELECT kind, value_hash FROM link
    """
)

_UNLINK_NEW_PEOPLE = text(
    "WITH gone AS (DELETE FROM intake.person_identifier "
    "WHERE person_id = ANY(CAST(:new AS uuid[]))) "
    "DELETE FROM intake.person WHERE person_id = ANY(CAST(:new AS uuid[]))"
)

Identifier = tuple[str, str]  # (kind, keyed hash)


async def link_people(
    db: AsyncConnection, people: list[list[Identifier]], *, new_id: Any
) -> list[uuid.UUID | None]:
    """``link_person`` for many people at once, in list order: each gets the person holding
    the first of its identifiers (strongest first) that is known — to the database or to an
    earlier entry of the list — or a new person (``new_id()``); its identifiers not yet
    linked are attached to that person. ``None`` for an entry without identifiers.

    Two statements on the usual path: read what is known, write the new people and links.
    When a concurrent transaction linked one of our new people's identifiers first, theirs
    wins: our new people are removed and the linking is worked out again from what is then
    known (their row is visible once the conflicting insert has waited for their commit).
    """
    wanted = sorted({i for ids in people for i in ids})
    if not wanted:
        return [None] * len(people)
    for _attempt in range(5):
        rows = await fetch(
            db,
            _KNOWN_IDENTIFIERS,
            {"kinds": [k for k, _ in wanted], "hashes": [h for _, h in wanted]},
        )
        owner: dict[Identifier, uuid.UUID] = {(r[0], r[1]): r[2] for r in rows}
        created: list[uuid.UUID] = []
        links: dict[Identifier, uuid.UUID] = {}
        result: list[uuid.UUID | None] = []
        for ids in people:
            if not ids:
                result.append(None)
                continue
            chosen = next((owner[i] for i in ids if i in owner), None)
            if chosen is None:
                chosen = new_id()
                created.append(chosen)
            for i in ids:
                if i not in owner:
                    owner[i] = links[i] = chosen
            result.append(chosen)
        if not links:
            return result
        ordered = sorted(links)
        inserted = {
            (r[0], r[1])
            for r in await fetch(
                db,
                _LINK_PEOPLE,
                {
                    "new": created,
                    "kinds": [k for k, _ in ordered],
                    "hashes": [h for _, h in ordered],
                    "people": [links[i] for i in ordered],
                },
            )
        }
        new = set(created)
        if all(i in inserted or links[i] not in new for i in ordered):
            # a lost link of a person we already knew only stays with its first owner
            return result
        await fetch(db, _UNLINK_NEW_PEOPLE, {"new": created})
    raise RuntimeError("person linking kept conflicting with concurrent writers")


_PETITION_COLUMNS = (
    ("case_id", "uuid"),
    ("tracking_no", "text"),
    ("query_code_hash", "text"),
    ("source", "text"),
    ("channel", "text"),
    ("title", "text"),
    ("content", "text"),
    ("original_enc", "text"),
    ("category_code", "text"),
    ("source_category", "text"),
    ("region_code", "text"),
    ("received_at", "timestamptz"),
    ("people_count", "smallint"),
    ("anonymous", "boolean"),
    ("accusation", "boolean"),
    ("person_id", "uuid"),
    ("pii_enc", "text"),
    ("address_enc", "text"),
    ("lat", "float8"),
    ("lng", "float8"),
    ("urgency", "text"),
    ("source_deadline", "timestamptz"),
    ("quality_flags", "jsonb"),
    ("public_attention", "integer"),
    ("registered_by", "text"),
    ("raw_enc", "text"),
    ("revision", "integer"),
)
_PETITIONER_COLUMNS = (
    ("case_id", "uuid"),
    ("ordinal", "smallint"),
    ("person_id", "uuid"),
    ("representative", "boolean"),
    ("pii_enc", "text"),
)
_EXTERNAL_REF_COLUMNS = (
    ("system", "text"),
    ("external_id", "text"),
    ("case_id", "uuid"),
    ("revision", "integer"),
    ("received_on", "date"),
)


def _insert_unnest(table: str, prefix: str, columns: tuple[tuple[str, str], ...]) -> str:
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(f"CAST(:{prefix}{name} AS {kind}[])" for name, kind in columns)
    # names come from code, never from input
    return f"INSERT INTO intake.{table} ({names}) SELECT t.* FROM unnest({arrays}) AS t({names})"  # noqa: S608


# petitioner rows and external refs only for the petitions stored (not for one whose
# tracking number was taken); the foreign keys are checked at the end of the statement
_INSERT_PETITIONS = text(
    f"""
    WITH input AS (
        SELECT t.* FROM unnest({", ".join(f"CAST(:p_{n} AS {k}[])" for n, k in _PETITION_COLUMNS)})
            AS t({", ".join(n for n, _ in _PETITION_COLUMNS)})
    ), p AS (
        INSERT INTO intake.petition ({", ".join(n for n, _ in _PETITION_COLUMNS)}, status)
        SELECT input.*, 'received' FROM input
        ON CONFLICT (tracking_no) DO NOTHING
        RETURNING case_id
    ), pt AS (
        {_insert_unnest("petitioner", "pt_", _PETITIONER_COLUMNS)}
        WHERE t.case_id IN (SELECT case_id FROM p)
    ), er AS (
        {_insert_unnest("external_ref", "er_", _EXTERNAL_REF_COLUMNS)}
        WHERE t.case_id IN (SELECT case_id FROM p)
    )
    SELECT case_id FROM p
    """  # noqa: S608 - names come from code, never from input
)


async def insert_petitions(
    db: AsyncConnection,
    *,
    petitions: list[dict[str, Any]],
    petitioners: list[dict[str, Any]],
    external_refs: list[dict[str, Any]],
) -> set[uuid.UUID]:
    """Petitions with their petitioner rows and external refs, in one statement. Returns the
    case ids stored; a petition whose tracking number was already taken is not stored, nor
    are its rows (the caller draws another number and calls again for those)."""
    params: dict[str, Any] = {}
    for prefix, rows, columns in (
        ("p_", petitions, _PETITION_COLUMNS),
        ("pt_", petitioners, _PETITIONER_COLUMNS),
        ("er_", external_refs, _EXTERNAL_REF_COLUMNS),
    ):
        for name, _ in columns:
            params[prefix + name] = [r[name] for r in rows]
    return {r[0] for r in await fetch(db, _INSERT_PETITIONS, params)}


_KNOWN_REFS = text(
    "SELECT r.system, r.external_id, r.case_id FROM intake.external_ref r "
    "JOIN unnest(CAST(:s AS text[]), CAST(:e AS text[])) AS t(system, external_id) "
    "USING (system, external_id)"
)

_INSERT_PRIOR_LINKS = text(
    "INSERT INTO intake.prior_case_link (case_id, system, prior_external_id, prior_case_id) "
    "SELECT * FROM unnest(CAST(:c AS uuid[]), CAST(:s AS text[]), CAST(:e AS text[]), "
    "CAST(:p AS uuid[])) ON CONFLICT DO NOTHING"
)


async def known_refs(
    db: AsyncConnection, refs: list[tuple[str, str]]
) -> dict[tuple[str, str], uuid.UUID]:
    """The cases we hold for these ``(system, external_id)`` pairs."""
    if not refs:
        return {}
    rows = await db.execute(_KNOWN_REFS, {"s": [s for s, _ in refs], "e": [e for _, e in refs]})
    return {(r[0], r[1]): r[2] for r in rows}


async def insert_prior_links(db: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await db.execute(
            _INSERT_PRIOR_LINKS,
            {k: [r[k] for r in rows] for k in ("c", "s", "e", "p")},
        )
