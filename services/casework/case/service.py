"""Registering cases from received petitions (the first step of the statutory flow)."""

from __future__ import annotations

import uuid
from datetime import datetime

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.case import oversight, search, timing, workflow
from services.casework.models import case
from services.casework.org import OrgDirectory, Unit
from shared.bus.outbox import publish_many
from shared.clock import Clock
from shared.events.casework import CaseEvaluatedV1, CaseRegisteredV1, CaseWithdrawnV1
from shared.events.intake import (
    PetitionAmendedV1,
    PetitionReceivedV1,
    PetitionSupplementedV1,
    PetitionWithdrawnV1,
)
from shared.events.notify import EvaluationRecordedV1

PRODUCER = "casework"
SYSTEM = "system"


def registered_message(tracking_no: str) -> str:
    return (
        f"您的信访事项已登记（编号 {tracking_no}）。信访工作机构将在15日内告知是否受理。"
        " / Registered; you will be told within 15 days whether it is accepted."
    )


async def register(
    db: AsyncConnection,
    *,
    received: list[PetitionReceivedV1],
    clock: Clock,
    org: OrgDirectory,
) -> list[str]:
    """Register each case under the id intake allocated, give it to the petition offices of
    its jurisdiction (an accusation: to the discipline units instead), start its clocks,
    record it in the history and emit ``casework.case.registered`` — set-based. Returns the
    ids of cases newly registered (a petition already registered is left alone)."""
    if not received:
        return []
    now = clock.now()
    offices = {r.case_id: _owners(r, org) for r in received}
    rows = await db.execute(
        text(
            """
            INSERT INTO casework.case (case_id, tracking_no, source, channel, title,
                category_code, region_code, status, accusation, received_at, registered_at,
                updated_at, content, urgency, people_count, collective, anonymous, person_keys,
                prior_case_ids, external_ids, source_deadline, pii, office_unit_id, search)
            SELECT id, t, src, ch, title, cat, reg, 'registered', acc, recv, :now, :now,
                   body, urg, n, coll, anon, string_to_array(pk, ' '),
                   string_to_array(prior, ' '), CAST(ext AS jsonb), sdl, CAST(pii AS jsonb),
                   office, array_to_tsvector(string_to_array(lex, ' '))
            FROM unnest(CAST(:ids AS uuid[]), CAST(:t AS text[]), CAST(:src AS text[]),
                        CAST(:ch AS text[]), CAST(:title AS text[]), CAST(:cat AS text[]),
                        CAST(:reg AS text[]), CAST(:acc AS boolean[]),
                        CAST(:recv AS timestamptz[]), CAST(:body AS text[]),
                        CAST(:urg AS text[]), CAST(:n AS int[]), CAST(:coll AS boolean[]),
                        CAST(:anon AS boolean[]), CAST(:pk AS text[]), CAST(:prior AS text[]),
                        CAST(:ext AS text[]), CAST(:sdl AS timestamptz[]), CAST(:pii AS text[]),
                        CAST(:office AS text[]), CAST(:lex AS text[]))
                 AS p(id, t, src, ch, title, cat, reg, acc, recv, body, urg, n, coll, anon, pk,
                      prior, ext, sdl, pii, office, lex)
            ON CONFLICT (case_id) DO NOTHING
            RETURNING case_id
            """
        ),
        {
            "ids": [uuid.UUID(r.case_id) for r in received],
            "t": [r.tracking_no for r in received],
            "src": [r.source for r in received],
            "ch": [r.channel for r in received],
            "title": [r.title for r in received],
            "cat": [r.category_code for r in received],
            "reg": [r.region_code for r in received],
            "acc": [r.accusation for r in received],
            "recv": [r.received_at for r in received],
            "body": [r.content for r in received],
            "urg": [r.urgency for r in received],
            "n": [r.people_count for r in received],
            "coll": [r.collective for r in received],
            "anon": [r.anonymous for r in received],
            "pk": [" ".join(_keys(r)) for r in received],
            "prior": [" ".join(r.prior_case_ids) for r in received],
            "ext": [orjson.dumps(r.external_ids).decode() for r in received],
            "sdl": [r.source_deadline for r in received],
            "pii": [orjson.dumps(r.pii).decode() if r.pii else None for r in received],
            "office": [
                next((u.id for u, why in offices[r.case_id] if why == "office"), None)
                for r in received
            ],
            "lex": [" ".join(search.lexemes(f"{r.title} {r.content}")) for r in received],
            "now": now,
        },
    )
    new = {str(r[0]) for r in rows}
    fresh = [r for r in received if r.case_id in new]
    if not fresh:
        return []
    grants = [(r.case_id, u.id, u.path, why) for r in fresh for u, why in offices[r.case_id]]
    await db.execute(
        text(
            "INSERT INTO casework.case_access (case_id, unit_id, unit_path, reason, since) "
            "SELECT c, u, p, w, :now FROM unnest(CAST(:c AS uuid[]), CAST(:u AS text[]), "
            "CAST(:p AS text[]), CAST(:w AS text[])) AS x(c, u, p, w) "
            "ON CONFLICT (case_id, unit_id) DO NOTHING"
        ),
        {
            "c": [uuid.UUID(g[0]) for g in grants],
            "u": [g[1] for g in grants],
            "p": [g[2] for g in grants],
            "w": [g[3] for g in grants],
            "now": now,
        },
    )
    await db.execute(
        text(
            "INSERT INTO casework.case_history (case_id, occurred_at, action, actor, to_status, "
            "public) SELECT id, :now, 'register', :actor, 'registered', true "
            "FROM unnest(CAST(:ids AS uuid[])) AS id"
        ),
        {"ids": [uuid.UUID(r.case_id) for r in fresh], "now": now, "actor": SYSTEM},
    )
    await timing.start_registered(db, fresh, clock=clock)
    dues: dict[str, datetime] = dict(
        (
            await db.execute(
                text(
                    "SELECT case_id::text, due_at FROM casework.case "
                    "WHERE case_id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": [uuid.UUID(r.case_id) for r in fresh]},
            )
        ).all()
    )
    public = await timing.public_dues(db, [uuid.UUID(r.case_id) for r in fresh])
    await publish_many(
        db,
        producer=PRODUCER,
        clock=clock,
        events=[
            (
                CaseRegisteredV1(
                    case_id=r.case_id,
                    tracking_no=r.tracking_no,
                    source=r.source,
                    channel=r.channel,
                    category_code=r.category_code,
                    region_code=r.region_code,
                    status="registered",
                    registered_at=now,
                    accusation=r.accusation,
                    public_message=registered_message(r.tracking_no),
                    pii=r.pii,
                    office_unit_id=next(
                        (u.id for u, why in offices[r.case_id] if why == "office"), None
                    ),
                    due_at=dues.get(r.case_id),
                    public_due_at=public.get(r.case_id),
                    external_ids=r.external_ids,
                    urgency=r.urgency,
                ),
                r.case_id,
            )
            for r in fresh
        ],
    )
    return [r.case_id for r in fresh]


