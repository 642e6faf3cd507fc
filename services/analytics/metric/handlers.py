"""Analytics' consumer: every event it subscribes to goes through one batch handler that folds
the batch into the read model (facts, text rows, rollups, daily volumes, call-backs)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.metric.fold import EVENT_TYPES
from services.analytics.metric.store import LIVE, fold_events
from shared.bus import BusContext
from shared.bus.consumer import Handler, batch
from shared.events.envelope import Envelope


async def on_events(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> None:
    await fold_events(db, envs, LIVE)


_FOLD = batch(on_events)  # one handler object: a mixed run of events is one batch

HANDLERS: dict[str, Handler] = dict.fromkeys(sorted(EVENT_TYPES), _FOLD)
