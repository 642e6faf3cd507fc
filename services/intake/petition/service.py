"""The rules of taking in a citizen's petition and of the public tracking view."""

from __future__ import annotations

import asyncio
import hmac
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.petition import repository as repo
from services.intake.petition.normalized import (
    Channel,
    NormalizedPetition,
    Person,
    Source,
)
from services.intake.petition.schemas import (
    Milestone,
    PetitionCreate,
    PetitionCreated,
    PetitionStatus,
)
from shared.api.errors import ApiError, not_found
from shared.bus import publish
from shared.bus.outbox import append_new
from shared.clock import SHANGHAI, Clock
from shared.crypto import KeyRing, redact, redact_many, seal_pii
from shared.events.intake import (
    PetitionReceivedV1,
    PetitionSupplementedV1,
    PetitionWithdrawnV1,
)
from shared.ids import _TRACKING_ALPHABET, query_code, uuid7
from shared.security import Keys
from shared.settings import Settings

PRODUCER = "intake"


@dataclass(frozen=True)
class Submission:
    source: str
    channel: str
    received_at: datetime


@dataclass(frozen=True)
class ExternalRef:
    """A partner's own id for the petition: the idempotency key of its pushes."""

    system: str  # hotline | province | mailbox | import:<mapping> …
    external_id: str
    revision: int = 1


def person_identifiers(person: Person, keys: Keys) -> list[tuple[str, str]]:
    """Keyed hashes of a person's verified identifiers (flagged ones are never used)."""
    return [(kind, keys.hash.digest(kind, value)) for kind, value in person.identifiers()]


@dataclass(frozen=True)
class Intake:
    """One petition to take in, with the partner's id for it when it has one."""

    petition: NormalizedPetition
    external: ExternalRef | None = None


async def take_in(
    db: AsyncConnection,
    *,
    petition: NormalizedPetition,
    keys: Keys,
    clock: Clock,
    external: ExternalRef | None = None,
) -> PetitionCreated:
    """Store one normalised petition: ``take_in_many`` with a list of one."""
    return (await take_in_many(db, items=[Intake(petition, external)], keys=keys, clock=clock))[0]


async def take_in_many(
    db: AsyncConnection, *, items: Sequence[Intake], keys: Keys, clock: Clock
) -> list[PetitionCreated]:
    """Store normalised petitions from any channel, in list order, as one after another
    would: link their people across channels (an earlier item's new person is found by a
    later one), allocate each case id, tracking number and query code, and emit
    ``intake.petition.received`` for each — all in the caller's transaction, in a handful
    of statements whatever the number of items.

    The caller owns idempotency: it holds the locks on the items' external ids, has checked
    that none is stored yet and passes each at most once.

    A long list goes in chunks, in order, through a pipeline of two: while the database
    stores one chunk (several round trips on the caller's connection), the next is prepared
    (encryption, hashes, ids, events: Python's CPU), yielding to the event loop between a few
    items so that the chunk being stored moves on. The statements and their order are those
    of storing the chunks one after another, so the result is the same.
    """
    externals = [(i.external.system, i.external.external_id) for i in items if i.external]
    if len(set(externals)) != len(externals):
        raise ValueError("take_in_many: an external id is given twice")
    if len(items) <= PIPELINE_CHUNK:
        return await store_many(db, prepared=prepare_many(items, keys=keys), keys=keys, clock=clock)
    created: list[PetitionCreated] = []
    storing: asyncio.Task[list[PetitionCreated]] | None = None
    try:
        for at in range(0, len(items), PIPELINE_CHUNK):
            prepared = await _prepare_yielding(items[at : at + PIPELINE_CHUNK], keys=keys)
            if storing is not None:
                created += await storing
                storing = None
            storing = asyncio.create_task(store_many(db, prepared=prepared, keys=keys, clock=clock))
        created += await storing  # type: ignore[misc]  # the loop ran at least twice
        storing = None
    finally:
        if storing is not None:  # preparing failed: let the chunk in flight finish on the
            await asyncio.wait([storing])  # connection before the transaction unwinds
            if not storing.cancelled():
                storing.exception()  # retrieved: the preparing error is the one raised
    return created


