"""The demo's oversight step (``minsheng.demo_oversight``) on a small world of its own: three
registered cases end up supervised (one replied in time), supervised and open, and owned by
a leader, evaluated and closed — through the real acts, with their events; a second run does
nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from minsheng.demo_oversight import Cast, load_oversight
from shared.db import Database
from shared.settings import Settings
from tests.casework_world import casework_world

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_demo_oversight_supervises_two_cases_and_gives_one_to_a_leader(
    settings: Settings, db: Database
) -> None:
    async with casework_world(settings, db) as w:
        await w.login_as("office", "supervisor")
        cases = [await w.register() for _ in range(3)]
        async with db.transaction("identity") as conn:
            names = dict(
                (await conn.execute(text("SELECT id::text, username FROM identity.staff"))).all()
            )
        cast = Cast(
            office=w.units["office"],
            officer=names[w.staff_ids["officer"]],
            supervisor=names[w.staff_ids["office:supervisor"]],
            leader=names[w.staff_ids["gov_leader"]],
            handlers={w.units["housing"]: names[w.staff_ids["housing"]]},
        )
        assert await load_oversight(db, settings, cast=cast, wait=0)

        assert [await w.status(c) for c in cases] == ["replied", "signed", "closed"]
        events = [await w.events(c) for c in cases]
        assert events[0].count("casework.case.supervised") == 1
        assert events[1].count("casework.case.supervised") == 1
        assert "casework.case.leader_assigned" in events[2]
        assert events[2][-2:] == ["casework.case.evaluated", "casework.case.closed"]
        assert "casework.case.supervised" not in events[2]
        async with db.transaction("casework") as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT case_id::text, unit_id, notice_no, met FROM casework.supervision "
                        "WHERE case_id = ANY(CAST(:c AS uuid[])) ORDER BY created_at"
                    ),
                    {"c": [uuid.UUID(c) for c in cases]},
                )
            ).all()
            leader = await conn.scalar(
                text("SELECT leader->>'leader_id' FROM casework.case WHERE case_id = :c"),
                {"c": uuid.UUID(cases[2])},
            )
        assert [tuple(r) for r in rows] == [
            (cases[0], w.units["office"], "宝信督〔2026〕1号", True),  # replied in time
            (cases[1], w.units["office"], None, None),  # still current
        ]
        assert leader == w.staff_ids["gov_leader"]
        assert "urge" in await w.history(cases[1])

        # once done, not again
        assert not await load_oversight(db, settings, cast=cast, wait=0)
        assert [await w.events(c) for c in cases] == events
