"""Casework's consumers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.case import service
from services.casework.org import directory
from shared.bus import BusContext
from shared.bus.consumer import Handler, batch
from shared.events.analytics import RepeatSuggestedV1, RoutingSuggestedV1
from shared.events.envelope import Envelope
from shared.events.intake import (
    PetitionAmendedV1,
    PetitionReceivedV1,
    PetitionSupplementedV1,
    PetitionWithdrawnV1,
)
from shared.events.notify import EvaluationRecordedV1


async def on_petitions_received(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> None:
    await service.register(
        db,
        received=[PetitionReceivedV1.model_validate(e.payload) for e in envs],
        clock=ctx.clock,
        org=await directory(ctx.db),
    )


async def on_petition_amended(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    await service.amend(db, amended=PetitionAmendedV1.model_validate(env.payload), clock=ctx.clock)


async def on_petition_withdrawn(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    await service.withdraw(
        db, withdrawn=PetitionWithdrawnV1.model_validate(env.payload), clock=ctx.clock
    )


async def on_petition_supplemented(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    await service.record_supplement(
        db, supplemented=PetitionSupplementedV1.model_validate(env.payload), clock=ctx.clock
    )


async def on_evaluation_recorded(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    await service.record_evaluation(
        db, evaluated=EvaluationRecordedV1.model_validate(env.payload), clock=ctx.clock
    )


async def on_routing_suggested(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    e = RoutingSuggestedV1.model_validate(env.payload)
    await service.record_analytics_suggestion(
        db,
        case_id=e.case_id,
        key=None,
        values={
            "label": e.label,
            "category_code": e.category_code,
            "confidence": e.confidence,
            "model_version": e.model_version,
            "at": e.suggested_at.isoformat(),
        },
    )


async def on_repeat_suggested(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    e = RepeatSuggestedV1.model_validate(env.payload)
    await service.record_analytics_suggestion(
        db,
        case_id=e.case_id,
        key="repeats",
        values={
            "first_petition": e.first_petition,
            "earlier_repeats": e.earlier_repeats,
            "links": [link.model_dump() for link in e.links],
            "at": e.checked_at.isoformat(),
        },
    )


HANDLERS: dict[str, Handler] = {
    RoutingSuggestedV1.type: on_routing_suggested,
    RepeatSuggestedV1.type: on_repeat_suggested,
    EvaluationRecordedV1.type: on_evaluation_recorded,
    PetitionSupplementedV1.type: on_petition_supplemented,
    PetitionReceivedV1.type: batch(on_petitions_received),
    PetitionAmendedV1.type: on_petition_amended,
    PetitionWithdrawnV1.type: on_petition_withdrawn,
}
