"""Alembic, one history per schema (architecture §2.1). ``upgrade_all`` migrates every schema
to head; the per-schema ``migrations/env.py`` files call ``run_env``."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.settings import Settings, get_settings

# schema -> (python package holding `migrations/`, module exposing `metadata`)
SCHEMAS: dict[str, tuple[str, str]] = {
    "identity": ("shared.identity", "shared.identity.models"),
    "intake": ("services.intake", "services.intake.models"),
    "casework": ("services.casework", "services.casework.models"),
    "notify": ("services.notify", "services.notify.models"),
    "analytics": ("services.analytics", "services.analytics.models"),
}


def alembic_config(schema: str, settings: Settings | None = None) -> Config:
    settings = settings or get_settings()
    package, _ = SCHEMAS[schema]
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    location = Path(next(iter(spec.submodule_search_locations))) / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    cfg.set_main_option("sqlalchemy.url", settings.database_url_for(schema))
    cfg.attributes["schema"] = schema
    return cfg


def upgrade_all(settings: Settings | None = None) -> None:
    """Migrate every schema to head. Safe to run from several processes at once."""
    for schema in SCHEMAS:
        command.upgrade(alembic_config(schema, settings), "head")


def metadata_of(schema: str) -> MetaData:
    _, module = SCHEMAS[schema]
    md: MetaData = importlib.import_module(module).metadata
    return md


def run_env() -> None:
    """Body of every ``migrations/env.py``: online migrations over asyncpg, serialised by an
    advisory lock, the version table inside the schema itself."""
    from alembic import context

    config = context.config
    schema: str = config.attributes.get("schema") or Path(context.script.dir).parent.name
    metadata = metadata_of(schema)
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None

    def include_object(
        obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        if type_ == "table":
            return getattr(obj, "schema", None) == schema
        return True

    def do_run(connection: object) -> None:
        context.configure(
            connection=connection,  # type: ignore[arg-type]
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            await conn.execute(
                text("SELECT pg_advisory_lock(hashtextextended('minsheng.migrate', 0))")
            )
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await conn.commit()
            await conn.run_sync(do_run)
            await conn.commit()
            await conn.execute(
                text("SELECT pg_advisory_unlock(hashtextextended('minsheng.migrate', 0))")
            )
        await engine.dispose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(main())
        return
    # called from async code (tests, benchmarks): run the migration on its own loop
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, main()).result()
