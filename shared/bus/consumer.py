"""The consuming side: an arq job receives a batch of events for one subscriber.

Each event is recorded in the subscriber's ``inbox`` in the same transaction as the handler's
effect, so a redelivery is a no-op. Only after that transaction commits are the deliveries
acknowledged to the producer's relay. The batch runs in one transaction; if a handler fails,
the batch is re-run with a savepoint per event, so the good events commit and the failing
event (and the later events of its aggregate, to keep their order) wait for a retry through
arq's ``Retry`` with growing delays. After ``bus_max_attempts`` the event goes to the
dead-letter store and is acknowledged, so its aggregate moves on.
"""

from __future__ import annotations

import random
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from arq import Retry
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.bus.topology import ack_key
from shared.clock import Clock, system_clock
from shared.db import Database, transient_db_errors
from shared.events.envelope import Envelope
from shared.logging import get_logger, trace_id_var
from shared.settings import Settings

log = get_logger(__name__)


@dataclass
class BusContext:
    """What handlers get besides their connection."""

    service: str
    settings: Settings
    db: Database
    redis: ArqRedis
    clock: Clock = system_clock
    extras: dict[str, Any] = field(default_factory=dict)


EventHandler = Callable[[AsyncConnection, Envelope, BusContext], Awaitable[None]]
BatchFn = Callable[[AsyncConnection, list[Envelope], BusContext], Awaitable[None]]


@dataclass(frozen=True)
class Batch:
    """A handler that takes consecutive events of its type together (set-based SQL)."""

    fn: BatchFn


def batch(fn: BatchFn) -> Batch:
    return Batch(fn)


Handler = EventHandler | Batch


class _HandlerFailed(Exception):
    pass


def retry_delay(job_try: int) -> float:
    """Exponential backoff with full jitter, capped at 30 s."""
    return random.uniform(0, min(30.0, 0.25 * 2 ** min(job_try, 8)))


