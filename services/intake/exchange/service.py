"""The provincial platform, inbound (integrations §3): petitions transferred (转送) or assigned
(交办) to us, idempotent on ``province_case_no``. A repeat with new content changes nothing;
its copy is kept for audit. ``prior_case_nos`` are linked to our cases where we know them;
``people_count >= 5`` marks a collective petition; ``accusation: true`` is confidential from
the first moment (the flag travels with the case and decides every later read)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.exchange.schemas import ExchangeAnswer, ProvincialPetition
from services.intake.hotline.service import hotline_status
from services.intake.petition import service as petition_service
from services.intake.petition.normalized import (
    Attachment,
    Channel,
    NormalizedPetition,
    QualityFlag,
    Source,
    clean_person,
)
from shared.clock import Clock
from shared.reference import categories
from shared.security import Keys

SYSTEM = "province"
_FORMS = {
    "letter": Channel.LETTER,
    "visit": Channel.VISIT,
    "online": Channel.ONLINE,
    "phone": Channel.PHONE,
}


def to_normalized(p: ProvincialPetition, raw: dict[str, Any]) -> NormalizedPetition:
    flags: list[QualityFlag] = []
    people = [
        clean_person(
            name=x.name,
            phone=x.phone,
            id_number=x.id_number,
            address=x.address,
            path=f"petitioners[{i}]",
            flags=flags,
        )
        for i, x in enumerate(p.petitioners)
    ]
    category = categories.match_label(p.category) if p.category else None
    return NormalizedPetition(
        source=Source.PROVINCE_ASSIGN if p.handling == "assign" else Source.PROVINCE_TRANSFER,
        channel=_FORMS[p.form],
        external_ids={"province_case_no": p.province_case_no},
        petitioners=people,
        people_count=max(p.people_count, len(people) or 1),
        title=p.title,
        content=p.content,
        source_category=p.category,
        category_code=category.code if category else None,
        region_code=p.region_code,
        received_at=p.transferred_at,
        attachments=[
            Attachment(name=a.name, url=a.url, sha256=a.sha256.lower() if a.sha256 else None)
            for a in p.attachments
        ],
        anonymous=not people,
        accusation=p.accusation,
        quality_flags=flags,
        source_deadline=p.deadline,
        prior_external_ids=list(dict.fromkeys(p.prior_case_nos)),
        raw=raw,
    )


async def receive(
    db: AsyncConnection,
    *,
    petition: ProvincialPetition,
    raw: dict[str, Any],
    keys: Keys,
    clock: Clock,
) -> tuple[int, ExchangeAnswer]:
    await db.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"{SYSTEM}:{petition.province_case_no}"},
    )
    found = (
        await db.execute(
            text(
                "SELECT r.case_id, p.tracking_no, p.status FROM intake.external_ref r "
                "JOIN intake.petition p USING (case_id) WHERE r.system = :s AND r.external_id = :e"
            ),
            {"s": SYSTEM, "e": petition.province_case_no},
        )
    ).first()
    if found is not None:
        await _keep_copy(db, petition=petition, raw=raw, keys=keys, clock=clock)
        return 200, ExchangeAnswer(
            case_id=str(found.case_id),
            tracking_no=found.tracking_no,
            status=hotline_status(found.status),
        )
    created = await petition_service.take_in(
        db,
        petition=to_normalized(petition, raw),
        keys=keys,
        clock=clock,
        external=petition_service.ExternalRef(SYSTEM, petition.province_case_no),
    )
    # every distinct version received is kept once: an identical retry adds nothing
    await _keep_copy(db, petition=petition, raw=raw, keys=keys, clock=clock)
    return 201, ExchangeAnswer(
        case_id=created.case_id, tracking_no=created.tracking_no, status="received"
    )


async def _keep_copy(
    db: AsyncConnection,
    *,
    petition: ProvincialPetition,
    raw: dict[str, Any],
    keys: Keys,
    clock: Clock,
) -> None:
    body = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
    await db.execute(
        text(
            "INSERT INTO intake.external_copy (system, external_id, received_at, raw_hash, "
            "raw_enc) VALUES (:s, :e, :at, :h, :raw) ON CONFLICT DO NOTHING"
        ),
        {
            "s": SYSTEM,
            "e": petition.province_case_no,
            "at": clock.now(),
            "h": hashlib.sha256(body).hexdigest(),
            "raw": keys.ring.encrypt_text(body.decode()),
        },
    )
