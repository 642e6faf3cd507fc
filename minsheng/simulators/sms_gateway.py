"""A simulator of the SMS gateway (contract in ``shared/sms.py``).

It de-duplicates on ``message_id`` like the real gateway, records every request (to memory and
to a JSON-lines file when ``SMS_SIM_LOG`` is set, so counts survive its own restart), and fails
on demand (``POST /v1/control/fail``) for tests.

Delivery receipts: given a receipt URL (``SMS_SIM_RECEIPT_URL``; the supervisor points it at
notify's ``/api/v1/notify/receipts/sms``), it reports each newly accepted message as
``{"message_id", "provider_ref", "status": "delivered", "at"}``, shortly after answering
(retried a few times; a receipt is informative, so one that cannot be given is dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class GatewayState:
    def __init__(self, log_path: Path | None) -> None:
        self.lock = threading.Lock()
        self.messages: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.duplicates = 0
        self.fail_remaining = 0
        self.fail_status = 503
        self.log_path = log_path
        if log_path is not None and log_path.exists():
            for line in log_path.read_bytes().splitlines():
                rec = orjson.loads(line)
                self.requests += 1
                if rec["message_id"] in self.messages:
                    self.duplicates += 1
                else:
                    self.messages[rec["message_id"]] = rec

    def record(self, rec: dict[str, Any]) -> bool:
        """True when new."""
        with self.lock:
            self.requests += 1
            if self.log_path is not None:
                with self.log_path.open("ab") as f:
                    f.write(orjson.dumps(rec) + b"\n")
            if rec["message_id"] in self.messages:
                self.duplicates += 1
                return False
            self.messages[rec["message_id"]] = rec
            return True


async def _post_receipt(url: str, receipt: dict[str, Any], token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=5, headers=headers) as client:
        for attempt in range(5):
            await asyncio.sleep(0.1 * 2**attempt)
            with contextlib.suppress(httpx.HTTPError):
                r = await client.post(url, json=receipt)
                if r.status_code < 300 or r.status_code == 422:
                    return


def create_app(
    log_path: Path | None = None, receipt_url: str | None = None, receipt_token: str | None = None
) -> FastAPI:
    if log_path is None and os.environ.get("SMS_SIM_LOG"):
        log_path = Path(os.environ["SMS_SIM_LOG"])
    receipt_url = receipt_url or os.environ.get("SMS_SIM_RECEIPT_URL") or None
    receipt_token = receipt_token or os.environ.get("SMS_SIM_RECEIPT_TOKEN") or None
    state = GatewayState(log_path)
    app = FastAPI(title="SMS gateway simulator")
    app.state.gateway = state
    pending: set[asyncio.Task[None]] = set()

    @app.post("/v1/messages", status_code=202)
    async def send(request: Request) -> JSONResponse:
        if state.fail_remaining:
            with state.lock:
                state.fail_remaining -= 1
            return JSONResponse({"error": "unavailable"}, status_code=state.fail_status)
        try:
            body = orjson.loads(await request.body())
            message_id = str(uuid.UUID(str(body["message_id"])))
            phone, text = str(body["phone"]), str(body["text"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "bad_request"}, status_code=400)
        if not _MOBILE.match(phone):
            return JSONResponse({"error": "invalid_phone"}, status_code=400)
        new = state.record(
            {
                "message_id": message_id,
                "phone": phone,
                "text": text,
                "urgent": bool(body.get("urgent")),
                "received_at": time.time(),
            }
        )
        provider_ref = f"SIM-{message_id[:8]}"
        if new and receipt_url:
            receipt = {
                "message_id": message_id,
                "provider_ref": provider_ref,
                "status": "delivered",
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            task = asyncio.create_task(_post_receipt(receipt_url, receipt, receipt_token))
            pending.add(task)
            task.add_done_callback(pending.discard)
        return JSONResponse(
            {
                "message_id": message_id,
                "status": "accepted" if new else "duplicate",
                "provider_ref": provider_ref,
            },
            status_code=202,
        )

    @app.get("/v1/messages")
    async def messages(phone: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        with state.lock:
            items = [m for m in state.messages.values() if phone is None or m["phone"] == phone]
        return items[-limit:]

    @app.get("/v1/stats")
    async def stats() -> dict[str, int]:
        with state.lock:
            return {
                "requests": state.requests,
                "delivered": len(state.messages),
                "duplicates": state.duplicates,
            }

    @app.post("/v1/control/fail")
    async def fail(request: Request) -> dict[str, int]:
        body = orjson.loads(await request.body() or b"{}")
        with state.lock:
            state.fail_remaining = int(body.get("count", 0))
            state.fail_status = int(body.get("status", 503))
        return {"fail_remaining": state.fail_remaining}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