class Consumer:
    def __init__(self, ctx: BusContext, handlers: dict[str, Handler]) -> None:
        self.ctx = ctx
        self.name = ctx.service
        self.handlers = handlers

    async def consume(self, job_try: int, producer: str, items: list[dict[str, Any]]) -> int:
        batch = [(int(i["delivery_id"]), Envelope.model_validate(i["event"])) for i in items]
        try:
            try:
                done, waiting = await self._run_batch(batch, savepoints=False)
            except _HandlerFailed:
                done, waiting = await self._run_batch(batch, savepoints=True)
        except Exception as exc:
            if transient_db_errors(exc):
                log.warning("bus.consume.transient", consumer=self.name, error=repr(exc))
                raise Retry(defer=retry_delay(job_try)) from exc
            raise
        if done:
            await self.ctx.redis.rpush(ack_key(producer), *done)  # type: ignore[misc]
        if waiting:
            raise Retry(defer=retry_delay(job_try))
        return len(done)

    async def _run_batch(
        self, batch: list[tuple[int, Envelope]], *, savepoints: bool
    ) -> tuple[list[int], list[int]]:
        done: list[int] = []
        waiting: list[int] = []
        blocked: set[str] = set()
        async with self.ctx.db.transaction(self.name) as db:
            if not savepoints:
                fresh = await self._record_all(db, batch)
                try:
                    await self._handle_all(db, [env for _, env in batch if env.event_id in fresh])
                except Exception as exc:
                    if transient_db_errors(exc):
                        raise
                    raise _HandlerFailed from exc
                return [d for d, _ in batch], []
            for delivery_id, env in batch:
                if env.aggregate_id in blocked:
                    waiting.append(delivery_id)
                    continue
                token = trace_id_var.set(env.trace_id)
                try:
                    try:
                        async with db.begin_nested():
                            await self._apply(db, env)
                        done.append(delivery_id)
                    except Exception as exc:
                        if transient_db_errors(exc):
                            raise
                        if await self._record_failure(db, env, exc):
                            done.append(delivery_id)  # dead-lettered: acknowledged
                        else:
                            blocked.add(env.aggregate_id)
                            waiting.append(delivery_id)
                finally:
                    trace_id_var.reset(token)
        return done, waiting

    async def _record_all(
        self, db: AsyncConnection, batch: list[tuple[int, Envelope]]
    ) -> set[uuid.UUID]:
        """Record the whole batch in the inbox in one statement; returns the events not seen
        before (the others are redeliveries and change nothing)."""
        envs = [env for _, env in batch]
        rows = await db.execute(
            text(
                f"INSERT INTO {self.name}.inbox "  # noqa: S608
                "(event_id, producer, type, aggregate_id, aggregate_seq) "
                "SELECT * FROM unnest(CAST(:e AS uuid[]), CAST(:p AS text[]), "
                "CAST(:t AS text[]), CAST(:a AS text[]), CAST(:s AS int[])) "
                "ON CONFLICT DO NOTHING RETURNING event_id"
            ),
            {
                "e": [e.event_id for e in envs],
                "p": [e.producer for e in envs],
                "t": [e.type for e in envs],
                "a": [e.aggregate_id for e in envs],
                "s": [e.aggregate_seq for e in envs],
            },
        )
        return {r[0] for r in rows}

    async def _handle(self, db: AsyncConnection, env: Envelope) -> None:
        await self._handle_all(db, [env])

    async def _handle_all(self, db: AsyncConnection, envs: list[Envelope]) -> None:
        """Run handlers in order; consecutive events with the same batch handler go together."""
        i = 0
        while i < len(envs):
            handler = self.handlers.get(envs[i].type)
            j = i + 1
            if isinstance(handler, Batch):
                while j < len(envs) and self.handlers.get(envs[j].type) is handler:
                    j += 1
                token = trace_id_var.set(envs[i].trace_id)
                try:
                    await handler.fn(db, envs[i:j], self.ctx)
                finally:
                    trace_id_var.reset(token)
            elif handler is not None:
                token = trace_id_var.set(envs[i].trace_id)
                try:
                    await handler(db, envs[i], self.ctx)
                finally:
                    trace_id_var.reset(token)
            i = j

    async def _apply(self, db: AsyncConnection, env: Envelope) -> None:
        first = await db.scalar(
            text(
                f"INSERT INTO {self.name}.inbox "  # noqa: S608
                "(event_id, producer, type, aggregate_id, aggregate_seq) "
                "VALUES (:e, :p, :t, :a, :s) ON CONFLICT DO NOTHING RETURNING 1"
            ),
            {
                "e": env.event_id,
                "p": env.producer,
                "t": env.type,
                "a": env.aggregate_id,
                "s": env.aggregate_seq,
            },
        )
        if first is None:
            return  # already recorded: a redelivery changes nothing
        await self._handle(db, env)

    async def _record_failure(self, db: AsyncConnection, env: Envelope, exc: Exception) -> bool:
        """Count the failure; at the limit, dead-letter the event. True when dead-lettered."""
        error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        attempts = await db.scalar(
            text(
                f"INSERT INTO {self.name}.bus_failure (event_id, attempts, last_error) "  # noqa: S608
                "VALUES (:e, 1, :err) ON CONFLICT (event_id) DO UPDATE "
                "SET attempts = bus_failure.attempts + 1, last_error = :err, updated_at = now() "
                "RETURNING attempts"
            ),
            {"e": env.event_id, "err": error},
        )
        log.warning(
            "bus.handler.failed",
            consumer=self.name,
            event_type=env.type,
            event_id=str(env.event_id),
            attempts=attempts,
            error=error,
        )
        if int(attempts or 0) < self.ctx.settings.bus_max_attempts:
            return False
        await db.execute(
            text(
                f"INSERT INTO {self.name}.dead_letter "  # noqa: S608
                "(kind, ref, target, payload, error, attempts) "
                "VALUES ('event', :ref, :target, CAST(:payload AS jsonb), :err, :n)"
            ),
            {
                "ref": str(env.event_id),
                "target": self.name,
                "payload": orjson.dumps(env.model_dump(mode="json")).decode(),
                "err": error,
                "n": attempts,
            },
        )
        await db.execute(
            text(
                f"INSERT INTO {self.name}.inbox "  # noqa: S608
                "(event_id, producer, type, aggregate_id, aggregate_seq, outcome) "
                "VALUES (:e, :p, :t, :a, :s, 'dead') ON CONFLICT DO NOTHING"
            ),
            {
                "e": env.event_id,
                "p": env.producer,
                "t": env.type,
                "a": env.aggregate_id,
                "s": env.aggregate_seq,
            },
        )
        return True

    async def replay_dead_letters(self) -> int:
        """Run the events an operator asked to replay (``minsheng deliveries replay``)."""
        s = self.name
        replayed = 0
        async with self.ctx.db.transaction(s) as db:
            rows = (
                await db.execute(
                    text(
                        f"SELECT id, payload FROM {s}.dead_letter "  # noqa: S608
                        "WHERE kind = 'event' AND state = 'replay_requested' "
                        "ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED"
                    )
                )
            ).all()
            for row in rows:
                env = Envelope.model_validate(row.payload)
                await db.execute(
                    text(f"DELETE FROM {s}.inbox WHERE event_id = :e AND outcome = 'dead'"),  # noqa: S608
                    {"e": env.event_id},
                )
                await db.execute(
                    text(f"DELETE FROM {s}.bus_failure WHERE event_id = :e"),  # noqa: S608
                    {"e": env.event_id},
                )
                try:
                    async with db.begin_nested():
                        await self._apply(db, env)
                    state = "replayed"
                    replayed += 1
                except Exception as exc:
                    if transient_db_errors(exc):
                        raise
                    log.warning(
                        "bus.replay.failed", consumer=s, event_id=str(env.event_id), error=repr(exc)
                    )
                    state = "failed"
                await db.execute(
                    text(
                        f"UPDATE {s}.dead_letter SET state = :st, replayed_at = now() "  # noqa: S608
                        "WHERE id = :id"
                    ),
                    {"st": state, "id": row.id},
                )
        return replayed
