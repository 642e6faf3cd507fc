"""Settings: production refuses development secrets; URLs; the runtime file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.settings import (
    DEV_SECRET_KEY,
    DEV_SMS_RECEIPT_TOKEN,
    Settings,
    SettingsError,
    to_async_url,
)


def strong(**overrides: object) -> Settings:
    values: dict[str, object] = dict(
        env="prod",
        secret_key="s" * 40,
        data_keys="k2:" + "A" * 43 + "=",
        hash_key="h" * 32,
        hotline_keys="hl:secret",
        exchange_keys="ex:secret",
        open311_api_keys="key-1",
        sms_receipt_token="t" * 32,
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_prod_refuses_each_development_default() -> None:
    strong().check_for_production()
    with pytest.raises(SettingsError, match="MINSHENG_SECRET_KEY"):
        strong(secret_key=DEV_SECRET_KEY).check_for_production()
    with pytest.raises(SettingsError, match="MINSHENG_DATA_KEYS"):
        strong(data_keys=Settings().data_keys).check_for_production()
    with pytest.raises(SettingsError, match="MINSHENG_SMS_RECEIPT_TOKEN"):
        strong(sms_receipt_token=DEV_SMS_RECEIPT_TOKEN).check_for_production()
    with pytest.raises(SettingsError, match="at least 32"):
        strong(secret_key="short-but-not-default").check_for_production()
    Settings(env="dev").check_for_production()  # dev accepts the defaults


def test_database_url_per_schema_and_runtime_file(tmp_path: Path) -> None:
    s = Settings(
        data_dir=tmp_path,
        database_url="postgresql://u:p@h:1/db",
        notify_database_url="postgresql://u:p@other:2/db",
    )
    assert s.database_url_for("intake") == "postgresql+asyncpg://u:p@h:1/db"
    assert s.database_url_for("notify") == "postgresql+asyncpg://u:p@other:2/db"
    (tmp_path / "runtime.json").write_text(
        json.dumps({"database_url": "postgresql://x@y/z", "redis_url": "redis://r:1/0"})
    )
    # explicit None: the suite's own servers are in the environment
    from_runtime = Settings(data_dir=tmp_path, database_url=None, redis_url=None)
    assert from_runtime.database_url_for("casework") == "postgresql+asyncpg://x@y/z"
    assert from_runtime.redis_dsn() == "redis://r:1/0"
    with pytest.raises(SettingsError):
        Settings(data_dir=tmp_path / "empty", database_url=None).database_url_for("intake")
    assert to_async_url("postgres://a/b") == "postgresql+asyncpg://a/b"
