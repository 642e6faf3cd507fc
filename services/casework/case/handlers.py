"""Casework's consumers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.case import service
from shared.bus import BusContext
from shared.events.envelope import Envelope
from shared.events.intake import PetitionReceivedV1


async def on_petition_received(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    await service.register(db, received=PetitionReceivedV1.model_validate(env.payload),
                           clock=ctx.clock)


HANDLERS = {PetitionReceivedV1.type: on_petition_received}