PIPELINE_CHUNK = 100  # items per chunk of a long ``take_in_many``
_YIELD_EVERY = 10  # items prepared between two looks at the event loop


async def _prepare_yielding(items: Sequence[Intake], *, keys: Keys) -> list[Prepared]:
    """``prepare_many`` in slices, letting the event loop run between them."""
    out: list[Prepared] = []
    for at in range(0, len(items), _YIELD_EVERY):
        await asyncio.sleep(0)
        out += prepare_many(items[at : at + _YIELD_EVERY], keys=keys)
    return out


def prepare_many(items: Sequence[Intake], *, keys: Keys) -> list[Prepared]:
    """The part of ``take_in_many`` that needs no database: keyed hashes, redaction,
    encryption, ids, tracking numbers and the events. A bulk import prepares the next batch
    while the database stores the previous one."""
    texts = redact_many(t for i in items for t in (i.petition.title, i.petition.content))
    return [Prepared(item, texts[2 * k : 2 * k + 2], keys=keys) for k, item in enumerate(items)]


async def store_many(
    db: AsyncConnection, *, prepared: Sequence[Prepared], keys: Keys, clock: Clock
) -> list[PetitionCreated]:
    """The part of ``take_in_many`` that talks to the database, for prepared items (each
    stored at most once)."""
    if not prepared:
        return []
    externals = [(p.external.system, p.external.external_id) for p in prepared if p.external]
    if len(set(externals)) != len(externals):
        raise ValueError("take_in_many: an external id is given twice")
    if any(p.stored for p in prepared):
        raise ValueError("take_in_many: an item is stored twice")
    linked = iter(
        await repo.link_people(db, [ids for p in prepared for ids in p.identifiers], new_id=uuid7)
    )
    received_on = clock.now().astimezone(SHANGHAI).date()  # the day it reached us
    for p in prepared:
        p.link([next(linked) for _ in p.identifiers], received_on=received_on)
    prior_case_ids = await _link_prior_cases(db, prepared)
    pending = list(prepared)
    while pending:  # a tracking number drawn twice in a day is refused by its unique index
        stored = await repo.insert_petitions(
            db,
            petitions=[p.row for p in pending],
            petitioners=[r for p in pending for r in p.petitioners],
            external_refs=[p.external_ref for p in pending if p.external_ref is not None],
        )
        pending = [p for p in pending if p.case_id not in stored]
        for p in pending:
            p.draw_tracking_no(keys)
    for p in prepared:
        p.stored = True
        if prior_case_ids.get(p.case_id) or p.event.tracking_no != p.tracking_no:
            p.event = p.received_event(keys.ring, prior_case_ids.get(p.case_id, []))
    await repo.insert_prior_links(db, [r for p in prepared for r in p.prior_links])
    # the case ids were drawn by this call: their events are the first of their aggregates
    await append_new(
        db,
        producer=PRODUCER,
        clock=clock,
        events=[(p.event, str(p.case_id)) for p in prepared],
    )
    # from values of the right types (strings drawn here): validating each again was a
    # noticeable part of storing a large batch
    return [
        PetitionCreated.model_construct(
            case_id=str(p.case_id), tracking_no=p.tracking_no, query_code=p.code, status="received"
        )
        for p in prepared
    ]


def _tracking_number(day: str) -> str:
    """``shared.ids.tracking_number`` drawn from one read of the OS's random source: the same
    format and distribution (40 random bits, five per character of a 32-letter alphabet),
    without eight calls to ``secrets.choice``, which were a noticeable part of a batch."""
    bits = int.from_bytes(os.urandom(5))
    return f"MS{day}" + "".join(_TRACKING_ALPHABET[(bits >> s) & 31] for s in range(35, -1, -5))


