"""The relay: moves a producer's outbox deliveries to each subscriber's arq queue.

One relay per producer is active at a time (a PostgreSQL advisory lock held on its LISTEN
connection; other worker processes stand by). It wakes on ``NOTIFY`` from ``publish``, on an
acknowledgement arriving, or on a timer, and:

1. applies acknowledgements consumers pushed to Redis (``ack_key``);
2. claims, per subscriber, the deliveries that are unacknowledged and not under a live lease,
   keeping *head of line per aggregate*: nothing is sent for an aggregate while one of its
   deliveries to that subscriber is in flight (a later one is never in flight before an
   earlier one, so this means "while an earlier one is in flight"), checked as one anti-join
   against the in-flight set, so the plan does not depend on the table's statistics;
3. leases them (``bus_lease_seconds``) and enqueues one arq job per batch, its id fixed at claim
   time from the consumer, the first delivery and the dispatch count.

A delivery whose lease runs out unacknowledged (worker killed, job lost in a Redis flush or
restart, acknowledgement lost) is claimed and sent again; consumers are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import asyncpg
from arq.connections import ArqRedis
from sqlalchemy import text

from shared.bus.topology import SUBSCRIPTIONS, ack_key, notify_channel, queue_name
from shared.db import Database
from shared.logging import get_logger
from shared.settings import Settings, to_plain_url

log = get_logger(__name__)

ACK_DRAIN = 5000
MAX_BATCHES_PER_PASS = 25


def subscribers_of_producer(producer: str) -> list[str]:
    prefix = producer + "."
    return sorted(
        c for c, types in SUBSCRIPTIONS.items() if any(t.startswith(prefix) for t in types)
    )


class Relay:
    def __init__(self, producer: str, db: Database, redis: ArqRedis, settings: Settings) -> None:
        self.producer = producer
        self.db = db
        self.redis = redis
        self.settings = settings
        self.consumers = subscribers_of_producer(producer)
        self._wake = asyncio.Event()
        self._stopping = False
        self.in_flight = 0
        # Flow control: what this relay has leased and not yet seen acknowledged, per
        # subscriber (delivery id -> lease end). Leasing more than consumers can finish within
        # the lease only makes leases expire and work repeat.
        self._outstanding: dict[str, dict[int, float]] = {c: {} for c in self.consumers}

    async def run(self) -> None:
        delay = 0.2
        while not self._stopping:
            try:
                await self._lead()
                delay = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database or Redis gone: wait and take over again
                log.warning("relay.interrupted", producer=self.producer, error=repr(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _lead(self) -> None:
        url = to_plain_url(self.settings.database_url_for(self.producer))
        conn: asyncpg.Connection = await asyncpg.connect(url, timeout=10)
        ack_task: asyncio.Task[None] | None = None
        try:
            got = await conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                f"minsheng.relay.{self.producer}",
            )
            if not got:
                await conn.close()
                await asyncio.sleep(2.0)  # another process relays; stand by
                return
            await conn.add_listener(notify_channel(self.producer), self._on_notify)
            ack_task = asyncio.create_task(self._watch_acks())
            log.info("relay.leading", producer=self.producer)
            while not self._stopping:
                if conn.is_closed():
                    raise ConnectionError("relay connection closed")
                await self.pass_once()
                if ack_task.done():
                    ack_task.result()
                # A short window lets events gather into batches: one job per batch, not per
                # event. While work is in flight, look again soon (expired leases, acks).
                await asyncio.sleep(self.settings.bus_dispatch_window_seconds)
                timeout = 0.05 if self.in_flight else self.settings.bus_poll_seconds
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                self._wake.clear()
        finally:
            if ack_task is not None:
                ack_task.cancel()
                with contextlib.suppress(BaseException):
                    await ack_task
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    async def _watch_acks(self) -> None:
        """Wake the loop as soon as a consumer acknowledges (BLPOP), leaving the item in place
        for the drain to pick up."""
        key = ack_key(self.producer)
        while True:
            item = await self.redis.blpop([key], timeout=1)  # type: ignore[misc]
            if item is not None:
                await self.redis.rpush(key, item[1])  # type: ignore[misc]
                self._wake.set()
                await asyncio.sleep(0.005)

    async def pass_once(self) -> int:
        """Apply acknowledgements, then dispatch what is due. Returns deliveries dispatched."""
        acked = await self._apply_acks()
        sent = 0
        now = time.monotonic()
        for consumer in self.consumers:
            outstanding = self._outstanding[consumer]
            for delivery_id in [d for d, until in outstanding.items() if until < now]:
                del outstanding[delivery_id]
            for _ in range(MAX_BATCHES_PER_PASS):
                room = self.settings.bus_max_in_flight - len(outstanding)
                if room <= 0:
                    break
                n = await self._dispatch(consumer, min(room, self.settings.bus_batch_size))
                sent += n
                if n < self.settings.bus_batch_size:
                    break
        self.in_flight = sent + acked
        return sent

    async def _apply_acks(self) -> int:
        key = ack_key(self.producer)
        raw = await self.redis.lpop(key, ACK_DRAIN)  # type: ignore[misc]
        if not raw:
            return 0
        ids = sorted({int(x) for x in raw})
        for outstanding in self._outstanding.values():
            for delivery_id in ids:
                outstanding.pop(delivery_id, None)
        s = self.producer
        async with self.db.transaction(s) as db:
            await db.execute(
                text(
                    f"UPDATE {s}.outbox_delivery SET acked_at = now() "  # noqa: S608
                    "WHERE delivery_id = ANY(:ids) AND acked_at IS NULL"
                ),
                {"ids": ids},
            )
        return len(ids)

    async def _dispatch(self, consumer: str, limit: int) -> int:
        s = self.producer
        async with self.db.transaction(s) as db:
            rows = (
                await db.execute(
                    text(
                        f"""
                        WITH inflight AS (
                            SELECT DISTINCT aggregate_id FROM {s}.outbox_delivery
                            WHERE consumer = :c AND acked_at IS NULL AND leased_until >= now()
                        ), cand AS (
                            SELECT d.delivery_id, d.aggregate_id
                            FROM {s}.outbox_delivery d
                            WHERE d.consumer = :c AND d.acked_at IS NULL
                              AND (d.leased_until IS NULL OR d.leased_until < now())
                            ORDER BY d.delivery_id
                            LIMIT :n
                            FOR UPDATE SKIP LOCKED
                        ), ok AS (
                            -- head of line: nothing for an aggregate with a delivery in flight
                            SELECT cand.delivery_id FROM cand
                            LEFT JOIN inflight USING (aggregate_id)
                            WHERE inflight.aggregate_id IS NULL
                        ), upd AS (
                            UPDATE {s}.outbox_delivery d
                            SET leased_until = now() + make_interval(secs => :lease),
                                dispatch_count = d.dispatch_count + 1
                            FROM ok WHERE d.delivery_id = ok.delivery_id
                            RETURNING d.delivery_id, d.position, d.dispatch_count
                        )
                        SELECT upd.delivery_id, upd.dispatch_count, e.event_id, e.type,
                               e.version, e.occurred_at, e.trace_id, e.aggregate_id,
                               e.aggregate_seq, e.payload
                        FROM upd JOIN {s}.outbox_event e ON e.position = upd.position
                        ORDER BY upd.delivery_id
                        """  # noqa: S608
                    ),
                    {
                        "c": consumer,
                        "n": limit,
                        "lease": self.settings.bus_lease_seconds,
                    },
                )
            ).all()
        if not rows:
            return 0
        items = [
            {
                "delivery_id": r.delivery_id,
                "event": {
                    "event_id": str(r.event_id),
                    "type": r.type,
                    "version": r.version,
                    "occurred_at": r.occurred_at.isoformat(),
                    "producer": s,
                    "trace_id": r.trace_id,
                    "aggregate_id": r.aggregate_id,
                    "aggregate_seq": r.aggregate_seq,
                    "payload": r.payload,
                },
            }
            for r in rows
        ]
        until = time.monotonic() + self.settings.bus_lease_seconds
        self._outstanding[consumer].update((r.delivery_id, until) for r in rows)
        first = rows[0]
        job_id = f"{s}>{consumer}:{first.delivery_id}:{first.dispatch_count}:{len(rows)}"
        # If this fails (Redis down) the lease runs out and the batch is claimed again.
        await self.redis.enqueue_job(
            "consume_events", s, items, _job_id=job_id, _queue_name=queue_name(consumer)
        )
        return len(rows)
