"""Registering a case from a received petition (the first step of the statutory flow)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.models import case_history
from shared.bus import publish
from shared.clock import Clock
from shared.events.casework import CaseRegisteredV1
from shared.events.intake import PetitionReceivedV1

PRODUCER = "casework"
SYSTEM = "system"


def registered_message(tracking_no: str) -> str:
    return (
        f"您的信访事项已登记（编号 {tracking_no}）。信访工作机构将在15日内告知是否受理。"
        " / Registered; you will be told within 15 days whether it is accepted."
    )


async def register(
    db: AsyncConnection, *, received: PetitionReceivedV1, clock: Clock
) -> bool:
    """Register the case under the id intake allocated. False if it already exists."""
    now = clock.now()
    case_id = uuid.UUID(received.case_id)
    inserted = await db.scalar(
        text(
            "INSERT INTO casework.case (case_id, tracking_no, source, channel, title, "
            "category_code, region_code, status, accusation, received_at, registered_at, "
            "updated_at) VALUES (:id, :t, :src, :ch, :title, :cat, :reg, 'registered', :acc, "
            ":recv, :now, :now) ON CONFLICT (case_id) DO NOTHING RETURNING 1"
        ),
        {"id": case_id, "t": received.tracking_no, "src": received.source,
         "ch": received.channel, "title": received.title, "cat": received.category_code,
         "reg": received.region_code, "acc": received.accusation,
         "recv": received.received_at, "now": now},
    )
    if inserted is None:
        return False
    await db.execute(
        case_history.insert().values(
            case_id=case_id, occurred_at=now, action="register", actor=SYSTEM,
            from_status=None, to_status="registered", reason=None, public=True,
        )
    )
    await publish(
        db,
        producer=PRODUCER,
        aggregate_id=str(case_id),
        clock=clock,
        occurred_at=now,
        event=CaseRegisteredV1(
            case_id=str(case_id),
            tracking_no=received.tracking_no,
            source=received.source,
            channel=received.channel,
            category_code=received.category_code,
            region_code=received.region_code,
            status="registered",
            registered_at=now,
            accusation=received.accusation,
            public_message=registered_message(received.tracking_no),
            pii=received.pii,
        ),
    )
    return True


