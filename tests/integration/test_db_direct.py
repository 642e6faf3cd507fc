"""``shared.db.direct.fetch``: statements straight through asyncpg stay inside the caller's
SQLAlchemy transaction — committed with it, rolled back with it, even as its first
statement — and refuse to run outside one."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from shared.db import Database
from shared.db.direct import fetch

pytestmark = pytest.mark.asyncio(loop_scope="session")

_INSERT = text("INSERT INTO intake.person (person_id) VALUES (:p) RETURNING person_id")
_COUNT = text("SELECT count(*) FROM intake.person WHERE person_id = ANY(CAST(:ids AS uuid[]))")


async def _stored(db: Database, *ids: uuid.UUID) -> int:
    async with db.transaction("intake") as conn:
        return int((await conn.execute(_COUNT, {"ids": list(ids)})).scalar_one())


async def test_the_first_statement_of_a_transaction_is_rolled_back_with_it(db: Database) -> None:
    person = uuid.uuid4()
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction("intake") as conn:
            rows = await fetch(conn, _INSERT, {"p": person})
            assert rows[0]["person_id"] == person
            raise RuntimeError("boom")
    assert await _stored(db, person) == 0


async def test_committed_with_the_transaction_mixed_with_sqlalchemy(db: Database) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    async with db.transaction("intake") as conn:
        await fetch(conn, _INSERT, {"p": first})
        await conn.execute(text("INSERT INTO intake.person (person_id) VALUES (:p)"), {"p": second})
        # both visible inside the transaction, whichever way each went in
        assert (await fetch(conn, _COUNT, {"ids": [first, second]}))[0][0] == 2
    assert await _stored(db, first, second) == 2


async def test_a_name_used_twice_gets_its_value_twice(db: Database) -> None:
    async with db.transaction("intake") as conn:
        rows = await fetch(conn, text("SELECT CAST(:x AS int) + CAST(:x AS int) AS y"), {"x": 21})
    assert rows[0]["y"] == 42


async def test_refused_outside_a_transaction(db: Database) -> None:
    async with db.engine("intake").connect() as conn:
        with pytest.raises(RuntimeError, match=r"inside Database\.transaction"):
            await fetch(conn, _COUNT, {"ids": []})
