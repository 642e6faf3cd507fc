"""Intake's consumers: the public tracking view projected from casework's milestones — every
milestone that has something to tell the petitioner, with the deadline then running and, on
an assignment or transfer, the unit the case went to (Open311's ``agency_responsible``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.petition import repository as repo
from shared.bus import BusContext
from shared.bus.consumer import Handler, batch
from shared.events.casework import (
    MILESTONES,
    CaseAssignedV1,
    CaseRegisteredV1,
    CaseWithdrawnV1,
)
from shared.events.envelope import Envelope, EventPayload

# the milestones a petitioner is told about (internal ones carry no public message)
PUBLIC_MILESTONES = [
    m
    for m in MILESTONES
    if m.type
    not in (
        "casework.case.objected",
        "casework.case.contacted",
        "casework.case.deadline_approached",
        "casework.case.deadline_missed",
        "casework.case.supervised",
        "casework.case.leader_assigned",
    )
]


def _row(env: Envelope) -> dict[str, Any] | None:
    event = env.parse()
    if isinstance(event, CaseRegisteredV1):
        at, due = event.registered_at, event.public_due_at
    elif isinstance(event, CaseWithdrawnV1):
        at, due = event.withdrawn_at, None
    else:
        at, due = getattr(event, "occurred_at"), getattr(event, "public_due_at", None)  # noqa: B009
    message = getattr(event, "public_message", None)
    if not message:
        return None
    unit = None
    if isinstance(event, CaseAssignedV1):
        # the unit now handling the case, named as the hotline's callbacks name it (its id
        # when the event carries no name)
        unit = event.lead_unit_name or event.lead_unit_id
    return {
        "c": uuid.UUID(getattr(event, "case_id")),  # noqa: B009
        "s": env.aggregate_seq,
        "m": env.type.rsplit(".", 1)[-1],
        "st": getattr(event, "status"),  # noqa: B009
        "msg": message,
        "at": at,
        "due": due,
        "unit": unit,
    }


async def on_case_milestones(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> None:
    await repo.record_milestones(db, [r for e in envs if (r := _row(e)) is not None])


_PROJECTED: list[type[EventPayload]] = [CaseRegisteredV1, CaseWithdrawnV1, *PUBLIC_MILESTONES]
HANDLERS: dict[str, Handler] = {m.type: batch(on_case_milestones) for m in _PROJECTED}
