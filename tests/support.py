"""Test helpers: real servers, real arq workers in-process, the SMS simulator on a real port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from arq.worker import Worker

from shared.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serve_app(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 inside the test's event loop."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def worker_for(service: str, settings: Settings) -> Worker:
    import importlib

    from shared.bus.worker import make_worker_settings

    handlers = importlib.import_module(
        {
            "intake": "services.intake.petition.handlers",
            "casework": "services.casework.case.handlers",
            "notify": "services.notify.message.handlers",
            "analytics": "services.analytics.metric.handlers",
        }[service]
    ).HANDLERS
    background = []
    if service == "notify":
        from services.notify.message.service import run_sender

        background.append(run_sender)
    ws: Any = make_worker_settings(service, handlers, background=background, settings=settings)
    return Worker(
        functions=ws.functions,
        queue_name=ws.queue_name,
        cron_jobs=ws.cron_jobs,
        redis_settings=ws.redis_settings,
        on_startup=ws.on_startup,
        on_shutdown=ws.on_shutdown,
        job_serializer=ws.job_serializer,
        job_deserializer=ws.job_deserializer,
        job_timeout=ws.job_timeout,
        max_jobs=ws.max_jobs,
        keep_result=ws.keep_result,
        max_tries=ws.max_tries,
        poll_delay=ws.poll_delay,
        handle_signals=False,
    )


@contextlib.asynccontextmanager
async def running_workers(settings: Settings, services: list[str]) -> AsyncIterator[list[Worker]]:
    workers = [worker_for(s, settings) for s in services]
    tasks = [asyncio.create_task(w.async_run()) for w in workers]
    await asyncio.sleep(0.3)
    try:
        yield workers
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t
        for w in workers:
            with contextlib.suppress(Exception):
                await w.close()


async def eventually(check: Any, timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll an async predicate until it returns a truthy value; fail with the last value."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last value: {last!r})")