class Prepared:
    """One item of ``take_in_many``, prepared: its rows, ready to store once its people are
    linked, and its event."""

    def __init__(self, item: Intake, redacted: list[str | None], *, keys: Keys) -> None:
        petition, external, ring = item.petition, item.external, keys.ring
        self.petition, self.external = petition, external
        self.stored = False
        # each petitioner's verified identifiers as keyed hashes (flagged ones never)
        self.identifiers = [
            [(kind, keys.hash.digest(kind, value)) for kind, value in p.identifiers()]
            for p in petition.petitioners
        ]
        self.case_id = uuid7()
        self.code = query_code()
        self.day = petition.received_at.astimezone(SHANGHAI).strftime("%y%m%d")
        self.title, self.content = str(redacted[0]), str(redacted[1])
        self.person_keys = [ids[0][1] for ids in self.identifiers if ids]
        contact = (
            petition.petitioners[0] if petition.petitioners and not petition.anonymous else None
        )
        self.name = contact.name if contact else None
        self.phone = petition.contact_phone() if not petition.anonymous else None
        original = None
        if self.title != petition.title or self.content != petition.content:
            original = ring.encrypt_text(f"{petition.title}\n\n{petition.content}")
        location = petition.location
        self.row: dict[str, Any] = {
            "case_id": self.case_id,
            "source": petition.source.value,
            "channel": petition.channel.value,
            "title": self.title,
            "content": self.content,
            "original_enc": original,
            "category_code": petition.category_code,
            "source_category": petition.source_category,
            "region_code": petition.region_code,
            "received_at": petition.received_at,
            "people_count": petition.people_count,
            "anonymous": petition.anonymous,
            "accusation": petition.accusation,
            "person_id": None,  # linked when stored
            "pii_enc": ring.encrypt_text(
                orjson.dumps({"name": self.name, "phone": self.phone}).decode()
            ),
            "address_enc": ring.encrypt_text(petition.address),
            "lat": location.lat if location else None,
            "lng": location.lng if location else None,
            "urgency": petition.urgency.value,
            "source_deadline": petition.source_deadline,
            "quality_flags": orjson.dumps(
                [f.model_dump() for f in petition.quality_flags]
            ).decode(),
            "public_attention": petition.public_attention,
            "registered_by": petition.registered_by,
            "raw_enc": ring.encrypt_text(orjson.dumps(petition.raw).decode())
            if petition.raw is not None
            else None,
            "revision": external.revision if external else 1,
        }
        self.draw_tracking_no(keys)
        self.petitioners = [
            {
                "case_id": self.case_id,
                "ordinal": i,
                "person_id": None,  # linked when stored
                "representative": p.representative,
                "pii_enc": ring.encrypt_text(
                    orjson.dumps(p.model_dump(exclude={"representative"})).decode()
                ),
            }
            for i, p in enumerate(petition.petitioners)
        ]
        self.external_ref: dict[str, Any] | None = None
        self.prior_links: list[dict[str, Any]] = []
        self.event = self.received_event(ring, [])

    def link(self, person_ids: list[uuid.UUID | None], *, received_on: date) -> None:
        """The people found or created for the petitioners, and the day it reached us."""
        self.row["person_id"] = next((p for p in person_ids if p is not None), None)
        for row, person_id in zip(self.petitioners, person_ids, strict=True):
            row["person_id"] = person_id
        if self.external is not None:
            self.external_ref = {
                "system": self.external.system,
                "external_id": self.external.external_id,
                "case_id": self.case_id,
                "revision": self.external.revision,
                "received_on": received_on,
            }

    def draw_tracking_no(self, keys: Keys) -> None:
        self.tracking_no = _tracking_number(self.day)
        self.row["tracking_no"] = self.tracking_no
        self.row["query_code_hash"] = keys.hash.digest(
            "query_code", f"{self.tracking_no}:{self.code}"
        )

    def received_event(self, ring: KeyRing, prior_case_ids: list[str]) -> PetitionReceivedV1:
        petition = self.petition
        return PetitionReceivedV1(
            case_id=str(self.case_id),
            tracking_no=self.tracking_no,
            source=petition.source.value,
            channel=petition.channel.value,
            title=self.title,
            content=self.content,
            category_code=petition.category_code,
            region_code=petition.region_code,
            received_at=petition.received_at,
            people_count=petition.people_count,
            anonymous=petition.anonymous,
            accusation=petition.accusation,
            person_key=self.person_keys[0] if self.person_keys else None,
            pii=seal_pii(ring, {"name": self.name, "phone": self.phone, "query_code": self.code}),
            urgency=petition.urgency.value,
            source_category=petition.source_category,
            external_ids=petition.external_ids,
            source_deadline=petition.source_deadline,
            person_keys=self.person_keys,
            collective=petition.collective,
            public_attention=petition.public_attention,
            prior_case_ids=prior_case_ids,
            received_level=petition.received_level,
        )


