"""Notify's consumers: one message per (event, recipient, channel)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.message import service, templates
from shared.bus import BusContext
from shared.crypto import open_pii
from shared.events.casework import CaseRegisteredV1
from shared.events.envelope import Envelope
from shared.events.intake import OneTimeCodeIssuedV1
from shared.security import keys_for


async def on_case_registered(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    """The receipt (回执): tracking number and query code."""
    event = CaseRegisteredV1.model_validate(env.payload)
    if event.pii is None:
        return
    keys = keys_for(ctx.settings)
    pii = open_pii(keys.ring, event.pii)
    phone = pii.get("phone")
    if not phone:
        return  # anonymous by letter: the receipt was handed over at the desk
    await service.queue_sms(
        db, keys=keys, event_id=env.event_id, kind="receipt", phone=phone,
        text=service.receipt_text(ctx, pii, event.tracking_no), case_id=uuid.UUID(event.case_id),
    )


async def on_otp_issued(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    event = OneTimeCodeIssuedV1.model_validate(env.payload)
    keys = keys_for(ctx.settings)
    pii = open_pii(keys.ring, event.pii)
    await service.queue_sms(
        db, keys=keys, event_id=env.event_id, kind="otp", phone=pii["phone"],
        text=templates.otp_sms(code=pii["code"], minutes=5), case_id=None,
    )


HANDLERS = {CaseRegisteredV1.type: on_case_registered, OneTimeCodeIssuedV1.type: on_otp_issued}
