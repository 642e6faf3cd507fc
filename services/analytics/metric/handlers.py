"""Analytics' consumers: daily volumes by channel, source, category and region."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.bus import BusContext
from shared.bus.consumer import Handler, batch
from shared.clock import SHANGHAI
from shared.events.casework import CaseRegisteredV1
from shared.events.envelope import Envelope
from shared.events.intake import HotlineEvaluationReceivedV1, PetitionReceivedV1

Key = tuple[date, str, str, str]


async def _add(db: AsyncConnection, counts: Counter[Key]) -> None:
    keys = sorted(counts)  # one row per key per statement; sorted to avoid deadlocks
    await db.execute(
        text(
            "INSERT INTO analytics.daily_volume (day, metric, dimension, value, count) "
            "SELECT * FROM unnest(CAST(:d AS date[]), CAST(:m AS text[]), CAST(:dim AS text[]), "
            "CAST(:v AS text[]), CAST(:n AS bigint[])) "
            "ON CONFLICT (day, metric, dimension, value) "
            "DO UPDATE SET count = daily_volume.count + EXCLUDED.count"
        ),
        {
            "d": [k[0] for k in keys],
            "m": [k[1] for k in keys],
            "dim": [k[2] for k in keys],
            "v": [k[3] for k in keys],
            "n": [counts[k] for k in keys],
        },
    )


async def on_petitions_received(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> None:
    counts: Counter[Key] = Counter()
    for env in envs:
        e = PetitionReceivedV1.model_validate(env.payload)
        day = e.received_at.astimezone(SHANGHAI).date()
        for dim, value in (
            ("all", "all"),
            ("channel", e.channel),
            ("source", e.source),
            ("category", e.category_code),
            ("region", e.region_code),
        ):
            counts[(day, "received", dim, value or "unknown")] += 1
    await _add(db, counts)


async def on_cases_registered(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> None:
    counts: Counter[Key] = Counter()
    for env in envs:
        e = CaseRegisteredV1.model_validate(env.payload)
        day = e.registered_at.astimezone(SHANGHAI).date()
        counts[(day, "registered", "all", "all")] += 1
        counts[(day, "registered", "region", e.region_code)] += 1
    await _add(db, counts)


async def on_hotline_evaluations(
    db: AsyncConnection, envs: list[Envelope], ctx: BusContext
) -> None:
    events = [HotlineEvaluationReceivedV1.model_validate(e.payload) for e in envs]
    await db.execute(
        text(
            "INSERT INTO analytics.hotline_callback (case_id, visited_at, day, contacted, solved, "
            "rating) SELECT * FROM unnest(CAST(:c AS text[]), CAST(:v AS timestamptz[]), "
            "CAST(:d AS date[]), CAST(:contacted AS boolean[]), CAST(:solved AS boolean[]), "
            "CAST(:rating AS text[])) ON CONFLICT DO NOTHING"
        ),
        {
            "c": [e.case_id for e in events],
            "v": [e.visited_at for e in events],
            "d": [e.visited_at.astimezone(SHANGHAI).date() for e in events],
            "contacted": [e.contacted for e in events],
            "solved": [e.solved for e in events],
            "rating": [e.rating for e in events],
        },
    )


HANDLERS: dict[str, Handler] = {
    HotlineEvaluationReceivedV1.type: batch(on_hotline_evaluations),
    PetitionReceivedV1.type: batch(on_petitions_received),
    CaseRegisteredV1.type: batch(on_cases_registered),
}
