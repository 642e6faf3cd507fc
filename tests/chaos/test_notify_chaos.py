"""kill -9 of the notify worker while it sends (issue: notify): afterwards the SMS gateway
simulator's own record shows every receipt delivered exactly once — none lost, none twice —
and the partner simulators run beside it. Bounded: 300 petitions, three kills."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from collections import Counter

import asyncpg
import httpx
import pytest

from tests.chaos.test_faults import TRACKING, submit_all
from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.chaos, pytest.mark.asyncio(loop_scope="module")]

N = 300


def notify_workers(system: LiveSystem) -> list[int]:
    out = []
    for proc in system.workers():
        try:
            cmd = proc.cmdline()
        except Exception:
            continue
        if "notify" in cmd:
            out.append(proc.pid)
    return out


async def test_kill_notify_worker_while_sending(live_system: LiveSystem) -> None:
    runtime = json.loads((live_system.data_dir / "runtime.json").read_text())
    assert runtime.get("hotline_sim_url") and runtime.get("province_sim_url")
    async with httpx.AsyncClient(timeout=10) as client:
        for name in ("hotline", "province"):
            deadline = time.monotonic() + 30
            while True:
                try:
                    r = await client.get(f"{runtime[f'{name}_sim_url']}/stats")
                    if r.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{name} simulator not running"
                await asyncio.sleep(0.3)

    load = asyncio.create_task(submit_all(live_system.base_url, "notifykill", N))
    kills = 0
    for _ in range(3):
        await asyncio.sleep(1.5)
        deadline = time.monotonic() + 20  # the supervisor restarts it with a backoff
        while not (pids := notify_workers(live_system)) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            kills += 1
    acked = await load
    assert kills == 3
    tracking = {a["tracking_no"] for a in acked}
    assert len(tracking) == N
    ids = [uuid.UUID(a["case_id"]) for a in acked]

    deadline = time.monotonic() + 90
    while True:
        conn = await asyncpg.connect(live_system.pg.url())
        try:
            sent = await conn.fetchval(
                "SELECT count(*) FROM notify.message WHERE kind = 'receipt' AND status = 'sent' "
                "AND case_id = ANY($1)",
                ids,
            )
        finally:
            await conn.close()
        if sent == N or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert sent == N
    async with httpx.AsyncClient(timeout=30) as client:
        messages = (
            await client.get(f"{live_system.sms_url}/v1/messages", params={"limit": 1_000_000})
        ).json()
    per_case = Counter(m.group(1) for msg in messages if (m := TRACKING.search(msg["text"])))
    delivered = {t: k for t, k in per_case.items() if t in tracking}
    assert len(delivered) == N, f"receipts lost at the gateway: {N - len(delivered)}"
    assert max(delivered.values()) == 1, "a receipt was delivered twice"
