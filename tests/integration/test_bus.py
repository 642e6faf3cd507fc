"""The bus's own guarantees, against real PostgreSQL and Redis: head-of-line order per
aggregate, acknowledgement only after recording, dead letters and their replay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from arq import Retry
from arq.connections import ArqRedis
from sqlalchemy import text

from shared.bus import publish
from shared.bus.consumer import BusContext, Consumer
from shared.bus.relay import Relay
from shared.bus.topology import ack_key
from shared.bus.worker import open_redis
from shared.db import Database
from shared.events.envelope import Envelope
from shared.events.intake import PetitionReceivedV1
from shared.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")


def received(case_id: str, n: int = 0) -> PetitionReceivedV1:
    return PetitionReceivedV1(
        case_id=case_id,
        tracking_no=f"MS26112400{n:06d}",
        source="citizen",
        channel="web",
        title=f"标题{n}",
        content="内容",
        region_code="440306",
        received_at=datetime(2026, 11, 24, tzinfo=UTC),
    )


async def publish_one(db: Database, case_id: str, n: int = 0) -> Envelope:
    async with db.transaction("intake") as conn:
        return await publish(
            conn, producer="intake", event=received(case_id, n), aggregate_id=case_id
        )


async def leased_ids(db: Database, consumer: str) -> list[int]:
    async with db.transaction("intake") as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT d.delivery_id FROM intake.outbox_delivery d WHERE consumer = :c "
                    "AND leased_until IS NOT NULL AND acked_at IS NULL ORDER BY delivery_id"
                ),
                {"c": consumer},
            )
        ).all()
    return [r[0] for r in rows]


async def test_aggregate_seq_and_one_delivery_per_subscriber(db: Database, clean: None) -> None:
    case = str(uuid.uuid4())
    envs = [await publish_one(db, case, i) for i in range(3)]
    assert [e.aggregate_seq for e in envs] == [1, 2, 3]
    async with db.transaction("intake") as conn:
        consumers = (
            await conn.execute(
                text(
                    "SELECT consumer, count(*) FROM intake.outbox_delivery GROUP BY consumer ORDER BY 1"
                )
            )
        ).all()
    assert [tuple(r) for r in consumers] == [("analytics", 3), ("casework", 3)]


async def test_relay_holds_back_later_events_of_an_aggregate_in_flight(
    db: Database, settings: Settings, clean: None
) -> None:
    redis: ArqRedis = await open_redis(settings)
    relay = Relay("intake", db, redis, settings.model_copy(update={"bus_lease_seconds": 60.0}))
    case_a, case_b = str(uuid.uuid4()), str(uuid.uuid4())
    await publish_one(db, case_a, 1)
    await publish_one(db, case_a, 2)
    await relay.pass_once()
    first = await leased_ids(db, "casework")
    assert len(first) == 2  # both in one batch: processed in order by one job
    await publish_one(db, case_a, 3)  # must wait behind the in-flight ones
    await publish_one(db, case_b, 1)  # another aggregate is not held back
    await relay.pass_once()
    second = await leased_ids(db, "casework")
    assert len(second) == 3
    async with db.transaction("intake") as conn:
        held = await conn.scalar(
            text(
                "SELECT count(*) FROM intake.outbox_delivery WHERE consumer='casework' "
                "AND aggregate_id = :a AND leased_until IS NULL"
            ),
            {"a": case_a},
        )
    assert held == 1
    # acknowledging the first two releases the third
    await redis.rpush(ack_key("intake"), *first)
    await relay.pass_once()
    async with db.transaction("intake") as conn:
        acked = await conn.scalar(
            text(
                "SELECT count(*) FROM intake.outbox_delivery WHERE consumer='casework' AND acked_at IS NOT NULL"
            )
        )
        still_held = await conn.scalar(
            text(
                "SELECT count(*) FROM intake.outbox_delivery WHERE consumer='casework' AND leased_until IS NULL"
            )
        )
    assert acked == 2 and still_held == 0
    await redis.aclose()


async def test_failing_handler_goes_to_dead_letter_and_replays(
    db: Database, settings: Settings, clean: None
) -> None:
    redis: ArqRedis = await open_redis(settings)
    cfg = settings.model_copy(update={"bus_max_attempts": 3})
    calls: list[str] = []
    broken = True

    async def handler(conn: Any, env: Envelope, ctx: BusContext) -> None:
        calls.append(env.payload["title"])
        if broken and env.payload["title"] == "标题1":
            raise ValueError("cannot handle this one")
        await conn.execute(
            text(
                "INSERT INTO casework.case_history (case_id, occurred_at, action, actor) "
                "VALUES (:c, now(), 'test', 'test')"
            ),
            {"c": uuid.UUID(env.aggregate_id)},
        )

    consumer = Consumer(
        BusContext(service="casework", settings=cfg, db=db, redis=redis),
        {"intake.petition.received": handler},
    )
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    envs = [await publish_one(db, a, 1), await publish_one(db, a, 2), await publish_one(db, b, 3)]
    items = [{"delivery_id": i + 1, "event": e.model_dump(mode="json")} for i, e in enumerate(envs)]
    for attempt in (1, 2):
        with pytest.raises(Retry):
            await consumer.consume(attempt, "intake", items)
    # the good event of the other aggregate committed once; the one behind the failure waits
    async with db.transaction("casework") as conn:
        done = await conn.scalar(text("SELECT count(*) FROM casework.case_history"))
    assert done == 1
    assert await consumer.consume(3, "intake", items) == 3  # third failure: dead-lettered, moves on
    async with db.transaction("casework") as conn:
        dead = (await conn.execute(text("SELECT id, ref, state FROM casework.dead_letter"))).all()
        done = await conn.scalar(text("SELECT count(*) FROM casework.case_history"))
    assert [r.ref for r in dead] == [str(envs[0].event_id)] and done == 2
    acks = [int(x) for x in await redis.lrange(ack_key("intake"), 0, -1)]
    assert sorted(set(acks)) == [1, 2, 3]
    # repeated deliveries after that change nothing
    assert await consumer.consume(4, "intake", items) == 3
    async with db.transaction("casework") as conn:
        assert await conn.scalar(text("SELECT count(*) FROM casework.case_history")) == 2
    # the operator replays once the bug is fixed
    broken = False
    from minsheng.deliveries import replay

    assert await replay(cfg, [f"casework:{dead[0].id}"]) == 0
    assert await consumer.replay_dead_letters() == 1
    async with db.transaction("casework") as conn:
        assert await conn.scalar(text("SELECT count(*) FROM casework.case_history")) == 3
        assert await conn.scalar(text("SELECT state FROM casework.dead_letter")) == "replayed"
    await redis.aclose()
