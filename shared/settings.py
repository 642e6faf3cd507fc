"""All settings, read from the environment (prefix ``MINSHENG_``), architecture §4.

With no ``MINSHENG_DATABASE_URL`` / ``MINSHENG_REDIS_URL`` the URLs of the embedded servers
that ``minsheng run`` started are read from ``$MINSHENG_DATA_DIR/runtime.json``, so every
process (and the CLI) given the same data dir finds the same servers.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("intake", "casework", "notify", "analytics")

# Development defaults. `MINSHENG_ENV=prod` refuses to start with any of them.
DEV_SECRET_KEY = "dev-secret-key-change-me-0123456789abcdef"  # noqa: S105
DEV_DATA_KEYS = "dev1:ZGV2LWRhdGEta2V5LTAwMDAwMDAwMDAwMDAwMDAwMDA="
DEV_HASH_KEY = "dev-hash-key-change-me"
DEV_HOTLINE_KEYS = "hotline-dev:dev-hotline-secret"
DEV_EXCHANGE_KEYS = "province-dev:dev-exchange-secret"
DEV_OPEN311_KEYS = "open311-dev-key"
DEV_SMS_RECEIPT_TOKEN = "dev-sms-receipt-token"  # noqa: S105


class SettingsError(RuntimeError):
    """A setting that must not be used in this environment."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MINSHENG_", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    port: int = 8000
    host: str = "127.0.0.1"
    # API processes sharing the port (uvicorn workers); more for more cores
    api_workers: int = Field(default=1, ge=1, le=64)
    data_dir: Path = Path(".minsheng")
    public_base_url: str = ""

    database_url: str | None = None
    intake_database_url: str | None = None
    casework_database_url: str | None = None
    notify_database_url: str | None = None
    analytics_database_url: str | None = None
    identity_database_url: str | None = None
    redis_url: str | None = None

    secret_key: str = DEV_SECRET_KEY
    data_keys: str = DEV_DATA_KEYS
    hash_key: str = DEV_HASH_KEY
    hotline_keys: str = DEV_HOTLINE_KEYS
    exchange_keys: str = DEV_EXCHANGE_KEYS
    hotline_callback_url: str = ""
    province_exchange_url: str = ""
    open311_api_keys: str = DEV_OPEN311_KEYS
    # Open311: the region (GB/T 2260 district code) of a request whose location names no
    # district of the city (integrations §4: "else a configured default"); default 宝安区
    open311_default_region: str = Field(default="440306", pattern=r"^[0-9]{6}$")
    # the SMS gateway's delivery receipts carry it as a bearer token
    sms_receipt_token: str = DEV_SMS_RECEIPT_TOKEN
    sms_gateway_url: str = ""
    smtp_url: str = ""

    log_level: str = "INFO"
    log_json: bool = True

    # Access tokens: short-lived, revocable; staff sessions expire when idle.
    access_token_minutes: int = 15
    session_idle_minutes: int = 30
    login_max_failures: int = 5
    login_lockout_minutes: int = 15

    # The bus (architecture §2.3): a delivery not acknowledged within the lease is sent again.
    bus_lease_seconds: float = 15.0
    bus_batch_size: int = Field(default=500, ge=1, le=5000)
    bus_max_in_flight: int = Field(default=2000, ge=1)  # leased, unacknowledged, per subscriber
    bus_job_timeout_seconds: int = 20
    bus_max_attempts: int = 8
    bus_poll_seconds: float = 1.0
    bus_dispatch_window_seconds: float = 0.03
    worker_max_jobs: int = 8
    db_pool_size: int = 10
    # parallel workers PostgreSQL may start per query on our connections: a page of 25 rows
    # is cheaper alone than with a worker's start-up (7 ms against 0.06 ms for a handler's
    # queue at 1M cases); raise it for a reporting replica with cores to spare
    db_parallel_workers: int = Field(default=0, ge=0, le=16)

    # Citizen API limits
    rate_per_ip_per_minute: int = 60
    rate_per_phone_per_hour: int = 10
    attachment_max_bytes: int = 10 * 1024 * 1024
    attachment_types: str = (
        "image/jpeg,image/png,image/gif,image/webp,application/pdf,audio/mpeg,audio/amr,"
        "video/mp4,text/plain,application/msword,"
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )

    # Tracking view brute-force lock (integrations §5).
    tracking_max_failures: int = 10
    tracking_lock_minutes: int = 15

    # Casework: after this many recorded attempts to reach an unreachable petitioner the
    # case may be replied to with the attempts on record.
    casework_unreachable_attempts: int = Field(default=3, ge=1, le=20)
    # 督办: working days a supervision gives the handling unit when the supervisor names none
    casework_supervision_days: int = Field(default=10, ge=1, le=60)

    # --- Deadlines (services/casework/deadline) ---
    # The share of a clock's span after which the sweep warns (CaseDeadlineApproachedV1):
    # 0.8 warns when 80 % of the time from start to due has passed. Strictly between 0 and 1.
    deadline_warn_share: float = Field(default=0.8, gt=0, lt=1)
    # --- end of deadlines ---

    # --- Notify (services/notify): the five returns, alerts, evaluations, partner callbacks ---
    # Quiet hours for non-urgent SMS, Asia/Shanghai wall time "HH:MM"; what falls inside is
    # held and sent at the end of the quiet period.
    notify_quiet_start: str = "21:00"
    notify_quiet_end: str = "08:00"
    # Non-urgent SMS per phone per rolling hour; more wait until the hour has passed.
    notify_sms_per_phone_per_hour: int = Field(default=6, ge=1)
    # Longest SMS body in characters (a long SMS is at most ~5 segments of 67).
    notify_sms_max_chars: int = Field(default=300, ge=70)
    notify_email_from: str = "minsheng@localhost"
    notify_max_attempts: int = Field(default=12, ge=1)  # SMS / e-mail, then dead letter
    # Cap of the exponential backoff of messages and of partner callbacks (integrations §2).
    notify_backoff_cap_seconds: float = Field(default=600.0, gt=0)
    notify_callback_alert_hours: float = Field(default=24.0, gt=0)  # failing this long: alert
    notify_callback_concurrency: int = Field(default=32, ge=1)
    notify_evaluation_days: int = Field(default=15, ge=1)  # then 超期未评价
    # --- end of notify ---

    # --- Analytics (services/analytics): metrics and reports ---
    # Weights of the 12345 weighted score (响应率 / 解决率 / 满意率, domain §5), in any unit:
    # they are normalised by their sum. Default 10 % / 50 % / 40 %.
    analytics_weight_response: float = Field(default=10.0, ge=0)
    analytics_weight_solution: float = Field(default=50.0, ge=0)
    analytics_weight_satisfaction: float = Field(default=40.0, ge=0)
    # Rankings leave out units with fewer cases than this in the rate's denominator.
    analytics_ranking_min_cases: int = Field(default=5, ge=1)
    # --- end of analytics ---

    def database_url_for(self, schema: str) -> str:
        """The SQLAlchemy URL of the database that holds ``schema``."""
        specific = getattr(self, f"{schema}_database_url", None)
        url = specific or self.database_url or self.runtime().get("database_url")
        if not url:
            raise SettingsError(
                "no database: set MINSHENG_DATABASE_URL or start the embedded system with "
                "`minsheng run` (it writes "
                f"{self.data_dir / 'runtime.json'})"
            )
        return to_async_url(url)

    def redis_dsn(self) -> str:
        url = self.redis_url or self.runtime().get("redis_url")
        if not url:
            raise SettingsError(
                "no Redis: set MINSHENG_REDIS_URL or start the embedded system with `minsheng run`"
            )
        return url

    def runtime(self) -> dict[str, str]:
        path = self.data_dir / "runtime.json"
        if not path.exists():
            return {}
        data: dict[str, str] = json.loads(path.read_text())
        return data

    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def public_url(self) -> str:
        return self.public_base_url or self.base_url()

    def check_for_production(self) -> None:
        """Refuse development secrets outside development (architecture §4)."""
        if self.env != "prod":
            return
        defaults = {
            "MINSHENG_SECRET_KEY": (self.secret_key, DEV_SECRET_KEY),
            "MINSHENG_DATA_KEYS": (self.data_keys, DEV_DATA_KEYS),
            "MINSHENG_HASH_KEY": (self.hash_key, DEV_HASH_KEY),
            "MINSHENG_HOTLINE_KEYS": (self.hotline_keys, DEV_HOTLINE_KEYS),
            "MINSHENG_EXCHANGE_KEYS": (self.exchange_keys, DEV_EXCHANGE_KEYS),
            "MINSHENG_OPEN311_API_KEYS": (self.open311_api_keys, DEV_OPEN311_KEYS),
            "MINSHENG_SMS_RECEIPT_TOKEN": (self.sms_receipt_token, DEV_SMS_RECEIPT_TOKEN),
        }
        bad = [name for name, (value, default) in defaults.items() if value == default]
        if bad:
            raise SettingsError(
                "MINSHENG_ENV=prod refuses the development defaults of: " + ", ".join(bad)
            )
        if len(self.secret_key) < 32:
            raise SettingsError("MINSHENG_SECRET_KEY must be at least 32 characters in prod")


def to_async_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def to_plain_url(url: str) -> str:
    """The libpq form of a URL (for asyncpg.connect and psql)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@lru_cache
def get_settings() -> Settings:
    return Settings()
