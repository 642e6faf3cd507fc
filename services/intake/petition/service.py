"""The rules of taking in a citizen's petition and of the public tracking view."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime
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
from shared.clock import SHANGHAI, Clock
from shared.crypto import redact, seal_pii
from shared.events.intake import (
    PetitionReceivedV1,
    PetitionSupplementedV1,
    PetitionWithdrawnV1,
)
from shared.ids import query_code, tracking_number, uuid7
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


async def take_in(
    db: AsyncConnection,
    *,
    petition: NormalizedPetition,
    keys: Keys,
    clock: Clock,
    external: ExternalRef | None = None,
) -> PetitionCreated:
    """Store a normalised petition from any channel: link its people across channels, allocate
    the case id, tracking number and query code, and emit ``intake.petition.received`` — all
    in the caller's transaction."""
    person_ids: list[uuid.UUID | None] = []
    person_keys: list[str] = []
    for person in petition.petitioners:
        identifiers = person_identifiers(person, keys)
        if not identifiers:
            person_ids.append(None)
            continue
        person_ids.append(await repo.link_person(db, identifiers=identifiers, new_id=uuid7()))
        person_keys.append(identifiers[0][1])
    case_id = uuid7()
    day = petition.received_at.astimezone(SHANGHAI)
    code = query_code()
    title, content = redact(petition.title), redact(petition.content)
    original = None
    if title != petition.title or content != petition.content:
        original = keys.ring.encrypt_text(f"{petition.title}\n\n{petition.content}")
    contact = petition.petitioners[0] if petition.petitioners and not petition.anonymous else None
    phone = petition.contact_phone() if not petition.anonymous else None
    values = dict(
        case_id=case_id,
        source=petition.source.value,
        channel=petition.channel.value,
        title=title,
        content=content,
        original_enc=original,
        category_code=petition.category_code,
        source_category=petition.source_category,
        region_code=petition.region_code,
        received_at=petition.received_at,
        people_count=petition.people_count,
        anonymous=petition.anonymous,
        accusation=petition.accusation,
        person_id=next((p for p in person_ids if p is not None), None),
        pii_enc=keys.ring.encrypt_text(
            orjson.dumps({"name": contact.name if contact else None, "phone": phone}).decode()
        ),
        address_enc=keys.ring.encrypt_text(petition.address),
        lat=petition.location.lat if petition.location else None,
        lng=petition.location.lng if petition.location else None,
        urgency=petition.urgency.value,
        source_deadline=petition.source_deadline,
        quality_flags=[f.model_dump() for f in petition.quality_flags],
        public_attention=petition.public_attention,
        registered_by=petition.registered_by,
        raw_enc=keys.ring.encrypt_text(orjson.dumps(petition.raw).decode())
        if petition.raw is not None
        else None,
        revision=external.revision if external else 1,
        status="received",
    )
    while True:  # a tracking number drawn twice in a day is refused by its unique index
        tracking_no = tracking_number(day.strftime("%y%m%d"))
        stored = await repo.insert_petition(
            db,
            tracking_no=tracking_no,
            query_code_hash=keys.hash.digest("query_code", f"{tracking_no}:{code}"),
            **values,
        )
        if stored:
            break
    await repo.insert_petitioners(
        db,
        [
            {
                "case_id": case_id,
                "ordinal": i,
                "person_id": person_ids[i],
                "representative": p.representative,
                "pii_enc": keys.ring.encrypt_text(
                    orjson.dumps(p.model_dump(exclude={"representative"})).decode()
                ),
            }
            for i, p in enumerate(petition.petitioners)
        ],
    )
    prior_case_ids: list[str] = []
    if external is not None and petition.prior_external_ids:
        prior_case_ids = await repo.link_prior_cases(
            db, case_id=case_id, system=external.system, prior=petition.prior_external_ids
        )
    if external is not None:
        await repo.insert_external_ref(
            db,
            system=external.system,
            external_id=external.external_id,
            case_id=case_id,
            revision=external.revision,
            received_on=clock.now().astimezone(SHANGHAI).date(),  # the day it reached us
        )
    await publish(
        db,
        producer=PRODUCER,
        aggregate_id=str(case_id),
        clock=clock,
        event=PetitionReceivedV1(
            case_id=str(case_id),
            tracking_no=tracking_no,
            source=petition.source.value,
            channel=petition.channel.value,
            title=title,
            content=content,
            category_code=petition.category_code,
            region_code=petition.region_code,
            received_at=petition.received_at,
            people_count=petition.people_count,
            anonymous=petition.anonymous,
            accusation=petition.accusation,
            person_key=person_keys[0] if person_keys else None,
            pii=seal_pii(
                keys.ring,
                {"name": contact.name if contact else None, "phone": phone, "query_code": code},
            ),
            urgency=petition.urgency.value,
            source_category=petition.source_category,
            external_ids=petition.external_ids,
            source_deadline=petition.source_deadline,
            person_keys=person_keys,
            collective=petition.collective,
            public_attention=petition.public_attention,
            prior_case_ids=prior_case_ids,
        ),
    )
    return PetitionCreated(
        case_id=str(case_id), tracking_no=tracking_no, query_code=code, status="received"
    )


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
    history = [
        Milestone(
            occurred_at=m.occurred_at, milestone=m.milestone, status=m.status, message=m.message
        )
        for m in await repo.milestones(db, row.case_id)
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

CLOSED_FOR_WITHDRAWAL = frozenset({"replied", "evaluated", "closed", "withdrawn"})


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


async def supplement(
    db: AsyncConnection,
    *,
    row: Any,
    content: str | None,
    attachment_ids: list[str],
    keys: Keys,
    clock: Clock,
) -> None:
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
    if row.status in CLOSED_FOR_WITHDRAWAL:
        raise ApiError(
            409,
            "not_withdrawable",
            "该诉求已答复或已办结，不能撤回",
            "already replied or closed; it can no longer be withdrawn",
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
