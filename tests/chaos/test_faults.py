"""Fault tests (issue: foundation §9): during a load of 1,000 petitions we (a) kill -9 workers
repeatedly, (b) FLUSHALL Redis, (c) restart Redis, (d) restart PostgreSQL. Afterwards every
acknowledged petition has exactly one case and exactly one receipt — counted, not sampled:
in PostgreSQL and in the SMS gateway simulator's own record."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.chaos, pytest.mark.asyncio(loop_scope="module")]

N = 1000
CONCURRENCY = 16
TRACKING = re.compile(r"编号(MS\w+)，")


async def submit_all(base_url: str, tag: str, n: int = N) -> list[dict[str, Any]]:
    """Submit n petitions, retrying each (same Idempotency-Key) until it is acknowledged."""
    acked: list[dict[str, Any]] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    deadline = time.monotonic() + 75

    async def client_loop(client: httpx.AsyncClient) -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            key = f"{tag}-{i}-{uuid.uuid4().hex[:8]}"
            body = {
                "title": f"{tag} 第{i}号诉求",
                "content": f"混沌测试 {tag} 诉求内容 {i}",
                "region_code": "440306",
                "phone": f"139{i:08d}",
            }
            while True:
                assert time.monotonic() < deadline, "load did not finish in time"
                try:
                    r = await client.post(
                        "/api/v1/petitions", json=body, headers={"Idempotency-Key": key}
                    )
                    if r.status_code == 201:
                        acked.append(r.json())
                        break
                    assert r.status_code in (409, 500, 502, 503), r.text
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)

    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(CONCURRENCY)))
    return acked


async def verify_exactly_once(system: LiveSystem, tag: str, acked: list[dict[str, Any]]) -> None:
    ids = [uuid.UUID(a["case_id"]) for a in acked]
    tracking = {a["tracking_no"] for a in acked}
    assert len(ids) == N and len(set(ids)) == N and len(tracking) == N

    async def counts() -> dict[str, int]:
        conn = await asyncpg.connect(system.pg.url())
        try:
            return {
                "petitions": await conn.fetchval(
                    "SELECT count(*) FROM intake.petition WHERE title LIKE $1", f"{tag} %"
                ),
                "cases": await conn.fetchval(
                    "SELECT count(*) FROM casework.case WHERE case_id = ANY($1)", ids
                ),
                "receipts": await conn.fetchval(
                    "SELECT count(*) FROM notify.message WHERE kind = 'receipt' AND case_id = ANY($1)",
                    ids,
                ),
                "receipt_cases": await conn.fetchval(
                    "SELECT count(DISTINCT case_id) FROM notify.message WHERE kind = 'receipt' "
                    "AND case_id = ANY($1)",
                    ids,
                ),
                "sent": await conn.fetchval(
                    "SELECT count(*) FROM notify.message WHERE kind = 'receipt' AND status = 'sent' "
                    "AND case_id = ANY($1)",
                    ids,
                ),
            }
        finally:
            await conn.close()

    async def unsent() -> list[Any]:
        """What the receipts not sent are waiting for, to tell a fault from a slow machine."""
        conn = await asyncpg.connect(system.pg.url())
        try:
            return [
                tuple(r)
                for r in await conn.fetch(
                    "SELECT status, held, attempts, count(*), min(next_attempt_at) - now(), "
                    "max(leased_until) - now(), min(last_error) "
                    "FROM notify.message WHERE kind = 'receipt' AND status <> 'sent' "
                    "AND case_id = ANY($1) GROUP BY 1, 2, 3",
                    ids,
                )
            ]
        finally:
            await conn.close()

    # what is tested is that every receipt goes out once, not how fast a shared machine sends
    # them: wait while they keep going out; stop when none has for 30 s (stuck), or at 4 min
    started = last_progress = time.monotonic()
    seen = -1
    while True:
        c = await counts()
        now = time.monotonic()
        if c["sent"] != seen:
            seen, last_progress = c["sent"], now
        if c["sent"] == N or now - last_progress > 30 or now - started > 240:
            break
        await asyncio.sleep(0.5)
    want = {"petitions": N, "cases": N, "receipts": N, "receipt_cases": N, "sent": N}
    assert c == want, (c, await unsent())
    async with httpx.AsyncClient(timeout=30) as client:
        messages = (
            await client.get(f"{system.sms_url}/v1/messages", params={"limit": 1_000_000})
        ).json()
    per_case = Counter(m.group(1) for msg in messages if (m := TRACKING.search(msg["text"])))
    delivered = {t: k for t, k in per_case.items() if t in tracking}
    assert len(delivered) == N, f"receipts missing at the gateway: {N - len(delivered)}"
    assert max(delivered.values()) == 1, "a receipt reached the gateway twice"


async def during_load(system: LiveSystem, tag: str, fault: Callable[[], Awaitable[None]]) -> None:
    load = asyncio.create_task(submit_all(system.base_url, tag))
    await asyncio.sleep(1.0)
    await fault()
    acked = await load
    await verify_exactly_once(system, tag, acked)


async def test_kill_workers_repeatedly(live_system: LiveSystem) -> None:
    async def fault() -> None:
        for _ in range(5):
            workers = live_system.workers()
            assert workers, "no worker processes found"
            victim = random.choice(workers)
            os.kill(victim.pid, signal.SIGKILL)
            await asyncio.sleep(1.5)

    await during_load(live_system, "kill9", fault)


async def test_flushall_redis(live_system: LiveSystem) -> None:
    async def fault() -> None:
        client = aioredis.from_url(live_system.redis.url())
        for _ in range(2):
            await client.flushall()
            await asyncio.sleep(1.5)
        await client.aclose()

    await during_load(live_system, "flush", fault)


async def test_restart_redis(live_system: LiveSystem) -> None:
    async def fault() -> None:
        await asyncio.to_thread(live_system.redis.restart)

    await during_load(live_system, "redisrestart", fault)


async def test_restart_postgres(live_system: LiveSystem) -> None:
    async def fault() -> None:
        await asyncio.to_thread(live_system.pg.restart, "fast")

    await during_load(live_system, "pgrestart", fault)
