"""Analytics' consumers: daily volumes by channel, source, category and region."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.bus import BusContext
from shared.clock import SHANGHAI
from shared.events.casework import CaseRegisteredV1
from shared.events.envelope import Envelope
from shared.events.intake import PetitionReceivedV1


async def _count(db: AsyncConnection, day: object, metric: str, dims: dict[str, str | None]) -> None:
    rows = [{"d": day, "m": metric, "dim": k, "v": v or "unknown"} for k, v in dims.items()]
    await db.execute(
        text(
            "INSERT INTO analytics.daily_volume (day, metric, dimension, value, count) "
            "VALUES (:d, :m, :dim, :v, 1) ON CONFLICT (day, metric, dimension, value) "
            "DO UPDATE SET count = daily_volume.count + 1"
        ),
        rows,
    )


async def on_petition_received(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    e = PetitionReceivedV1.model_validate(env.payload)
    day = e.received_at.astimezone(SHANGHAI).date()
    await _count(db, day, "received", {"all": "all", "channel": e.channel, "source": e.source,
                                       "category": e.category_code, "region": e.region_code})


async def on_case_registered(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    e = CaseRegisteredV1.model_validate(env.payload)
    day = e.registered_at.astimezone(SHANGHAI).date()
    await _count(db, day, "registered", {"all": "all", "region": e.region_code})


HANDLERS = {PetitionReceivedV1.type: on_petition_received,
            CaseRegisteredV1.type: on_case_registered}
