"""The rules of the reception desk (登记): registering letters and visits, correcting a
registration, a person's earlier petitions, and the receipt slip.

First-contact responsibility (首问负责制): the staff member who registers is recorded as
``registered_by``, and the level of the desk's unit (city, district …) as ``received_level``
on ``intake.petition.received`` (what analytics counts 去市 by); a correction names its actor
in the petition's history. A registrar sees and corrects only petitions in their org unit's
jurisdiction; everything else is a 404.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import and_, exists, select, tuple_, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.models import petition, petitioner
from services.intake.petition import repository as repo
from services.intake.petition import service as petition_service
from services.intake.petition.normalized import (
    Channel,
    NormalizedPetition,
    Person,
    QualityFlag,
    Source,
    clean_person,
)
from services.intake.registrar.schemas import (
    Corrected,
    CorrectionIn,
    PersonPetition,
    PersonPetitions,
    PetitionerIn,
    ReceiptLinks,
    Registered,
    RegistrationIn,
    check_id_number,
    check_phone,
)
from shared.api.errors import ApiError, not_found
from shared.bus import publish
from shared.clock import Clock
from shared.crypto import is_valid_mobile, mask_id_number, mask_phone, redact
from shared.events.intake import PetitionAmendedV1
from shared.identity.principal import Principal
from shared.identity.scope import in_region_scope, region_scope_condition
from shared.ids import uuid7
from shared.reference import regions
from shared.reference.regions import RegionLevel
from shared.security import Keys

PREFIX = "/api/v1/registrar"
DESK_SOURCES = (Source.LETTER.value, Source.VISIT.value)
MAX_REPRESENTATIVES = 5  # 条例 Art. 18: a collective visit elects at most five
COLLECTIVE_AT = 5  # 集体访: five or more people
FUTURE_SKEW = timedelta(minutes=5)
ACCUSATION_TITLE = "（检举控告件，内容保密）"


# highest first: a unit whose regions include the city is the city's office
_LEVEL_RANK: dict[RegionLevel, int] = {
    "province": 0,
    "city": 1,
    "district": 2,
    "street": 3,
    "community": 4,
}


def desk_level(region_codes: Iterable[str]) -> RegionLevel | None:
    """The administrative level of a desk: the highest level among its unit's regions, as the
    reference data know them (深圳市信访局 of 440300 → city, 宝安区信访局 of 440306 →
    district); None when the unit has no known region."""
    levels = [r.level for code in region_codes if (r := regions.get(code)) is not None]
    return min(levels, key=_LEVEL_RANK.__getitem__, default=None)


def _error(code: str, zh: str, en: str, field: str) -> ApiError:
    return ApiError(422, code, zh, en, field=field)


def receipt_links(tracking_no: str, code: str) -> ReceiptLinks:
    base = f"{PREFIX}/petitions/{tracking_no}/receipt"
    return ReceiptLinks(html=f"{base}.html?code={code}", pdf=f"{base}.pdf?code={code}")


def check_people(
    *, source: str, people_count: int, petitioners: list[bool], anonymous: bool
) -> None:
    """``petitioners`` are the representative flags. A visit of five or more people (集体访)
    names one to five representatives; nobody is counted twice."""
    if not petitioners and not anonymous:
        raise _error(
            "required",
            "请登记至少一名信访人",
            "name at least one petitioner (or mark it anonymous)",
            "petitioners",
        )
    if people_count < len(petitioners):
        raise _error(
            "people_count_too_small",
            "人数少于登记的信访人数",
            "people_count is below the number of petitioners",
            "people_count",
        )
    if source != Source.VISIT.value or people_count < COLLECTIVE_AT:
        return
    reps = sum(petitioners)
    if reps > MAX_REPRESENTATIVES:
        raise _error(
            "too_many_representatives",
            "集体访推选的代表不得超过5人",
            "a collective visit names at most 5 representatives",
            "petitioners",
        )
    if reps < 1:
        raise _error(
            "representatives_required",
            "集体访须推选代表（1至5人）",
            "a collective visit names 1 to 5 representatives",
            "petitioners",
        )


def _check_jurisdiction(principal: Principal, region_code: str) -> None:
    if not in_region_scope(principal, region_code):
        raise _error(
            "out_of_jurisdiction",
            "该行政区划不在本单位辖区内",
            "this region is outside your jurisdiction",
            "region_code",
        )


def _people(items: list[PetitionerIn]) -> list[Person]:
    flags: list[QualityFlag] = []
    people = [
        clean_person(
            name=p.name,
            phone=p.phone,
            id_number=p.id_number,
            address=p.address,
            path=f"petitioners[{i}]",
            flags=flags,
            representative=p.representative,
        )
        for i, p in enumerate(items)
    ]
    if flags:  # the schema already refused these; never store an unverified desk identifier
        raise _error(flags[0].code, "号码格式不正确", "invalid identifier", flags[0].field)
    return people


def _counts(source: str, people_count: int) -> tuple[bool, int | None, int | None]:
    """collective, 批 and 人次 as the statistics count them (domain §5): visits in 人次, a
    collective visit also as one 批; letters in neither."""
    collective = people_count >= COLLECTIVE_AT
    if source != Source.VISIT.value:
        return collective, None, None
    return collective, 1 if collective else None, people_count


async def register(
    db: AsyncConnection,
    *,
    body: RegistrationIn,
    source: Source,
    principal: Principal,
    keys: Keys,
    clock: Clock,
) -> Registered:
    _check_jurisdiction(principal, body.region_code)
    people_count = body.people_count or max(1, len(body.petitioners))
    check_people(
        source=source.value,
        people_count=people_count,
        petitioners=[p.representative for p in body.petitioners],
        anonymous=body.anonymous,
    )
    now = clock.now()
    received_at = body.received_at or now
    if received_at > now + FUTURE_SKEW:
        raise _error(
            "in_future", "收到时间不能晚于当前时间", "received_at is in the future", "received_at"
        )
    normalized = NormalizedPetition(
        source=source,
        channel=Channel.LETTER if source is Source.LETTER else Channel.VISIT,
        petitioners=_people(body.petitioners),
        people_count=people_count,
        title=body.title,
        content=body.content,
        category_code=body.category,
        region_code=body.region_code,
        address=body.address,
        received_at=received_at,
        anonymous=body.anonymous,
        accusation=body.accusation,
        registered_by=principal.subject,
        received_level=desk_level(principal.region_codes),
    )
    created = await petition_service.take_in(db, petition=normalized, keys=keys, clock=clock)
    collective, batch, person_times = _counts(source.value, people_count)
    return Registered(
        case_id=created.case_id,
        tracking_no=created.tracking_no,
        query_code=created.query_code,
        status=created.status,
        source=source.value,
        channel=normalized.channel.value,
        people_count=people_count,
        collective=collective,
        batch=batch,
        person_times=person_times,
        registered_by=principal.subject,
        receipt=receipt_links(created.tracking_no, created.query_code),
    )


# ---------------------------------------------------------------------------------------
# Finding a desk petition


async def find_desk_petition(
    db: AsyncConnection, *, tracking_no: str, principal: Principal, for_update: bool = False
) -> Row[Any] | None:
    """A petition registered at the desk (letter or visit) in the caller's jurisdiction."""
    query = select(petition).where(
        petition.c.tracking_no == tracking_no,
        petition.c.source.in_(DESK_SOURCES),
        region_scope_condition(principal, petition.c.region_code),
    )
    if for_update:
        query = query.with_for_update()
    return (await db.execute(query)).first()


