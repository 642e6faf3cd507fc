"""Intake's consumers: the public tracking view projected from casework's milestones."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.petition import repository as repo
from shared.bus import BusContext
from shared.events.casework import CaseRegisteredV1
from shared.events.envelope import Envelope


async def on_case_registered(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    event = CaseRegisteredV1.model_validate(env.payload)
    await repo.record_milestone(
        db,
        case_id=uuid.UUID(event.case_id),
        seq=env.aggregate_seq,
        milestone="registered",
        status=event.status,
        message=event.public_message,
        occurred_at=event.registered_at,
    )


HANDLERS = {CaseRegisteredV1.type: on_case_registered}
