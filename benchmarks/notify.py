"""Benchmark of notify (notify issue): messages per second rendered and handed to the SMS
gateway, and partner callbacks per second, beside the raw HTTP rate to the same simulators
measured in the same run.

1. messages: N casework ``accepted`` events of N cases (contacts registered first) through
   notify's real consumer (render the 回告 from its Jinja2 template, encrypt, store), then the
   sender loop posts them to the SMS gateway simulator until all are sent — timed separately
   and end to end. Quiet hours are switched off and the per-phone limit is not reached
   (one phone per case).
2. callbacks: the same N cases are provincial; their ``accepted`` results are posted, signed,
   head of line per case, to the provincial simulator until none is pending.
3. raw: N plain POSTs to the SMS simulator and N signed POSTs to the provincial simulator
   with the same concurrency — the ceiling the simulators and this machine allow.

Run: `.venv/bin/python benchmarks/notify.py [--quick]` → benchmarks/results/notify.{json,md}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import uvicorn

from benchmarks.common import write
from minsheng.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from minsheng.simulators.partner import create_app as create_partner
from minsheng.simulators.sms_gateway import create_app as create_gateway
from shared.settings import Settings, get_settings

CONCURRENCY = 50  # the sender hands a claimed batch of 50 to the gateway at once


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def raw_rate(n: int, post: Any) -> float:
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with sem:
            r = await post(i)
            assert r.status_code < 300, r.text

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - started)


async def run(n: int, settings: Settings) -> dict[str, Any]:
    from sqlalchemy import text

    from services.notify.callback.service import CallbackSender
    from services.notify.message.handlers import HANDLERS
    from services.notify.message.service import Providers, send_due
    from shared.bus import BusContext
    from shared.bus.consumer import Consumer
    from shared.bus.worker import open_redis
    from shared.crypto import seal_pii
    from shared.db import Database
    from shared.events import casework as ev
    from shared.events.envelope import Envelope
    from shared.security import keys_for
    from shared.signing import SignedClient

    keys = keys_for(settings)
    async with (
        serve(create_gateway()) as sms_url,
        serve(create_partner("exchange", settings.exchange_keys)) as province_url,
    ):
        cfg = settings.model_copy(
            update={
                "sms_gateway_url": sms_url,
                "province_exchange_url": province_url,
                "notify_quiet_start": "00:00",
                "notify_quiet_end": "00:00",
            }
        )
        db = Database(cfg, pool_size=6)
        redis = await open_redis(cfg)
        ctx = BusContext(service="notify", settings=cfg, db=db, redis=redis)
        consumer = Consumer(ctx, HANDLERS)
        from datetime import UTC, datetime

        now = datetime.now(UTC)

        def env(case_id: str, seq: int, event: Any) -> dict[str, Any]:
            e = Envelope(
                event_id=uuid.uuid4(),
                type=event.type,
                version=1,
                occurred_at=now,
                producer="casework",
                trace_id="b",
                aggregate_id=case_id,
                aggregate_seq=seq,
                payload=event.model_dump(mode="json"),
            )
            return {"delivery_id": seq, "event": e.model_dump(mode="json")}

        cases = []
        for i in range(n):
            case_id, t = str(uuid.uuid4()), f"MSB{i:010d}"
            phone = f"139{i:08d}"
            reg = ev.CaseRegisteredV1(
                case_id=case_id,
                tracking_no=t,
                source="province",
                channel="letter",
                region_code="440306",
                status="registered",
                registered_at=now,
                public_message="已登记",
                pii=seal_pii(keys.ring, {"phone": phone, "query_code": "123456"}),
                external_ids={"province_case_no": f"YXB{i:018d}"},
            )
            acc = ev.CaseAcceptedV1(
                case_id=case_id,
                tracking_no=t,
                status="accepted",
                occurred_at=now,
                actor="b",
                unit_name="宝安区信访局",
                public_message=f"您的信访事项（编号 {t}）已受理，将依法办理并按时答复。",
                handling_path="general",
                on_time=True,
            )
            cases.append((env(case_id, 1, reg), env(case_id, 2, acc)))
        for i in range(0, n, 200):  # registrations (receipts), not timed
            await consumer.consume(1, "casework", [c[0] for c in cases[i : i + 200]])
        async with db.transaction("notify") as conn:
            await conn.execute(
                text("UPDATE notify.message SET status = 'sent' WHERE kind = 'receipt'")
            )
        started = time.perf_counter()
        for i in range(0, n, 200):
            await consumer.consume(1, "casework", [c[1] for c in cases[i : i + 200]])
        rendered = time.perf_counter() - started
        providers = Providers.from_settings(cfg)
        send_started = time.perf_counter()
        while await send_due(ctx, providers, ctx.clock):
            pass
        handed = time.perf_counter() - send_started
        await providers.aclose()
        async with httpx.AsyncClient() as http:
            stats = (await http.get(f"{sms_url}/v1/stats")).json()
        assert stats["delivered"] == n, stats

        sender = CallbackSender(ctx)
        cb_started = time.perf_counter()
        while await sender.send_due():
            pass
        callbacks = time.perf_counter() - cb_started
        await sender.aclose()
        async with httpx.AsyncClient() as http:
            pstats = (await http.get(f"{province_url}/stats")).json()
        assert pstats["accepted"] == n, pstats

        async with httpx.AsyncClient(timeout=10) as http:
            raw_sms = await raw_rate(
                n,
                lambda i: http.post(
                    f"{sms_url}/v1/messages",
                    json={"message_id": str(uuid.uuid4()), "phone": "13800138000", "text": "x"},
                ),
            )
            signed = SignedClient.from_settings(http, cfg, partner="exchange")
            raw_cb = await raw_rate(
                n,
                lambda i: signed.post_json(
                    f"{province_url}/results",
                    {
                        "event_id": str(uuid.uuid4()),
                        "province_case_no": f"RAW{i}",
                        "milestone": "x",
                    },
                ),
            )
        await redis.aclose()
        await db.dispose()
    return {
        "n": n,
        "render_and_store_per_s": round(n / rendered, 1),
        "hand_to_gateway_per_s": round(n / handed, 1),
        "messages_end_to_end_per_s": round(n / (rendered + handed), 1),
        "callbacks_per_s": round(n / callbacks, 1),
        "raw_sms_http_per_s": round(raw_sms, 1),
        "raw_signed_callback_http_per_s": round(raw_cb, 1),
    }


async def main(quick: bool) -> None:
    n = 500 if quick else 2000
    root = Path(tempfile.mkdtemp(prefix="minsheng-bench-notify-"))
    pg, redis = EmbeddedPostgres(root / "pg"), EmbeddedRedis(root / "redis")
    try:
        pg.start()
        redis.start()
        os.environ.update(
            {
                "MINSHENG_DATABASE_URL": pg.url(),
                "MINSHENG_REDIS_URL": redis.url(),
                "MINSHENG_DATA_DIR": str(root / "data"),
                "MINSHENG_LOG_LEVEL": "WARNING",
            }
        )
        get_settings.cache_clear()
        from shared.db.migrate import upgrade_all

        settings = get_settings()
        upgrade_all(settings)
        result = await run(n, settings)
    finally:
        redis.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    md = (
        f"N = {result['n']} cases, one 回告 SMS and one provincial `accepted` result each; "
        "real PostgreSQL and Redis (embedded), simulators on 127.0.0.1, all on this machine.\n\n"
        "| measure | per second |\n|---|---|\n"
        f"| events consumed, 回告 rendered (Jinja2), encrypted, stored | "
        f"{result['render_and_store_per_s']} |\n"
        f"| messages handed to the SMS gateway (claim, decrypt, POST, record) | "
        f"{result['hand_to_gateway_per_s']} |\n"
        f"| messages end to end (both) | {result['messages_end_to_end_per_s']} |\n"
        f"| provincial callbacks (claim head of line, sign, POST, record) | "
        f"{result['callbacks_per_s']} |\n"
        f"| **baseline**: raw POSTs to the SMS simulator, concurrency {CONCURRENCY} | "
        f"{result['raw_sms_http_per_s']} |\n"
        f"| **baseline**: raw signed POSTs to the provincial simulator | "
        f"{result['raw_signed_callback_http_per_s']} |\n\n"
        "How to read this: the baselines are what the simulators and this machine allow over "
        "HTTP with nothing else to do; the sender and callback rates include PostgreSQL work "
        "(claim under a lease, record the outcome) per batch. The machine's cores are shared "
        "by PostgreSQL, Redis, the simulators and the benchmark itself.\n"
    )
    path = write("notify", result, md)
    print(md)
    print(f"written: {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    asyncio.run(main(parser.parse_args().quick))
