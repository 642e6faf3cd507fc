"""Builds each service's arq ``WorkerSettings``: its consumer, its relay, its cron jobs and a
heartbeat that ``/readyz`` checks. Long-lived clients are made once in ``on_startup``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from arq import cron
from arq.connections import RedisSettings, create_pool

from shared import heap
from shared.bus.consumer import BusContext, Consumer, Handler
from shared.bus.relay import Relay, subscribers_of_producer
from shared.bus.topology import queue_name
from shared.db import Database
from shared.db.engine import check_durability
from shared.logging import configure_logging, get_logger
from shared.settings import Settings, get_settings

log = get_logger(__name__)

HEARTBEAT_SECONDS = 5
HEARTBEAT_TTL = 20


def heartbeat_key(service: str) -> str:
    return f"minsheng:heartbeat:{service}"


def job_serializer(obj: Any) -> bytes:
    return orjson.dumps(obj)


def job_deserializer(raw: bytes) -> Any:
    return orjson.loads(raw)


async def open_redis(settings: Settings) -> Any:
    return await create_pool(
        RedisSettings.from_dsn(settings.redis_dsn()),
        job_serializer=job_serializer,
        job_deserializer=job_deserializer,
    )


async def consume_events(ctx: dict[str, Any], producer: str, items: list[dict[str, Any]]) -> int:
    consumer: Consumer = ctx["consumer"]
    return await consumer.consume(ctx.get("job_try", 1), producer, items)


async def replay_dead_letters(ctx: dict[str, Any]) -> int:
    consumer: Consumer = ctx["consumer"]
    return await consumer.replay_dead_letters()


Startup = Callable[[BusContext], Awaitable[None]]


def make_worker_settings(
    service: str,
    handlers: dict[str, Handler],
    *,
    functions: list[Any] | None = None,
    cron_jobs: list[Any] | None = None,
    background: list[Callable[[BusContext], Awaitable[None]]] | None = None,
    startup: Startup | None = None,
    settings: Settings | None = None,
) -> type:
    """``background`` coroutines run for the worker's life (relays, senders); each is
    restarted after a crash so one bad pass does not stop the worker."""
    cfg = settings or get_settings()

    async def on_startup(ctx: dict[str, Any]) -> None:
        configure_logging(f"{service}-worker", cfg.log_level, cfg.log_json)
        cfg.check_for_production()
        db = Database(cfg)
        if cfg.env == "prod":
            async with db.transaction(service) as conn:
                await check_durability(conn)
        bus = BusContext(service=service, settings=cfg, db=db, redis=ctx["redis"])
        if startup is not None:
            await startup(bus)
        ctx["bus"] = bus
        ctx["consumer"] = Consumer(bus, handlers)
        heap.settle()
        tasks: list[asyncio.Task[None]] = []
        if subscribers_of_producer(service):
            relay = Relay(service, db, ctx["redis"], cfg)
            ctx["relay"] = relay
            tasks.append(asyncio.create_task(relay.run(), name=f"relay:{service}"))
        for fn in background or []:
            tasks.append(asyncio.create_task(_forever(fn, bus), name=fn.__name__))
        tasks.append(asyncio.create_task(_heartbeat(bus), name="heartbeat"))
        ctx["tasks"] = tasks
        log.info("worker.started", queue=queue_name(service))

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        relay: Relay | None = ctx.get("relay")
        if relay is not None:
            relay.stop()
        for task in ctx.get("tasks", []):
            task.cancel()
        for task in ctx.get("tasks", []):
            with contextlib.suppress(BaseException):
                await task
        bus: BusContext | None = ctx.get("bus")
        if bus is not None:
            await bus.db.dispose()

    class WorkerSettings:
        pass

    ws: Any = WorkerSettings
    ws.functions = [consume_events, replay_dead_letters, *(functions or [])]
    ws.cron_jobs = [
        cron(
            replay_dead_letters,
            second=set(range(0, 60, 5)),
            run_at_startup=False,
            unique=True,
            timeout=30,
        ),
        *(cron_jobs or []),
    ]
    ws.queue_name = queue_name(service)
    ws.on_startup = on_startup
    ws.on_shutdown = on_shutdown
    ws.redis_settings = RedisSettings.from_dsn(cfg.redis_dsn()) if _has_redis(cfg) else None
    ws.job_serializer = job_serializer
    ws.job_deserializer = job_deserializer
    ws.job_timeout = cfg.bus_job_timeout_seconds
    ws.max_jobs = cfg.worker_max_jobs
    ws.keep_result = 0  # results are not read; the bus tracks delivery in PostgreSQL
    ws.max_tries = 1000  # the bus decides when to give up (dead letter), not arq
    ws.poll_delay = 0.05
    ws.health_check_interval = 10
    ws.handle_signals = True
    return ws


def _has_redis(cfg: Settings) -> bool:
    try:
        cfg.redis_dsn()
    except Exception:
        return False
    return True


async def _forever(fn: Callable[[BusContext], Awaitable[None]], bus: BusContext) -> None:
    delay = 0.2
    while True:
        try:
            await fn(bus)
            delay = 0.2
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("worker.background.failed", task=fn.__name__, error=repr(exc))
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


async def _heartbeat(bus: BusContext) -> None:
    while True:
        with contextlib.suppress(Exception):
            await bus.redis.set(heartbeat_key(bus.service), "1", ex=HEARTBEAT_TTL)
        await asyncio.sleep(HEARTBEAT_SECONDS)
