"""Notify's consumers: one message per (event, recipient, channel)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.message import service, templates
from services.notify.message.service import Sms
from shared.bus import BusContext
from shared.bus.consumer import Handler, batch
from shared.crypto import open_pii
from shared.events.casework import CaseRegisteredV1
from shared.events.envelope import Envelope
from shared.events.intake import OneTimeCodeIssuedV1
from shared.security import keys_for


async def on_cases_registered(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> None:
    """The receipt (回执): tracking number and query code."""
    keys = keys_for(ctx.settings)
    out = []
    for env in envs:
        event = CaseRegisteredV1.model_validate(env.payload)
        if event.pii is None:
            continue
        pii = open_pii(keys.ring, event.pii)
        phone = pii.get("phone")
        if not phone:
            continue  # no phone: the receipt was handed over at the desk
        out.append(
            Sms(
                event_id=env.event_id,
                kind="receipt",
                phone=phone,
                text=service.receipt_text(ctx, pii, event.tracking_no),
                case_id=uuid.UUID(event.case_id),
            )
        )
    await service.queue_sms(db, keys=keys, messages=out)


async def on_otp_issued(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> None:
    keys = keys_for(ctx.settings)
    out = []
    for env in envs:
        event = OneTimeCodeIssuedV1.model_validate(env.payload)
        pii = open_pii(keys.ring, event.pii)
        out.append(
            Sms(
                event_id=env.event_id,
                kind="otp",
                phone=pii["phone"],
                text=templates.otp_sms(code=pii["code"], minutes=5),
                case_id=None,
            )
        )
    await service.queue_sms(db, keys=keys, messages=out)


HANDLERS: dict[str, Handler] = {
    CaseRegisteredV1.type: batch(on_cases_registered),
    OneTimeCodeIssuedV1.type: batch(on_otp_issued),
}