def _keys(r: PetitionReceivedV1) -> list[str]:
    keys = list(r.person_keys)
    if r.person_key and r.person_key not in keys:
        keys.append(r.person_key)
    return keys


def _owners(r: PetitionReceivedV1, org: OrgDirectory) -> list[tuple[Unit, str]]:
    """The units a new case is with: the petition offices of its jurisdiction (nearest first,
    the nearest owns it), or for an accusation the discipline units instead — a petition
    office never sees an accusation (条例 Art. 30)."""
    if r.accusation:
        return [(u, "office") for u in org.discipline_units(r.region_code)]
    return [(u, "office") for u in org.petition_offices(r.region_code)]


# A withdrawal (撤回, 撤单) ends a case only before its reply; afterwards (replied, evaluated,
# closed, under 复查 / 复核) or once it ended otherwise (not accepted, diverted, withdrawn) it
# is recorded and the case stands.
WITHDRAWABLE = frozenset(
    {
        workflow.REGISTERED,
        workflow.ACCEPTED,
        workflow.ASSIGNED,
        workflow.SIGNED,
        workflow.IN_PROGRESS,
    }
)


def withdrawn_message(tracking_no: str) -> str:
    return f"您的诉求（编号 {tracking_no}）已撤回。 / Your petition has been withdrawn."


async def amend(db: AsyncConnection, *, amended: PetitionAmendedV1, clock: Clock) -> None:
    """Apply a partner's amendment (a higher revision) and record it in the history."""
    case_id = uuid.UUID(amended.case_id)
    columns = {k: v for k, v in amended.changed.items() if k in AMENDABLE}
    if columns:
        sets = ", ".join(f"{k} = :{k}" for k in columns)
        await db.execute(
            text(f"UPDATE casework.case SET {sets}, updated_at = :now WHERE case_id = :id"),  # noqa: S608 - column names from AMENDABLE
            {**columns, "now": clock.now(), "id": case_id},
        )
    await db.execute(
        text(
            "INSERT INTO casework.case_history (case_id, occurred_at, action, actor, reason) "
            "VALUES (:id, :now, 'amend', :actor, :reason)"
        ),
        {
            "id": case_id,
            "now": clock.now(),
            "actor": amended.source,
            "reason": f"revision {amended.revision}: " + ", ".join(sorted(amended.changed)),
        },
    )


AMENDABLE = frozenset({"title", "category_code", "region_code"})


