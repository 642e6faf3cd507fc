"""Repeats found by analytics' own check (same person + same matter, no link from intake) are
in every figure: 重复件 / 初信初访, 重复信访率 and 一次性化解率; also when the history arrives
out of order (the earlier petition recorded after the later one). The rebuilt read model
equals the live one, and the rollups equal the sum over the facts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from services.analytics.metric.counters import GRAINS, contributions
from services.analytics.metric.definitions import RATES
from services.analytics.metric.rebuild import rebuild
from services.analytics.report import service as report_service
from shared.db import Database
from shared.events import casework as cw
from shared.events.intake import PetitionReceivedV1
from shared.settings import Settings
from tests.integration.test_analytics_metrics import (
    BAOAN,
    History,
    at,
    consumer,
    deliver,
    everyone,
    snapshot,
    totals,
)
from tests.integration.test_analytics_wiring_suggestions import LIFT, LIFT_AGAIN, WAGES

pytestmark = pytest.mark.asyncio(loop_scope="session")

WAGES_AGAIN = (
    "再次讨要工资",
    "某工地老板拖欠我们农民工工资已经半年多，多次讨要一直无果，请劳动监察部门帮助追讨工资。",
)


async def petition(
    h: History, name: str, when: datetime, words: tuple[str, str], person: str
) -> None:
    case = str(uuid.uuid4())
    h.cases[name] = {"id": case, "region": BAOAN, "category": "C01.01.01", "source": "citizen"}
    await h._pub(
        "intake",
        PetitionReceivedV1(
            case_id=case,
            tracking_no=f"T-{name}",
            source="citizen",
            channel="web",
            title=words[0],
            content=words[1],
            category_code="C01.01.01",
            region_code=BAOAN,
            received_at=when,
            person_keys=[person],
        ),
        case,
        when,
    )


async def rollups_are_the_sum_of_facts(db: Database) -> None:
    async with db.transaction("analytics") as conn:
        facts = [
            dict(r._mapping) for r in await conn.execute(text("SELECT * FROM analytics.case_fact"))
        ]
        want: dict[Any, dict[str, int]] = {}
        for f in facts:
            for key, c in contributions(f).items():
                row = want.setdefault(key, {})
                for k, v in c.items():
                    row[k] = row.get(k, 0) + v
        for grain in GRAINS:
            rows = await conn.execute(text(f"SELECT * FROM analytics.rollup_{grain}"))
            for r in rows:
                m = dict(r._mapping)
                key = (
                    grain,
                    (m["period"], m["region_code"], m["accusation"], m["dim"], m["value"]),
                )
                assert m["repeat"] == want.get(key, {}).get("repeat", 0), key
                assert m["first_petition"] == want.get(key, {}).get("first_petition", 0), key


async def test_detected_repeats_count_live_and_rebuilt(
    db: Database, settings: Settings, clean: None
) -> None:
    h = History(db)
    # A: resolved and closed on day 5; B, the same person on the same matter on day 20, with
    # no link from intake: a repeat, and A was not resolved at the first attempt
    await petition(h, "A", at(0), LIFT, "pk-1")
    await h.cw("A", cw.CaseRegisteredV1, at(0))
    await h.cw("A", cw.CaseAcceptedV1, at(1), handling_path="claim", on_time=True)
    await h.cw("A", cw.CaseClosedV1, at(5), resolved=True)
    await petition(h, "B", at(20), LIFT_AGAIN, "pk-1")
    await petition(h, "C", at(21), LIFT, "pk-2")  # someone else: a first petition
    # E received on day 25 but recorded after D (day 30): D is the repeat, E the first
    await petition(h, "D", at(30), WAGES_AGAIN, "pk-3")
    await petition(h, "E", at(25), WAGES, "pk-3")

    con = await consumer(db, settings)
    await deliver(con, [e for e in h.log if e.producer == "casework"])
    for env in [e for e in h.log if e.producer == "intake"]:
        await deliver(con, [env])  # one batch each: D is checked before E exists

    async with db.transaction("analytics") as conn:
        rows = await conn.execute(
            text("SELECT case_id, first_petition, earlier_repeats FROM analytics.case_repeat")
        )
        checks = {r.case_id: (r.first_petition, r.earlier_repeats) for r in rows}
    ids = {n: h.cases[n]["id"] for n in "ABCDE"}
    assert checks[ids["B"]] == (False, 1) and checks[ids["D"]] == (False, 1)
    assert checks[ids["A"]][0] and checks[ids["C"]][0] and checks[ids["E"]][0]

    c = (await totals(db, everyone()))["all"]
    assert (c["received"], c["repeat"], c["first_petition"]) == (5, 2, 3)
    assert (RATES["repeat"].numerator_of(c), RATES["repeat"].denominator_of(c)) == (2, 5)
    assert (c["resolved"], c["resolved_once"]) == (1, 0)  # B came 15 days after A closed
    [baoan] = (await totals(db, everyone(), "region")).values()
    assert (baoan["repeat"], baoan["first_petition"]) == (2, 3)
    await rollups_are_the_sum_of_facts(db)

    # the 日快报 of day 20 (12:00 the day before to 12:00) counts B as 重复件
    async with db.transaction("analytics") as conn:
        brief = await report_service.daily_brief(
            conn, everyone(), (at(20.2)).astimezone(report_service.SHANGHAI).date()
        )
    assert brief.volumes["repeat"] == 1 and brief.volumes["first_petition"] == 0
    assert ["重复信访" in i.reasons for i in brief.sensitive] == [True]

    live = await snapshot(db)
    result = await rebuild(db, page=3)
    assert result.events == len(h.log)
    assert await snapshot(db) == live
    c = (await totals(db, everyone()))["all"]
    assert (c["repeat"], c["first_petition"], c["resolved_once"]) == (2, 3, 0)
