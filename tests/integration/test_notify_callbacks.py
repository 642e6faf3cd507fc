"""Partner callbacks against the real simulators (signatures checked): a provincial platform
that answers 503 for a period during a load of 1,000 cases receives, after it recovers, every
milestone of every case exactly once and in order — counted; a callback failing for 24 h
raises one operator alert and goes on being retried."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from minsheng.simulators.partner import create_app as create_partner
from services.notify.callback.service import CallbackSender
from shared.clock import FixedClock
from shared.db import Database
from shared.events import casework as ev
from shared.settings import Settings
from tests.integration.test_notify_returns import Case, bus_ctx, deliver, q
from tests.support import serve_app

pytestmark = pytest.mark.asyncio(loop_scope="session")

N = 1000


def provincial_story(case: Case) -> list:
    t = case.tracking_no
    return [
        case.registered(),
        case.env(ev.CaseAcceptedV1(**case.base(f"{t} 已受理"), handling_path="g", on_time=True)),
        case.env(
            ev.CaseRepliedV1(
                **case.base(f"{t} 已答复"),
                stage="reply",
                decisions=["support"],
                on_time=True,
                reply_text="处理意见",
            )
        ),
        case.env(ev.CaseClosedV1(**case.base(f"{t} 已办结"), resolved=True)),
    ]


async def test_province_down_during_a_load_receives_everything_once_in_order(
    settings: Settings, db: Database, clean: None
) -> None:
    sim = create_partner("exchange", settings.exchange_keys)
    async with serve_app(sim) as url, httpx.AsyncClient() as http:
        cfg = settings.model_copy(
            update={"province_exchange_url": url, "notify_backoff_cap_seconds": 1.0}
        )
        cases = [
            Case(cfg, order_no=None, province_case_no=f"YX44{i:017d}", phone=None, email=None)
            for i in range(N)
        ]
        async with bus_ctx(cfg) as ctx:
            sender = CallbackSender(ctx)
            stop = asyncio.Event()

            async def send_loop() -> None:
                while not stop.is_set():
                    if not await sender.send_due():
                        await asyncio.sleep(0.05)

            loop = asyncio.create_task(send_loop())
            try:
                # the platform goes down while the load is being produced
                await http.post(f"{url}/control/fail", json={"status": 503, "seconds": 4})
                for i in range(0, N, 100):
                    envs = [e for c in cases[i : i + 100] for e in provincial_story(c)]
                    await deliver(ctx, envs, start=i * 10)
                stats = (await http.get(f"{url}/stats")).json()
                assert stats["failed"] > 0, "the outage was not exercised"

                async def all_sent() -> bool:
                    n = await q(
                        db, "SELECT count(*) FROM notify.partner_callback WHERE state='pending'"
                    )
                    return n[0][0] == 0

                deadline = asyncio.get_running_loop().time() + 120
                while not await all_sent():
                    assert asyncio.get_running_loop().time() < deadline, "backlog not drained"
                    await asyncio.sleep(0.2)
            finally:
                stop.set()
                await loop
                await sender.aclose()
        received = (await http.get(f"{url}/callbacks")).json()
        stats = (await http.get(f"{url}/stats")).json()

    assert stats["refused"] == 0  # every attempt signed afresh and accepted by the checker
    per_case: dict[str, list[str]] = defaultdict(list)
    ids = [c["event_id"] for c in received]
    assert len(ids) == len(set(ids)) == 3 * N  # accepted, replied, closed: each once
    for c in received:
        per_case[c["stream"]].append(c["body"]["milestone"])
    assert len(per_case) == N
    assert all(m == ["accepted", "replied", "closed"] for m in per_case.values())
    assert received[0]["body"]["document"]["kind"] == "受理告知书"


async def test_a_callback_failing_for_24_hours_raises_one_alert_and_is_retried(
    settings: Settings, db: Database, clean: None
) -> None:
    sim = create_partner("hotline", settings.hotline_keys)
    async with serve_app(sim) as url, httpx.AsyncClient() as http:
        cfg = settings.model_copy(update={"hotline_callback_url": f"{url}/callbacks"})
        case = Case(cfg, province_case_no=None, phone=None, email=None)
        clock = FixedClock(datetime.now(UTC))
        async with bus_ctx(cfg, clock) as ctx:
            await deliver(ctx, provincial_story(case))
            sender = CallbackSender(ctx)
            try:
                await http.post(f"{url}/control/fail", json={"status": 503, "count": 1000})

                async def attempt(advance: timedelta) -> int:
                    clock.advance(advance)
                    async with ctx.db.transaction("notify") as conn:
                        from sqlalchemy import text

                        await conn.execute(
                            text("UPDATE notify.partner_callback SET next_attempt_at = now()")
                        )
                    return await sender.send_due()

                assert await attempt(timedelta(0)) == 1  # head of line: only 'received'
                assert await attempt(timedelta(hours=23)) == 1
                alerts = await q(db, "SELECT * FROM notify.dead_letter WHERE kind='callback'")
                assert alerts == []
                for _ in range(3):
                    assert await attempt(timedelta(hours=1)) == 1
                alerts = await q(db, "SELECT * FROM notify.dead_letter WHERE kind='callback'")
                assert len(alerts) == 1 and alerts[0].state == "failed"
                assert alerts[0].target == "hotline" and "503" in alerts[0].error
                pending = await q(
                    db, "SELECT count(*) FROM notify.partner_callback WHERE state='pending'"
                )
                assert pending[0][0] == 4  # nothing dropped
                # the partner is back: everything arrives in order and the alert is resolved
                await http.post(f"{url}/control/fail", json={"count": 0})
                # (signatures carry the clock's time: back to now, or the partner says stale)
                clock.advance(datetime.now(UTC) - clock.now())
                for _ in range(10):
                    with contextlib.suppress(AssertionError):
                        await attempt(timedelta(seconds=1))
            finally:
                await sender.aclose()
        received = (await http.get(f"{url}/callbacks")).json()
    assert [c["body"]["status"] for c in received] == ["received", "accepted", "replied", "closed"]
    alerts = await q(db, "SELECT state FROM notify.dead_letter WHERE kind='callback'")
    assert [a.state for a in alerts] == ["replayed"]