async def withdraw(db: AsyncConnection, *, withdrawn: PetitionWithdrawnV1, clock: Clock) -> bool:
    """Close the case as withdrawn unless it was already replied; either way recorded."""
    case_id = uuid.UUID(withdrawn.case_id)
    now = clock.now()
    status = await db.scalar(
        text("SELECT status FROM casework.case WHERE case_id = :id FOR UPDATE"), {"id": case_id}
    )
    if status is None:
        raise LookupError(f"case {case_id} not registered yet")  # retried until it is
    closes = status in WITHDRAWABLE
    await db.execute(
        text(
            "INSERT INTO casework.case_history (case_id, occurred_at, action, actor, from_status, "
            "to_status, reason, public) VALUES (:id, :now, 'withdraw', :by, :f, :t, :r, :pub)"
        ),
        {
            "id": case_id,
            "now": now,
            "by": withdrawn.by,
            "f": status,
            "t": "withdrawn" if closes else status,
            "r": withdrawn.reason,
            "pub": closes,
        },
    )
    if not closes:
        return False
    await db.execute(
        text(
            "UPDATE casework.case SET status = 'withdrawn', updated_at = :now, closed_at = :now "
            "WHERE case_id = :id"
        ),
        {"id": case_id, "now": now},
    )
    await timing.stop_all(db, case_id, now)
    await timing.refresh_due(db, [case_id])
    await oversight.end_supervisions(db, case_id, now)
    await publish_many(
        db,
        producer=PRODUCER,
        clock=clock,
        events=[
            (
                CaseWithdrawnV1(
                    case_id=withdrawn.case_id,
                    tracking_no=withdrawn.tracking_no,
                    status="withdrawn",
                    withdrawn_at=withdrawn.withdrawn_at,
                    by=withdrawn.by,
                    public_message=withdrawn_message(withdrawn.tracking_no),
                ),
                withdrawn.case_id,
            )
        ],
    )
    return True


async def record_supplement(
    db: AsyncConnection, *, supplemented: PetitionSupplementedV1, clock: Clock
) -> None:
    """The petitioner's supplementary material joins the case file (handlers see it)."""
    parts = []
    if supplemented.content:
        parts.append(supplemented.content)
    if supplemented.attachment_ids:
        parts.append("attachments: " + ", ".join(supplemented.attachment_ids))
    await db.execute(
        text(
            "INSERT INTO casework.case_history (case_id, occurred_at, action, actor, reason) "
            "VALUES (:id, :at, 'supplement', 'petitioner', :r)"
        ),
        {
            "id": uuid.UUID(supplemented.case_id),
            "at": supplemented.supplemented_at,
            "r": "\n".join(parts)[:10000],
        },
    )


async def record_evaluation(
    db: AsyncConnection, *, evaluated: EvaluationRecordedV1, clock: Clock
) -> None:
    """The petitioner's rating from notify (回访): a replied case becomes ``evaluated``; a
    rating of a case already past that point is kept in the history. 不满意 of either party
    opens the 回访复核 (``verify``); 超期未评价 is recorded as ``expired``."""
    from services.casework.case import acts

    case_id = uuid.UUID(evaluated.case_id)
    found = await db.execute(select(case).where(case.c.case_id == case_id).with_for_update())
    row = found.mappings().first()
    if row is None:
        raise LookupError(f"case {case_id} not registered yet")  # retried until it is
    now = clock.now()
    record = acts.evaluation_record(
        evaluated.unit_rating, evaluated.office_rating, evaluated.reason, "petitioner",
        evaluated.rated_at,
    )  # fmt: skip
    record["channel"] = evaluated.channel
    moves = row["status"] == "replied"
    if moves or row["evaluation"] is None:
        values: dict[str, object] = {"evaluation": record, "updated_at": now}
        if moves:
            values["status"] = "evaluated"
        await db.execute(case.update().where(case.c.case_id == case_id).values(**values))
    await acts.record(
        db,
        case_id=case_id,
        at=now,
        action="evaluate",
        actor="petitioner",
        from_status=row["status"],
        to_status="evaluated" if moves else row["status"],
        reason=evaluated.reason,
        details=record,
        public=True,
    )
    if moves:
        await publish_many(
            db,
            producer=PRODUCER,
            clock=clock,
            events=[
                (
                    CaseEvaluatedV1(
                        case_id=evaluated.case_id,
                        tracking_no=row["tracking_no"],
                        status="evaluated",
                        occurred_at=now,
                        actor="petitioner",
                        region_code=row["region_code"],
                        category_code=row["category_code"],
                        source=row["source"],
                        accusation=row["accusation"],
                        due_at=row["due_at"],
                        unit_id=row["lead_unit_id"],
                        unit_rating=evaluated.unit_rating,
                        office_rating=evaluated.office_rating,
                        reason=evaluated.reason,
                    ),
                    evaluated.case_id,
                )
            ],
        )


async def record_analytics_suggestion(
    db: AsyncConnection, *, case_id: str, key: str | None, values: dict[str, object]
) -> None:
    """Keep an analytics suggestion in ``case.route_suggestion`` (shown, never applied): the
    routing suggestion at the top level (label, category_code, confidence, model_version,
    at), repeat links under ``"repeats"`` (``key``). A merge, so a redelivery changes nothing
    and the two kinds do not overwrite each other."""
    patch = {key: values} if key else values
    found = await db.scalar(
        text(
            "UPDATE casework.case SET route_suggestion = "
            "coalesce(route_suggestion, '{}'::jsonb) || CAST(:patch AS jsonb) "
            "WHERE case_id = :id RETURNING 1"
        ),
        {"id": uuid.UUID(case_id), "patch": orjson.dumps(patch).decode()},
    )
    if found is None:
        raise LookupError(f"case {case_id} not registered yet")  # retried until it is
