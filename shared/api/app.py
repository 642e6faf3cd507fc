"""The app factory every service uses: error handlers, trace ids, a structured access log
without query strings (the tracking view's code must never reach a log), Prometheus metrics,
``/healthz`` and ``/readyz``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import heap
from shared.api.docs import install_docs
from shared.api.errors import install_error_handlers
from shared.api.openapi import install_openapi
from shared.bus.topology import SUBSCRIPTIONS, queue_name
from shared.bus.worker import heartbeat_key, open_redis
from shared.clock import system_clock
from shared.db import Database
from shared.db.engine import check_durability
from shared.db.migrate import SCHEMAS
from shared.logging import configure_logging, get_logger, new_trace_id, trace_id_var
from shared.settings import Settings, get_settings

log = get_logger(__name__)

REQUESTS = Counter("minsheng_http_requests_total", "HTTP requests", ["service", "method", "status"])
LATENCY = Histogram(
    "minsheng_http_request_seconds",
    "HTTP request latency",
    ["service", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BACKLOG = Gauge("minsheng_bus_backlog", "Unacknowledged deliveries", ["producer", "consumer"])
QUEUE_DEPTH = Gauge("minsheng_queue_depth", "Jobs waiting in an arq queue", ["queue"])
FAILURES = Gauge("minsheng_handler_failures", "Events whose handler is failing", ["consumer"])
DEAD = Gauge("minsheng_dead_letters", "Dead letters not yet replayed", ["service"])

Extra = Callable[[FastAPI], Awaitable[None]]


def create_service_app(
    service: str,
    routers: list[APIRouter],
    *,
    settings: Settings | None = None,
    title: str | None = None,
    description: str = "",
    on_startup: Extra | None = None,
    on_shutdown: Extra | None = None,
    generic_plans: bool = False,
) -> FastAPI:
    """One service's API. ``generic_plans``: see ``Database``."""
    cfg = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service, cfg.log_level, cfg.log_json)
        cfg.check_for_production()
        app.state.db = Database(cfg, generic_plans=generic_plans)
        if cfg.env == "prod":
            async with app.state.db.transaction(service) as conn:
                await check_durability(conn)
        app.state.redis = await open_redis(cfg)
        if on_startup is not None:
            await on_startup(app)
        heap.settle()
        try:
            yield
        finally:
            if on_shutdown is not None:
                await on_shutdown(app)
            await app.state.redis.aclose()
            await app.state.db.dispose()

    app = FastAPI(
        title=title or f"Minsheng {service}",
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app, title=title or f"Minsheng {service}")
    install_openapi(app)
    app.state.settings = cfg
    app.state.service = service
    app.state.clock = system_clock
    install_error_handlers(app)

    app.add_middleware(ObserveMiddleware, service=service)

    for router in routers:
        app.include_router(router)
    app.include_router(health_router(service))
    return app


class ObserveMiddleware:
    """Trace id, request metrics and the access log, as plain ASGI (no per-request task group
    or body streaming as with ``BaseHTTPMiddleware``). Logs the path only: query strings can
    carry query codes and one-time codes."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-trace-id"), b"")
        trace = given.decode("latin-1")[:64] if given.isascii() and given else new_trace_id()
        token = trace_id_var.set(trace)
        started = time.perf_counter()
        status = 500

        async def send_with_trace(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-trace-id", trace.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        finally:
            elapsed = time.perf_counter() - started
            method = scope.get("method", "")
            REQUESTS.labels(self.service, method, str(status)).inc()
            LATENCY.labels(self.service, method).observe(elapsed)
            log.info(
                "http.request",
                method=method,
                path=scope.get("path", ""),
                status=status,
                ms=round(elapsed * 1000, 1),
            )
            trace_id_var.reset(token)


def health_router(service: str) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get("/readyz", summary="Schema migrated, Redis reachable, worker heartbeat fresh")
    async def readyz(request: Request) -> Response:
        checks = await readiness(request.app, service)
        ok = all(c["ok"] for c in checks.values())
        return JSONResponse(
            {"ready": ok, "service": service, "checks": checks}, status_code=200 if ok else 503
        )

    @router.get("/metrics", summary="Prometheus metrics")
    async def metrics(request: Request) -> Response:
        await refresh_bus_gauges(request.app, service)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


_HEADS: dict[str, str | None] = {}


def expected_head(schema: str, settings: Settings) -> str | None:
    if schema not in _HEADS:
        from alembic.script import ScriptDirectory

        from shared.db.migrate import alembic_config

        _HEADS[schema] = ScriptDirectory.from_config(
            alembic_config(schema, settings)
        ).get_current_head()
    return _HEADS[schema]


async def readiness(app: FastAPI, service: str) -> dict[str, dict[str, Any]]:
    db: Database = app.state.db
    settings: Settings = app.state.settings
    checks: dict[str, dict[str, Any]] = {}
    schemas = [service] + (["identity"] if service == "intake" else [])
    for schema in schemas:
        try:
            async with db.transaction(schema) as conn:
                current = await conn.scalar(
                    text(f'SELECT version_num FROM "{schema}".alembic_version')  # noqa: S608
                )
            head = expected_head(schema, settings)
            checks[f"schema:{schema}"] = {"ok": current == head, "current": current, "head": head}
        except Exception as exc:
            checks[f"schema:{schema}"] = {"ok": False, "error": type(exc).__name__}
    try:
        await app.state.redis.ping()
        checks["redis"] = {"ok": True}
        beat = await app.state.redis.exists(heartbeat_key(service))
        checks["worker"] = {"ok": bool(beat)}
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
        checks["worker"] = {"ok": False, "error": "redis unreachable"}
    return checks


async def refresh_bus_gauges(app: FastAPI, service: str) -> None:
    db: Database = app.state.db
    try:
        async with db.transaction(service) as conn:
            rows = (
                await conn.execute(
                    text(
                        f"SELECT consumer, count(*) FROM {service}.outbox_delivery "  # noqa: S608
                        "WHERE acked_at IS NULL GROUP BY consumer"
                    )
                )
            ).all()
            for consumer in SUBSCRIPTIONS:
                BACKLOG.labels(service, consumer).set(0)
            for consumer, n in rows:
                BACKLOG.labels(service, consumer).set(n)
            failing = await conn.scalar(text(f"SELECT count(*) FROM {service}.bus_failure"))  # noqa: S608
            FAILURES.labels(service).set(failing or 0)
            dead = await conn.scalar(
                text(f"SELECT count(*) FROM {service}.dead_letter WHERE state <> 'replayed'")  # noqa: S608
            )
            DEAD.labels(service).set(dead or 0)
        depth = await app.state.redis.zcard(queue_name(service))
        QUEUE_DEPTH.labels(queue_name(service)).set(depth)
    except Exception as exc:  # metrics must not fail the scrape
        log.warning("metrics.refresh_failed", error=repr(exc))


__all__ = ["SCHEMAS", "create_service_app"]