async def _link_prior_cases(
    db: AsyncConnection, prepared: Sequence[Prepared]
) -> dict[uuid.UUID, list[str]]:
    """The earlier petitions each item names (``prior_external_ids``, within its source's
    system), resolved to our cases as one after another would: known before this call, or an
    earlier item of it. Fills each item's ``prior_links``; returns the resolved case ids."""
    wanted = [
        (p.external.system, prior)
        for p in prepared
        if p.external is not None
        for prior in p.petition.prior_external_ids
    ]
    if not wanted:
        return {}
    known = await repo.known_refs(db, sorted(set(wanted)))
    resolved: dict[uuid.UUID, list[str]] = {}
    for p in prepared:
        if p.external is None:
            continue
        system = p.external.system
        ids: list[str] = []
        for prior in dict.fromkeys(p.petition.prior_external_ids):  # each once, in order
            case = known.get((system, prior))
            p.prior_links.append({"c": p.case_id, "s": system, "e": prior, "p": case})
            if case is not None:
                ids.append(str(case))
        resolved[p.case_id] = ids
        known[(system, p.external.external_id)] = p.case_id  # later items find this one
    return resolved


async def submit(
    db: AsyncConnection,
    *,
    petition_in: PetitionCreate,
    submission: Submission,
    keys: Keys,
    clock: Clock,
) -> PetitionCreated:
    """A citizen's petition from the web or the app."""
    return await take_in(
        db,
        petition=NormalizedPetition(
            source=Source(submission.source),
            channel=Channel(submission.channel),
            petitioners=[]
            if petition_in.anonymous
            else [Person(name=petition_in.name, phone=petition_in.phone)],
            anonymous=petition_in.anonymous,
            title=petition_in.title,
            content=petition_in.content,
            category_code=petition_in.category,
            region_code=petition_in.region_code,
            received_at=submission.received_at,
        ),
        keys=keys,
        clock=clock,
    )


class TrackingLocked(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "tracking_locked",
            "查询码错误次数过多，请稍后再试",
            "too many wrong codes; try again later",
            field="code",
            headers={"Retry-After": str(retry_after)},
        )


async def check_lock(db: AsyncConnection, *, tracking_no: str, clock: Clock) -> None:
    state = await repo.guard_state(db, tracking_no)
    now = clock.now()
    if state is not None and state.locked_until is not None and state.locked_until > now:
        raise TrackingLocked(max(1, int((state.locked_until - now).total_seconds())))


async def track(
    db: AsyncConnection, *, tracking_no: str, code: str, keys: Keys
) -> PetitionStatus | None:
    """The public view, or None when the number or the code is wrong (the caller counts the
    failure in its own transaction, so it is kept even though this answer is a 404)."""
    row = await repo.get_by_tracking_no(db, tracking_no)
    expected = keys.hash.digest("query_code", f"{tracking_no}:{code}")
    if row is None or not hmac.compare_digest(row.query_code_hash, expected):
        return None
    await repo.guard_reset(db, tracking_no)
    recorded = await repo.milestones(db, row.case_id)
    history = [
        Milestone(
            occurred_at=m.occurred_at, milestone=m.milestone, status=m.status, message=m.message
        )
        for m in recorded
    ]
    received = Milestone(
        occurred_at=row.received_at,
        milestone="received",
        status="received",
        message="诉求已收到 / petition received",
    )
    return PetitionStatus(
        tracking_no=row.tracking_no,
        status=row.status,
        title=row.title,
        received_at=row.received_at,
        history=[received, *history],
        deadline=recorded[-1].due_at if recorded else None,
    )


