"""`MINSHENG_ENV=prod` refuses PostgreSQL settings that can lose committed work."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.db import Database
from shared.db.engine import UnsafeDurability, check_durability

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_durability_check_against_the_real_server(db: Database) -> None:
    async with db.transaction("intake") as conn:
        await check_durability(conn)  # the embedded server runs with fsync and sync commit on
        await conn.execute(text("SET LOCAL synchronous_commit = off"))
        with pytest.raises(UnsafeDurability, match="synchronous_commit=off"):
            await check_durability(conn)
