"""The 12345 hotline channel (integrations §1): work orders in, idempotent on ``order_no`` +
``revision``; amendments recorded in the petition's history; cancellations (撤单); the
hotline's own call-backs (回访); the daily reconciliation (对账).

The hotline retries a push that gets no 2xx within 10 s for up to 24 h, so the same order
arrives many times, concurrently and out of order with its amendments. Each order is handled
under a transaction lock on its number, so the first push creates the case and every other
one finds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.hotline.schemas import (
    Cancellation,
    Evaluation,
    OrderAnswer,
    ReconciliationItem,
    WorkOrder,
)
from services.intake.petition import repository as repo
from services.intake.petition import service as petition_service
from services.intake.petition.normalized import (
    Attachment,
    Channel,
    Location,
    NormalizedPetition,
    QualityFlag,
    Source,
    Urgency,
    clean_person,
)
from shared.api.errors import not_found
from shared.bus import publish
from shared.clock import Clock
from shared.crypto import redact
from shared.db.direct import fetch
from shared.events.intake import (
    HotlineEvaluationReceivedV1,
    PetitionAmendedV1,
    PetitionWithdrawnV1,
)
from shared.reference import categories
from shared.security import Keys

SYSTEM = "hotline"

# our milestones -> the status words of the hotline's contract (integrations §2)
HOTLINE_STATUS = {
    "received": "received",
    "registered": "received",
    "accepted": "accepted",
    "not_accepted": "rejected",
    "diverted": "rejected",
    "assigned": "transferred",
    "transferred": "transferred",
    "signed": "transferred",
    "in_progress": "in_progress",
    "replied": "replied",
    "evaluated": "replied",
    "closed": "closed",
    "withdrawn": "closed",
}

# fields an amendment may change, as stored on the petition
_AMENDABLE = (
    "title",
    "content",
    "category_code",
    "source_category",
    "region_code",
    "urgency",
    "source_deadline",
)


# 复查 / 复核 come after the reply and are not the hotline's business (§2 sends nothing for
# them): to the hotline, such a case stays as its last callback left it — replied or closed
_REVIEW_STATES = frozenset({"review_requested", "reviewed", "reexam_requested", "reexamined"})


def hotline_status(status: str) -> str:
    return HOTLINE_STATUS.get(status, "in_progress")


_BEFORE_REVIEW = text(
    "SELECT DISTINCT ON (case_id) case_id, status FROM intake.public_milestone "
    "WHERE case_id = ANY(CAST(:c AS uuid[])) AND NOT status = ANY(CAST(:r AS text[])) "
    "ORDER BY case_id, seq DESC"
)


async def hotline_statuses(db: AsyncConnection, cases: Sequence[tuple[Any, str]]) -> list[str]:
    """The hotline's status word for each ``(case_id, our status)``: what its callbacks last
    said. Only cases under review need a look at their milestones (one query for all)."""
    under_review = [case_id for case_id, status in cases if status in _REVIEW_STATES]
    before: dict[Any, str] = {}
    if under_review:
        rows = await fetch(db, _BEFORE_REVIEW, {"c": under_review, "r": sorted(_REVIEW_STATES)})
        before = {r["case_id"]: r["status"] for r in rows}
    return [
        hotline_status(before.get(case_id, "replied") if status in _REVIEW_STATES else status)
        for case_id, status in cases
    ]


def to_normalized(order: WorkOrder, raw: dict[str, Any]) -> NormalizedPetition:
    flags: list[QualityFlag] = []
    people = []
    if order.caller is not None:
        people.append(
            clean_person(
                name=order.caller.name,
                phone=order.caller.phone,
                id_number=order.caller.id_number,
                address=None,
                path="caller",
                flags=flags,
            )
        )
    category = categories.match_label(order.category) if order.category else None
    return NormalizedPetition(
        source=Source.HOTLINE,
        channel=Channel(order.channel),
        external_ids={"hotline_order_no": order.order_no},
        petitioners=people,
        title=order.title,
        content=order.content,
        source_category=order.category,
        category_code=category.code if category else None,
        region_code=order.region_code,
        address=order.address,
        location=Location(lat=order.location.lat, lng=order.location.lng)
        if order.location
        else None,
        urgency=Urgency(order.urgency),
        received_at=order.received_at,
        attachments=[
            Attachment(name=a.name, url=a.url, sha256=a.sha256.lower() if a.sha256 else None)
            for a in order.attachments
        ],
        anonymous=order.anonymous,
        quality_flags=flags,
        source_deadline=order.due_at,
        raw=raw,
    )


async def _lock(db: AsyncConnection, order_no: str) -> None:
    await repo.lock_external(db, system=SYSTEM, ids=[order_no])


_FIND = text(
    "SELECT r.external_id, r.case_id, r.revision, p.tracking_no, p.status, p.title, p.content, "
    "p.category_code, p.source_category, p.region_code, p.urgency, "
    "p.source_deadline FROM intake.external_ref r "
    "JOIN intake.petition p USING (case_id) "
    "WHERE r.system = :s AND r.external_id = ANY(CAST(:o AS text[]))"
)


async def _find_many(db: AsyncConnection, order_nos: list[str]) -> dict[str, Any]:
    return {r["external_id"]: r for r in await fetch(db, _FIND, {"s": SYSTEM, "o": order_nos})}


async def _find(db: AsyncConnection, order_no: str) -> Any:
    return (await _find_many(db, [order_no])).get(order_no)


async def push(
    db: AsyncConnection, *, order: WorkOrder, raw: dict[str, Any], keys: Keys, clock: Clock
) -> tuple[int, OrderAnswer]:
    """201 for a new order, 200 for a repeat or stale revision (nothing changes) and for a
    higher revision (the petition is amended and the change recorded)."""
    return (await push_many(db, orders=[(order, raw)], keys=keys, clock=clock))[0]


@dataclass
class _Known:
    """An order as the orders before it in this call leave it."""

    revision: int
    case_id: str = ""  # filled in once a new order is stored
    tracking_no: str = ""
    status: str = "received"

    def answer(self) -> OrderAnswer:
        return OrderAnswer(case_id=self.case_id, tracking_no=self.tracking_no, status=self.status)


async def push_many(
    db: AsyncConnection,
    *,
    orders: Sequence[tuple[WorkOrder, dict[str, Any]]],
    keys: Keys,
    clock: Clock,
) -> list[tuple[int, OrderAnswer]]:
    """Valid orders in the caller's transaction, each answered as the single push would have
    answered it, one after another in the order given (an order repeated in the list is a
    repeat, a stale revision or an amendment of the first).

    The orders' numbers are locked together (in a fixed order), looked up in one query, and
    all new orders are stored by one ``take_in_many``; amendments, which are rare, are then
    applied one by one, in order."""
    if not orders:
        return []
    order_nos = [o.order_no for o, _ in orders]
    await repo.lock_external(db, system=SYSTEM, ids=order_nos)
    found = await _find_many(db, sorted(set(order_nos)))
    statuses = await hotline_statuses(db, [(r["case_id"], r["status"]) for r in found.values()])
    known = {
        no: _Known(r["revision"], str(r["case_id"]), r["tracking_no"], status)
        for (no, r), status in zip(found.items(), statuses, strict=True)
    }
    new: list[int] = []  # the first push of an order we do not know: created
    amend: list[int] = []  # a higher revision than the one before it: amended
    answers: list[tuple[int, _Known]] = []
    for i, (order, _) in enumerate(orders):
        state = known.get(order.order_no)
        if state is None:
            state = known[order.order_no] = _Known(order.revision)
            new.append(i)
            answers.append((201, state))
            continue
        if order.revision > state.revision:
            state.revision = order.revision
            amend.append(i)
        answers.append((200, state))
    created = await petition_service.take_in_many(
        db,
        items=[
            petition_service.Intake(
                to_normalized(orders[i][0], orders[i][1]),
                petition_service.ExternalRef(SYSTEM, orders[i][0].order_no, orders[i][0].revision),
            )
            for i in new
        ],
        keys=keys,
        clock=clock,
    )
    for i, c in zip(new, created, strict=True):
        state = known[orders[i][0].order_no]
        state.case_id, state.tracking_no = c.case_id, c.tracking_no
    for i in amend:
        order, raw = orders[i]
        await _amend(
            db, found=await _find(db, order.order_no), order=order, raw=raw, keys=keys, clock=clock
        )
    return [(status, state.answer()) for status, state in answers]


async def _amend(
    db: AsyncConnection,
    *,
    found: Any,
    order: WorkOrder,
    raw: dict[str, Any],
    keys: Keys,
    clock: Clock,
) -> None:
    now = clock.now()
    new = to_normalized(order, raw)
    after: dict[str, Any] = {
        "title": redact(new.title),
        "content": redact(new.content),
        "category_code": new.category_code,
        "source_category": new.source_category,
        "region_code": new.region_code,
        "urgency": new.urgency.value,
        "source_deadline": new.source_deadline,
    }
    before = {k: found[k] for k in _AMENDABLE}
    changed = {k: v for k, v in after.items() if v != before[k]}
    await db.execute(
        text(
            "UPDATE intake.petition SET title = :title, content = :content, "
            "category_code = :category_code, source_category = :source_category, "
            "region_code = :region_code, urgency = :urgency, source_deadline = :source_deadline, "
            "revision = :revision, raw_enc = :raw, updated_at = :now WHERE case_id = :case_id"
        ),
        {
            **after,
            "revision": order.revision,
            "now": now,
            "case_id": found["case_id"],
            "raw": keys.ring.encrypt_text(orjson.dumps(raw).decode()),
        },
    )
    await db.execute(
        text(
            "UPDATE intake.external_ref SET revision = :r, updated_at = :now "
            "WHERE system = :s AND external_id = :o"
        ),
        {"r": order.revision, "now": now, "s": SYSTEM, "o": order.order_no},
    )
    await repo.add_history(
        db,
        case_id=found["case_id"],
        action="amended",
        actor=SYSTEM,
        revision=order.revision,
        ring=keys.ring,
        at=now,
        changes={k: [_plain(before[k]), _plain(after[k])] for k in changed},
    )
    await publish(
        db,
        producer="intake",
        aggregate_id=str(found["case_id"]),
        clock=clock,
        event=PetitionAmendedV1(
            case_id=str(found["case_id"]),
            tracking_no=found["tracking_no"],
            revision=order.revision,
            source=SYSTEM,
            changed={k: None if v is None else str(_plain(v)) for k, v in changed.items()},
            amended_at=now,
        ),
    )


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def cancel(
    db: AsyncConnection, *, order_no: str, cancellation: Cancellation, keys: Keys, clock: Clock
) -> OrderAnswer:
    """撤单: the case is closed as withdrawn if not yet replied (casework decides, from the
    event), else the cancellation is only recorded. 404 for an unknown order."""
    await _lock(db, order_no)
    found = await _find(db, order_no)
    if found is None:
        raise not_found("未找到该工单", "unknown order")
    now = clock.now()
    await repo.add_history(
        db,
        case_id=found["case_id"],
        action="cancelled",
        actor=SYSTEM,
        revision=None,
        ring=keys.ring,
        at=now,
        changes={
            "reason": cancellation.reason,
            "cancelled_at": cancellation.cancelled_at.isoformat(),
        },
    )
    await publish(
        db,
        producer="intake",
        aggregate_id=str(found["case_id"]),
        clock=clock,
        event=PetitionWithdrawnV1(
            case_id=str(found["case_id"]),
            tracking_no=found["tracking_no"],
            reason=redact(cancellation.reason),
            withdrawn_at=cancellation.cancelled_at,
            by=SYSTEM,
        ),
    )
    [status] = await hotline_statuses(db, [(found["case_id"], found["status"])])
    return OrderAnswer(
        case_id=str(found["case_id"]), tracking_no=found["tracking_no"], status=status
    )


async def record_evaluation(
    db: AsyncConnection, *, evaluation: Evaluation, keys: Keys, clock: Clock
) -> bool:
    """One row per (order_no, visited_at); a repeat changes nothing. False when repeated."""
    await _lock(db, evaluation.order_no)
    found = await _find(db, evaluation.order_no)
    if found is None:
        raise not_found("未找到该工单", "unknown order")
    inserted = await db.scalar(
        text(
            "INSERT INTO intake.hotline_evaluation (order_no, visited_at, case_id, contacted, "
            "solved, rating, comment_enc) VALUES (:o, :v, :c, :contacted, :solved, :rating, "
            ":comment) ON CONFLICT DO NOTHING RETURNING 1"
        ),
        {
            "o": evaluation.order_no,
            "v": evaluation.visited_at,
            "c": found["case_id"],
            "contacted": evaluation.contacted,
            "solved": evaluation.solved,
            "rating": evaluation.rating,
            "comment": keys.ring.encrypt_text(evaluation.comment),
        },
    )
    if inserted is None:
        return False
    await publish(
        db,
        producer="intake",
        aggregate_id=str(found["case_id"]),
        clock=clock,
        event=HotlineEvaluationReceivedV1(
            case_id=str(found["case_id"]),
            order_no=evaluation.order_no,
            visited_at=evaluation.visited_at,
            contacted=evaluation.contacted,
            solved=evaluation.solved,
            rating=evaluation.rating,
            comment=redact(evaluation.comment) if evaluation.comment else None,
        ),
    )
    return True


async def reconciliation(db: AsyncConnection, *, day: date) -> list[ReconciliationItem]:
    """对账: every order received that day (Asia/Shanghai), with its revision, case and status."""
    rows = (
        await db.execute(
            text(
                "SELECT r.external_id, r.revision, r.case_id, p.status FROM intake.external_ref r "
                "JOIN intake.petition p USING (case_id) WHERE r.system = :s AND r.received_on = :d "
                "ORDER BY r.created_at, r.external_id"
            ),
            {"s": SYSTEM, "d": day},
        )
    ).all()
    statuses = await hotline_statuses(db, [(r.case_id, r.status) for r in rows])
    return [
        ReconciliationItem(
            order_no=r.external_id, revision=r.revision, case_id=str(r.case_id), status=status
        )
        for r, status in zip(rows, statuses, strict=True)
    ]
