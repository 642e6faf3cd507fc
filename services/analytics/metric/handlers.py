"""Analytics' consumer: every event it subscribes to goes through one batch handler. Newly
received petitions first get their routing suggestion and repeat check
(``services/analytics/suggestion``, stored in ``case_repeat``); then the batch is folded into
the read model (facts, text rows, rollups, daily volumes, call-backs, unit names) together with
the repeat check's answer for every case whose ``case_repeat`` row changed — all in one
transaction, so a detected repeat is in the figures as soon as the check is stored."""

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
    checked = await on_received(db, [e for e in envs if e.type == PetitionReceivedV1.type], ctx)
    await fold_events(db, envs, LIVE, repeat_ids=checked)


_FOLD = batch(on_events)  # one handler object: a mixed run of events is one batch

HANDLERS: dict[str, Handler] = dict.fromkeys(sorted(EVENT_TYPES), _FOLD)