def code_matches(row: Row[Any], code: str, keys: Keys) -> bool:
    expected = keys.hash.digest("query_code", f"{row.tracking_no}:{code}")
    return hmac.compare_digest(row.query_code_hash, expected)


# ---------------------------------------------------------------------------------------
# Corrections


@dataclass
class _Change:
    history: dict[str, Any]  # field -> [before, after], plaintext, stored encrypted
    columns: dict[str, Any]  # petition columns to set
    public: dict[str, str | None]  # what the event carries (redacted; PII fields as None)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def _petitioner_rows(db: AsyncConnection, case_id: uuid.UUID) -> list[Row[Any]]:
    return list(
        (
            await db.execute(
                select(petitioner)
                .where(petitioner.c.case_id == case_id)
                .order_by(petitioner.c.ordinal)
            )
        ).all()
    )


async def correct(
    db: AsyncConnection,
    *,
    tracking_no: str,
    body: CorrectionIn,
    principal: Principal,
    keys: Keys,
    clock: Clock,
) -> Corrected:
    """Correct a desk registration: the petition row changes, the before and after go to
    ``petition_history`` (encrypted, action ``corrected``, actor the staff id) and
    ``intake.petition.amended`` is published with ``source="registrar"``."""
    row = await find_desk_petition(
        db, tracking_no=tracking_no, principal=principal, for_update=True
    )
    if row is None:
        raise not_found("未找到该信访件", "no such petition")
    ring = keys.ring
    change = _Change({}, {}, {})

    def simple(column: str, new: Any) -> None:
        if new is not None and new != getattr(row, column):
            change.history[column] = [_plain(getattr(row, column)), _plain(new)]
            change.columns[column] = new
            change.public[column] = str(new)

    # title and content are stored redacted, the typed text kept encrypted when redaction
    # hid something (as at intake); the history keeps the typed text before and after
    old_original = ring.decrypt_text(row.original_enc)
    old_title, old_content = row.title, row.content
    if old_original is not None:
        old_title, _, old_content = old_original.partition("\n\n")
    new_title = body.title if body.title is not None else old_title
    new_content = body.content if body.content is not None else old_content
    if (new_title, new_content) != (old_title, old_content):
        stored_title, stored_content = redact(new_title), redact(new_content)
        for field, old, new, stored in (
            ("title", old_title, new_title, stored_title),
            ("content", old_content, new_content, stored_content),
        ):
            if old != new:
                change.history[field] = [old, new]
                change.public[field] = stored
        change.columns.update(
            title=stored_title,
            content=stored_content,
            original_enc=ring.encrypt_text(f"{new_title}\n\n{new_content}")
            if (stored_title, stored_content) != (new_title, new_content)
            else None,
        )
    simple("category_code", body.category)
    if body.region_code is not None and body.region_code != row.region_code:
        _check_jurisdiction(principal, body.region_code)
        simple("region_code", body.region_code)
    if body.address is not None:
        old_address = ring.decrypt_text(row.address_enc)
        if body.address != old_address:
            change.history["address"] = [old_address, body.address]
            change.columns["address_enc"] = ring.encrypt_text(body.address)
            change.public["address"] = None  # personal: changed, value withheld
    simple("people_count", body.people_count)

    old_rows = await _petitioner_rows(db, row.case_id)
    new_people: list[Person] | None = None
    if body.petitioners is not None:
        new_people = _people(body.petitioners)
        before = [
            {
                **orjson.loads(ring.decrypt_text(r.pii_enc) or "{}"),
                "representative": r.representative,
            }
            for r in old_rows
        ]
        after = [p.model_dump() for p in new_people]
        if after != before:
            change.history["petitioners"] = [before, after]
            change.public["petitioners"] = None
        else:
            new_people = None
    if new_people is not None or "people_count" in change.columns:
        reps = (
            [p.representative for p in new_people]
            if new_people is not None
            else [bool(r.representative) for r in old_rows]
        )
        check_people(
            source=row.source,
            people_count=change.columns.get("people_count", row.people_count),
            petitioners=reps,
            anonymous=row.anonymous,
        )
    if not change.history:
        return Corrected(
            case_id=str(row.case_id), tracking_no=row.tracking_no, revision=row.revision, changed=[]
        )

    now = clock.now()
    if new_people is not None:
        change.columns.update(
            await _replace_petitioners(
                db, case_id=row.case_id, people=new_people, row=row, keys=keys
            )
        )
    revision = row.revision + 1
    await db.execute(
        update(petition)
        .where(petition.c.case_id == row.case_id)
        .values(**change.columns, revision=revision, updated_at=now)
    )
    history = dict(change.history)
    if body.reason:
        history["reason"] = body.reason
    await repo.add_history(
        db,
        case_id=row.case_id,
        action="corrected",
        actor=principal.subject,
        at=now,
        changes=history,
        ring=ring,
        revision=revision,
    )
    await publish(
        db,
        producer="intake",
        aggregate_id=str(row.case_id),
        clock=clock,
        event=PetitionAmendedV1(
            case_id=str(row.case_id),
            tracking_no=row.tracking_no,
            revision=revision,
            source="registrar",
            changed=change.public,
            amended_at=now,
            person_keys=(
                None
                if new_people is None
                else [
                    ids[0][1]
                    for ids in (petition_service.person_identifiers(p, keys) for p in new_people)
                    if ids
                ]
            ),
        ),
    )
    return Corrected(
        case_id=str(row.case_id),
        tracking_no=row.tracking_no,
        revision=revision,
        changed=sorted(change.public),
    )


