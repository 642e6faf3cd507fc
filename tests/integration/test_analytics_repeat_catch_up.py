"""The worker's repeat index catches up with fingerprints other workers store, including one
whose transaction took its number before a later one committed (a hole in ``seq``), against
real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from services.analytics.suggestion.index import RepeatStore
from services.analytics.text.records import Petition
from services.analytics.text.repeats import fingerprint
from shared.db import Database

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _store(db: Database, seq: int, case_id: str) -> None:
    fp = fingerprint(Petition(case_id=case_id, title="小区噪音扰民", content="夜间施工噪音扰民"))
    async with db.transaction("analytics") as conn:
        await conn.execute(
            text(
                "INSERT INTO analytics.case_repeat (case_id, seq, fingerprint, first_petition, "
                "checked_at) OVERRIDING SYSTEM VALUE VALUES (:c, :s, :f, true, :t)"
            ),
            {"c": case_id, "s": seq, "f": fp.to_bytes(), "t": datetime.now(UTC)},
        )


async def test_a_number_committed_late_is_indexed(db: Database) -> None:
    async with db.transaction("analytics") as conn:
        top = await conn.scalar(text("SELECT coalesce(max(seq), 0) FROM analytics.case_repeat"))
    base = int(top) + 1_000_000  # clear of every other test's rows
    first, late, later = (f"hole-{uuid.uuid4()}" for _ in range(3))
    store = RepeatStore()
    store.seq = base  # as if loaded up to here

    await _store(db, base + 1, first)
    await _store(db, base + 3, later)  # base + 2 still open in another transaction
    async with db.transaction("analytics") as conn:
        assert await store.catch_up(conn) == 2
    assert store.seq == base + 3 and set(store.holes) == {base + 2}
    assert late not in store.index

    await _store(db, base + 2, late)  # it commits now, below the highest seq seen
    async with db.transaction("analytics") as conn:
        assert await store.catch_up(conn) == 1
    assert late in store.index and store.holes == {}
    async with db.transaction("analytics") as conn:
        assert await store.catch_up(conn) == 0  # nothing twice
