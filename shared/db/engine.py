"""Engines (one per database URL, shared by the schemas living in it) and the metadata
naming convention every service uses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from shared.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


# Errors after which the same work may succeed later (database restarting, connection lost,
# serialisation conflicts). Everything else is a bug or bad data.
_TRANSIENT_ASYNCPG = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.LockNotAvailableError,
)


def transient_db_errors(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, DBAPIError):
        orig = getattr(exc.orig, "__cause__", None) or exc.orig
        return isinstance(orig, _TRANSIENT_ASYNCPG) or isinstance(exc.orig, _TRANSIENT_ASYNCPG)
    return isinstance(exc, (*_TRANSIENT_ASYNCPG, ConnectionError, OSError, asyncio.TimeoutError))


_TEXT_REFUSED = {"22021", "22P05"}  # character_not_in_repertoire, untranslatable_character


def text_refused(exc: BaseException) -> bool:
    """PostgreSQL refused a text or jsonb value: U+0000, which neither can hold (pydantic lets
    it through; lone surrogates it refuses itself). The statement failed, so its transaction
    changed nothing."""
    seen: BaseException | None = exc
    for _ in range(4):  # DBAPIError -> the adapter's error -> asyncpg's
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) in _TEXT_REFUSED:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


class Database:
    """Engines keyed by URL, so schemas that share a database share a pool."""

    def __init__(
        self, settings: Settings, pool_size: int | None = None, *, generic_plans: bool = False
    ) -> None:
        """``generic_plans``: let PostgreSQL keep a generic plan for a prepared statement when
        it costs no more than planning each execution (its own default, ``auto``), for a
        process whose statements are chiefly writes whose plans do not depend on the values
        (intake's pushes: about ten statements each, every one planned again otherwise).
        Without it, every execution is planned with its values (see below)."""
        self.settings = settings
        self.pool_size = pool_size or settings.db_pool_size
        self.plan_cache_mode = "auto" if generic_plans else "force_custom_plan"
        self._engines: dict[str, AsyncEngine] = {}

    def engine(self, schema: str) -> AsyncEngine:
        url = self.settings.database_url_for(schema)
        if url not in self._engines:
            self._engines[url] = create_async_engine(
                url,
                pool_size=self.pool_size,
                max_overflow=self.pool_size,
                # no ping per checkout (a round trip on every request): a connection found
                # dead raises a disconnect error, which invalidates the pool and answers 503
                # (transient_db_errors) — the caller retries
                pool_pre_ping=False,
                pool_recycle=1800,
                # a statement's error names its parameters otherwise — petition text, keyed
                # hashes, search terms — and errors reach logs
                hide_parameters=True,
                connect_args={
                    "server_settings": {
                        "application_name": "minsheng",
                        # asyncpg prepares every statement; a generic plan cannot use the
                        # prefix index of a parameterised LIKE or judge a tsquery's
                        # selectivity, so by default each execution is planned with its values
                        "plan_cache_mode": self.plan_cache_mode,
                        # see Settings.db_parallel_workers
                        "max_parallel_workers_per_gather": str(self.settings.db_parallel_workers),
                    }
                },
            )
        return self._engines[url]

    @asynccontextmanager
    async def transaction(self, schema: str) -> AsyncIterator[AsyncConnection]:
        async with self.engine(schema).begin() as conn:
            yield conn

    @asynccontextmanager
    async def autocommit(self, schema: str) -> AsyncIterator[AsyncConnection]:
        """A connection on which every statement is its own transaction: no BEGIN and COMMIT
        round trips. For reads that need one statement's snapshot, and writes of one
        statement; never for work that must be atomic across statements."""
        async with self.engine(schema).connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    async def dispose(self) -> None:
        for engine in self._engines.values():
            await engine.dispose()
        self._engines.clear()


class UnsafeDurability(RuntimeError):
    """PostgreSQL would lose committed work on a crash."""


async def check_durability(conn: AsyncConnection) -> None:
    """In prod, refuse a server (or session) that may lose committed transactions."""
    from sqlalchemy import text

    fsync = await conn.scalar(text("SHOW fsync"))
    sync_commit = await conn.scalar(text("SHOW synchronous_commit"))
    bad = []
    if str(fsync).lower() != "on":
        bad.append(f"fsync={fsync}")
    if str(sync_commit).lower() == "off":
        bad.append(f"synchronous_commit={sync_commit}")
    if bad:
        raise UnsafeDurability(
            "MINSHENG_ENV=prod refuses PostgreSQL with "
            + ", ".join(bad)
            + ": an acknowledged petition could be lost in a crash"
        )
