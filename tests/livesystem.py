"""A whole running system for end-to-end and fault tests: our own PostgreSQL and Redis (so the tests may
restart them), and `minsheng run --no-demo` — the real supervisor, API process, four workers
and SMS gateway simulator — pointed at them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from minsheng.embedded import EmbeddedPostgres, EmbeddedRedis
from tests.support import free_port


@dataclass
class LiveSystem:
    base_url: str
    sms_url: str
    pg: EmbeddedPostgres
    redis: EmbeddedRedis
    supervisor: subprocess.Popen[bytes]
    data_dir: Path

    def workers(self) -> list[psutil.Process]:
        out = []
        for child in psutil.Process(self.supervisor.pid).children(recursive=True):
            try:
                cmd = child.cmdline()
            except psutil.Error:
                continue
            if "worker" in cmd:
                out.append(child)
        return out


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except Exception:
        return False


@pytest.fixture(scope="module")
def live_system() -> Iterator[LiveSystem]:
    root = Path(tempfile.mkdtemp(prefix="minsheng-chaos-"))
    pg = EmbeddedPostgres(root / "postgres")
    redis = EmbeddedRedis(root / "redis")
    sup: subprocess.Popen[bytes] | None = None
    try:  # whatever fails, everything started here is stopped
        pg.start()
        redis.start()
        port = free_port()
        env = dict(os.environ)
        env.update(
            {
                "MINSHENG_DATABASE_URL": pg.url(),
                "MINSHENG_REDIS_URL": redis.url(),
                "MINSHENG_DATA_DIR": str(root / "data"),
                "MINSHENG_PORT": str(port),
                "MINSHENG_ENV": "test",
                "MINSHENG_BUS_LEASE_SECONDS": "4",
                "MINSHENG_LOG_LEVEL": "WARNING",
                # the load comes from one address by design; the limit has its own test
                "MINSHENG_RATE_PER_IP_PER_MINUTE": "1000000",
                # retries through a PostgreSQL restart re-send one phone's petition many times
                "MINSHENG_RATE_PER_PHONE_PER_HOUR": "1000000",
            }
        )
        env.pop("MINSHENG_SMS_GATEWAY_URL", None)
        log = (root / "supervisor.log").open("ab")
        sup = subprocess.Popen(
            [sys.executable, "-m", "minsheng.cli", "run", "--no-demo"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while not _ready(f"{base}/readyz"):
            if sup.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((root / "supervisor.log").read_text()[-3000:])
            time.sleep(0.3)
        runtime = json.loads((root / "data" / "runtime.json").read_text())
        yield LiveSystem(base, runtime["sms_gateway_url"], pg, redis, sup, root / "data")
    finally:
        if sup is not None:
            sup.send_signal(signal.SIGTERM)
            try:
                sup.wait(30)
            except subprocess.TimeoutExpired:
                sup.kill()
        redis.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
