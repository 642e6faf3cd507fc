"""Simulators of the two partners that receive our callbacks: the 12345 hotline's status
callback endpoint (integrations §2) and the provincial platform's ``/results`` (§3).

Each checks the §0 signature exactly as the partner does (unknown key, missing or wrong
signature, timestamp more than 300 s off, a nonce seen within 600 s → 401 and nothing
recorded), treats a repeated ``event_id`` as already delivered (200, counted as a
duplicate), records every accepted callback in arrival order (in memory and, with
``log_path``, in a JSON-lines file so counts survive its own restart), and fails on demand:
``POST /control/fail`` with ``{"status": 503, "seconds": 30}`` (or ``"count": n``) answers
that status until the period or count is used up.

Reading: ``GET /callbacks?stream=…`` (every accepted callback, in order), ``GET /stats``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Literal

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.signing import PartnerKeys, check_signature, header_names
from shared.signing.signature import NONCE_RE, TIMESTAMP_RE

Kind = Literal["hotline", "exchange"]
STREAM_FIELD = {"hotline": "order_no", "exchange": "province_case_no"}
PATHS = {"hotline": "/callbacks", "exchange": "/results"}
WINDOW = 300
REPLAY = 600


class PartnerState:
    def __init__(self, kind: Kind, keys: PartnerKeys, log_path: Path | None) -> None:
        self.kind = kind
        self.keys = keys
        self.lock = threading.Lock()
        self.accepted: list[dict[str, Any]] = []
        self.seen: set[str] = set()
        self.duplicates = 0
        self.requests = 0
        self.refused = 0
        self.failed = 0
        self.nonces: dict[tuple[str, str], float] = {}
        self.purged_at = 0.0
        self.fail_until = 0.0
        self.fail_count = 0
        self.fail_status = 503
        self.log_path = log_path
        if log_path is not None and log_path.exists():
            for line in log_path.read_bytes().splitlines():
                rec = orjson.loads(line)
                if rec["event_id"] not in self.seen:
                    self.seen.add(rec["event_id"])
                    self.accepted.append(rec)

    def failing(self) -> int | None:
        with self.lock:
            if self.fail_count > 0:
                self.fail_count -= 1
                return self.fail_status
            if time.time() < self.fail_until:
                return self.fail_status
        return None

    def check(self, headers: Any, body: bytes) -> str | None:
        """The 401 code, or None when the signature is good (the nonce is then remembered)."""
        names = header_names(self.kind)
        key_id = headers.get(names.key_id)
        ts = headers.get(names.timestamp)
        nonce = headers.get(names.nonce)
        signature = headers.get(names.signature)
        if not key_id or self.keys.get(key_id) is None:
            return "unknown_key"
        if not signature or not ts or not nonce:
            return "missing_signature"
        if not TIMESTAMP_RE.fullmatch(ts) or not NONCE_RE.fullmatch(nonce):
            return "bad_signature"
        secret = self.keys.get(key_id)
        assert secret is not None
        if not check_signature(secret, ts, nonce, body, signature):
            return "bad_signature"
        now = time.time()
        if abs(now - int(ts)) > WINDOW:
            return "stale_timestamp"
        with self.lock:
            if now - self.purged_at > 10:  # forget old nonces now and then, not per request
                self.purged_at = now
                for k, at in list(self.nonces.items()):
                    if now - at > REPLAY:
                        del self.nonces[k]
            if (key_id, nonce) in self.nonces:
                return "replayed_nonce"
            self.nonces[(key_id, nonce)] = now
        return None

    def record(self, rec: dict[str, Any]) -> bool:
        with self.lock:
            if rec["event_id"] in self.seen:
                self.duplicates += 1
                return False
            self.seen.add(rec["event_id"])
            self.accepted.append(rec)
            if self.log_path is not None:
                with self.log_path.open("ab") as f:
                    f.write(orjson.dumps(rec) + b"\n")
            return True


def create_app(kind: Kind, keys_spec: str, log_path: Path | None = None) -> FastAPI:
    state = PartnerState(kind, PartnerKeys.parse(keys_spec), log_path)
    title = "12345 hotline simulator" if kind == "hotline" else "provincial platform simulator"
    app = FastAPI(title=title)
    app.state.partner = state
    names = header_names(kind)
    stream_field = STREAM_FIELD[kind]

    @app.post(PATHS[kind])
    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        with state.lock:
            state.requests += 1
        status = state.failing()
        if status is not None:
            with state.lock:
                state.failed += 1
            return JSONResponse({"error": "unavailable"}, status_code=status)
        code = state.check(request.headers, body)
        if code is not None:
            with state.lock:
                state.refused += 1
            return JSONResponse(
                {"errors": [{"field": names.signature, "code": code, "message": code}]},
                status_code=401,
            )
        try:
            data = orjson.loads(body)
            event_id = str(data["event_id"])
            stream = str(data[stream_field])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "bad_request"}, status_code=400)
        new = state.record(
            {"event_id": event_id, "stream": stream, "body": data, "received_at": time.time()}
        )
        return JSONResponse({"event_id": event_id, "status": "accepted" if new else "duplicate"})

    @app.get("/callbacks")
    async def callbacks(stream: str | None = None, limit: int = 100_000) -> list[dict[str, Any]]:
        with state.lock:
            items = [c for c in state.accepted if stream is None or c["stream"] == stream]
        return items[-limit:]

    @app.get("/stats")
    async def stats() -> dict[str, int]:
        with state.lock:
            return {
                "requests": state.requests,
                "accepted": len(state.accepted),
                "duplicates": state.duplicates,
                "refused": state.refused,
                "failed": state.failed,
            }

    @app.post("/control/fail")
    async def fail(request: Request) -> dict[str, Any]:
        body = orjson.loads(await request.body() or b"{}")
        with state.lock:
            state.fail_status = int(body.get("status", 503))
            state.fail_count = int(body.get("count", 0))
            state.fail_until = time.time() + float(body.get("seconds", 0))
            return {"fail_count": state.fail_count, "fail_until": state.fail_until}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