async def _replace_petitioners(
    db: AsyncConnection, *, case_id: uuid.UUID, people: list[Person], row: Row[Any], keys: Keys
) -> dict[str, Any]:
    """Rewrite the petitioner rows (the old list is in the history) and link the people;
    returns the petition columns that follow from the first petitioner, as at intake."""
    person_ids: list[uuid.UUID | None] = []
    for p in people:
        identifiers = petition_service.person_identifiers(p, keys)
        person_ids.append(
            await repo.link_person(db, identifiers=identifiers, new_id=uuid7())
            if identifiers
            else None
        )
    await db.execute(petitioner.delete().where(petitioner.c.case_id == case_id))
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
            for i, p in enumerate(people)
        ],
    )
    contact = people[0] if people and not row.anonymous else None
    phone = None
    if not row.anonymous:
        phone = next((p.phone for p in people if p.phone and is_valid_mobile(p.phone)), None)
    return {
        "person_id": next((p for p in person_ids if p is not None), None),
        "pii_enc": keys.ring.encrypt_text(
            orjson.dumps({"name": contact.name if contact else None, "phone": phone}).decode()
        ),
    }


# ---------------------------------------------------------------------------------------
# A person's earlier petitions


def _encode_cursor(received_at: datetime, case_id: uuid.UUID) -> str:
    raw = orjson.dumps({"r": received_at.isoformat(), "c": str(case_id)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
        at = datetime.fromisoformat(data["r"])
        if at.tzinfo is None:
            raise ValueError
        return at, uuid.UUID(data["c"])
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError) as exc:
        raise _error("invalid_cursor", "翻页标记无效", "invalid cursor", "cursor") from exc


def _identifier(id_number: str | None, phone: str | None) -> tuple[str, str, dict[str, str]]:
    if (id_number is None) == (phone is None):
        raise _error(
            "one_identifier_required",
            "请提供身份证号码或电话号码之一",
            "give exactly one of id_number and phone",
            "id_number" if id_number is not None else "phone",
        )
    try:
        if id_number is not None:
            value = check_id_number(id_number.strip())
            return "id_number", value, {"id_number": mask_id_number(value)}
        assert phone is not None
        value = check_phone(phone.strip())
        return "phone", value, {"phone": mask_phone(value)}
    except ValueError as exc:
        code, zh, en = str(exc).split("|")
        raise _error(code, zh, en, "id_number" if id_number is not None else "phone") from exc


async def person_petitions(
    db: AsyncConnection,
    *,
    id_number: str | None,
    phone: str | None,
    cursor: str | None,
    limit: int,
    principal: Principal,
    keys: Keys,
) -> PersonPetitions:
    """The petitions in the caller's jurisdiction naming this person (as petitioner or
    representative, from any channel), newest first."""
    kind, value, masked = _identifier(id_number, phone)
    after = _decode_cursor(cursor) if cursor else None
    person_id = await repo.find_person(db, kind=kind, value_hash=keys.hash.digest(kind, value))
    if person_id is None:
        return PersonPetitions(person=masked, items=[])
    mine = and_(petitioner.c.case_id == petition.c.case_id, petitioner.c.person_id == person_id)
    representative = (
        exists().where(mine, petitioner.c.representative.is_(True)).label("representative")
    )
    query = (
        select(
            petition.c.case_id,
            petition.c.tracking_no,
            petition.c.received_at,
            petition.c.title,
            petition.c.status,
            petition.c.source,
            petition.c.channel,
            petition.c.accusation,
            representative,
        )
        .where(exists().where(mine), region_scope_condition(principal, petition.c.region_code))
        .order_by(petition.c.received_at.desc(), petition.c.case_id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(petition.c.received_at, petition.c.case_id) < tuple_(*after))
    rows = (await db.execute(query)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return PersonPetitions(
        person=masked,
        items=[
            PersonPetition(
                tracking_no=r.tracking_no,
                received_at=r.received_at,
                title=ACCUSATION_TITLE if r.accusation else r.title,
                status=r.status,
                source=r.source,
                channel=r.channel,
                accusation=r.accusation,
                representative=bool(r.representative),
            )
            for r in rows
        ],
        next_cursor=_encode_cursor(rows[-1].received_at, rows[-1].case_id) if more else None,
    )
