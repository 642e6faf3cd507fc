"""Analytics' consumer: every event it subscribes to goes through one batch handler that folds
the batch into the read model (facts, text rows, rollups, daily volumes, call-backs); newly
received petitions then get their routing suggestion and repeat check
(``services/analytics/suggestion``), in the same transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.metric.fold import EVENT_TYPES
from services.analytics.metric.store import LIVE, fold_events
from services.analytics.suggestion.service import on_received
from shared.bus import BusContext
from shared.bus.consumer import Handler, batch
from shared.events.envelope import Envelope
from shared.events.intake import PetitionReceivedV1


async def on_events(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> None:
    await fold_events(db, envs, LIVE)
    await on_received(db, [e for e in envs if e.type == PetitionReceivedV1.type], ctx)


_FOLD = batch(on_events)  # one handler object: a mixed run of events is one batch

HANDLERS: dict[str, Handler] = dict.fromkeys(sorted(EVENT_TYPES), _FOLD)