async def count_failure(
    db: AsyncConnection, *, tracking_no: str, clock: Clock, settings: Settings
) -> None:
    await repo.guard_fail(
        db,
        tracking_no=tracking_no,
        now=clock.now(),
        max_failures=settings.tracking_max_failures,
        lock_seconds=settings.tracking_lock_minutes * 60,
    )


def wrong_code() -> ApiError:
    return not_found("未找到该编号或查询码错误", "unknown tracking number or wrong code")


# --- the petitioner's own actions: supplement, attach, withdraw, list -----------------------

# a petitioner may withdraw (撤回) until the reply: afterwards they ask for review instead
WITHDRAWABLE = frozenset(
    {"received", "registered", "accepted", "assigned", "signed", "in_progress"}
)


async def find_own(
    db: AsyncConnection,
    *,
    tracking_no: str,
    code: str | None,
    person_key: str | None,
    keys: Keys,
) -> Any:
    """The petition when the caller holds its query code or is its signed-in petitioner;
    None otherwise (the caller counts a wrong code and answers 404)."""
    row = await repo.get_by_tracking_no(db, tracking_no)
    if row is None:
        return None
    if person_key is not None and row.person_id is not None:
        owner = await repo.find_person(db, kind="phone", value_hash=person_key)
        if owner == row.person_id:
            return row
    if code:
        expected = keys.hash.digest("query_code", f"{tracking_no}:{code}")
        if hmac.compare_digest(row.query_code_hash, expected):
            return row
    return None


# after these nothing more is handled: material added would reach nobody (a later petition
# on the same matter is a new petition — or, after 复核, is not taken up again)
ENDED_FOR_SUPPLEMENTS = frozenset({"withdrawn", "reexamined"})


async def supplement(
    db: AsyncConnection,
    *,
    row: Any,
    content: str | None,
    attachment_ids: list[str],
    keys: Keys,
    clock: Clock,
) -> None:
    if row.status in ENDED_FOR_SUPPLEMENTS:
        raise ApiError(
            409,
            "petition_ended",
            "该诉求已撤回或已终结，不能再补充材料",
            "the petition was withdrawn or has ended; nothing more can be added",
        )
    now = clock.now()
    await repo.add_history(
        db,
        case_id=row.case_id,
        action="supplemented",
        actor="petitioner",
        at=now,
        changes={"content": content, "attachments": attachment_ids},
        ring=keys.ring,
    )
    await publish(
        db,
        producer=PRODUCER,
        aggregate_id=str(row.case_id),
        clock=clock,
        event=PetitionSupplementedV1(
            case_id=str(row.case_id),
            tracking_no=row.tracking_no,
            content=redact(content) if content else None,
            attachment_ids=attachment_ids,
            supplemented_at=now,
        ),
    )


async def withdraw(db: AsyncConnection, *, row: Any, reason: str, keys: Keys, clock: Clock) -> None:
    """撤回 before the reply; afterwards the petitioner asks for review instead."""
    if row.status not in WITHDRAWABLE:
        raise ApiError(
            409,
            "not_withdrawable",
            "该诉求已答复、已办结或已终结，不能撤回",
            "already replied, closed or ended; it can no longer be withdrawn",
        )
    now = clock.now()
    await repo.add_history(
        db,
        case_id=row.case_id,
        action="withdrawn",
        actor="petitioner",
        at=now,
        changes={"reason": reason},
        ring=keys.ring,
    )
    await publish(
        db,
        producer=PRODUCER,
        aggregate_id=str(row.case_id),
        clock=clock,
        event=PetitionWithdrawnV1(
            case_id=str(row.case_id),
            tracking_no=row.tracking_no,
            reason=redact(reason),
            withdrawn_at=now,
            by="citizen",
        ),
    )
