"""Intake's consumers: the public tracking view projected from casework's milestones."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.petition import repository as repo
from shared.bus import BusContext
from shared.bus.consumer import Handler, batch
from shared.events.casework import CaseRegisteredV1, CaseWithdrawnV1
from shared.events.envelope import Envelope


async def on_cases_registered(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> None:
    rows = []
    for env in envs:
        event = CaseRegisteredV1.model_validate(env.payload)
        rows.append(
            {
                "c": uuid.UUID(event.case_id),
                "s": env.aggregate_seq,
                "m": "registered",
                "st": event.status,
                "msg": event.public_message,
                "at": event.registered_at,
            }
        )
    await repo.record_milestones(db, rows)


async def on_cases_withdrawn(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> None:
    rows = []
    for env in envs:
        event = CaseWithdrawnV1.model_validate(env.payload)
        rows.append(
            {
                "c": uuid.UUID(event.case_id),
                "s": env.aggregate_seq,
                "m": "withdrawn",
                "st": event.status,
                "msg": event.public_message,
                "at": event.withdrawn_at,
            }
        )
    await repo.record_milestones(db, rows)


HANDLERS: dict[str, Handler] = {
    CaseRegisteredV1.type: batch(on_cases_registered),
    CaseWithdrawnV1.type: batch(on_cases_withdrawn),
}
