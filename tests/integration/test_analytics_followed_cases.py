"""督办件按期率, 包案化解率 and 去市/赴省/进京 on a hand-built event history with known answers:
per unit and source, as of a given time, live == rebuild, and the 包案化解情况表."""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from services.analytics.metric import service
from services.analytics.metric.definitions import RATES
from services.analytics.metric.rebuild import rebuild
from services.analytics.report import xlsx
from shared.db import Database
from shared.events import casework as cw
from shared.events.intake import PetitionReceivedV1
from shared.settings import Settings
from tests.integration.test_analytics_api import token, unit
from tests.integration.test_analytics_metrics import (
    BAOAN,
    History,
    at,
    consumer,
    deliver,
    everyone,
    snapshot,
)
from tests.integration.test_analytics_reports_rendered import (  # noqa: F401  (fixtures)
    R,
    client,
    store_settings,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

START, END = date(2025, 1, 1), date(2025, 12, 31)
AS_OF = at(60)  # the time the figures are read at


async def visit(
    h: History,
    name: str,
    when: datetime,
    *,
    source: str,
    channel: str = "visit",
    people: int = 1,
    **kw: Any,
) -> None:
    case = str(uuid.uuid4())
    h.cases[name] = {"id": case, "region": BAOAN, "category": "C01.01.01", "source": source}
    await h._pub(
        "intake",
        PetitionReceivedV1(
            case_id=case,
            tracking_no=f"T-{name}",
            source=source,
            channel=channel,
            title=f"来访{name}",
            content="内容",
            category_code="C01.01.01",
            region_code=BAOAN,
            received_at=when,
            people_count=people,
            collective=people >= 5,
            **kw,
        ),
        case,
        when,
    )


async def build(h: History) -> None:
    reg, acc, asg = cw.CaseRegisteredV1, cw.CaseAcceptedV1, cw.CaseAssignedV1

    async def start(name: str, day: float, unit_id: str) -> None:
        await h.received(name, at(day))
        await h.cw(name, reg, at(day))
        await h.cw(name, acc, at(day + 1), handling_path="claim", on_time=True)
        await h.cw(name, asg, at(day + 2), mode="assign", lead_unit_id=unit_id)

    async def sup(name: str, sid: str, day: float, due: float) -> None:
        await h.cw(
            name,
            cw.CaseSupervisedV1,
            at(day),
            supervision_id=sid,
            supervising_unit_id="OFFICE",
            supervision_due_at=at(due),
            reason="督办",
            notice_no=f"督{sid}",
        )

    async def rep(name: str, day: float, stage: str = "reply") -> None:
        await h.cw(name, cw.CaseRepliedV1, at(day), stage=stage, decisions=["x"], on_time=True)

    # 督办 (as of day 60): S1 in time; S2 late; S3 supervised twice, the second reply late;
    # S4 twice, both in time; S5 open, due at day 100; S6 unanswered past its due; S7 only
    # replied before its supervision; S8 late, then supervised again and unanswered past due
    for name, unit_id in (("S1", "U1"), ("S2", "U1"), ("S3", "U1"), ("S8", "U1")):
        await start(name, 0, unit_id)
    for name in ("S4", "S5", "S6", "S7"):
        await start(name, 0, "U2")
    await sup("S1", "s1", 5, 15)
    await rep("S1", 10)
    await sup("S2", "s2", 5, 15)
    await rep("S2", 20)
    await sup("S3", "s3a", 5, 15)
    await rep("S3", 10)
    await sup("S3", "s3b", 30, 40)  # 回访复核: 不满意 upheld, handled again under supervision
    await rep("S3", 45)
    await sup("S4", "s4a", 5, 15)
    await rep("S4", 12)
    await sup("S4", "s4b", 20, 30)
    await rep("S4", 25, "review")
    await sup("S5", "s5", 5, 100)
    await sup("S6", "s6", 5, 15)
    await rep("S7", 3)
    await sup("S7", "s7", 5, 15)
    await sup("S8", "s8a", 5, 15)
    await rep("S8", 20)
    await sup("S8", "s8b", 30, 40)

    # 领导包案: L1 resolved by its deadline; L2 resolved late; L3 closed unresolved; L4 open
    # past its deadline; L5 withdrawn; L6 handed to a second leader with a later deadline;
    # N1 resolved without a leader
    async def lead(name: str, day: float, by: float, leader: str = "LDR1") -> None:
        await h.cw(
            name,
            cw.CaseLeaderAssignedV1,
            at(day),
            leader_id=leader,
            leader_name=f"{leader}领导",
            lead_unit_id="U3",
            handler_id="h",
            resolve_by=at(by),
            measures="稳控",
        )

    for name in ("L1", "L2", "L3", "L4", "L5", "L6", "N1"):
        await start(name, 1, "U3")
    for name in ("L1", "L2", "L3", "L4", "L5", "L6"):
        await lead(name, 3, 30)
    await h.cw("L1", cw.CaseClosedV1, at(20), resolved=True)
    await h.cw("L2", cw.CaseClosedV1, at(40), resolved=True)
    await h.cw("L3", cw.CaseClosedV1, at(25), resolved=False)
    await h.cw("L5", cw.CaseWithdrawnV1, at(6), withdrawn_at=at(6), by="citizen", public_message="")
    await lead("L6", 10, 90, "LDR2")
    await h.cw("N1", cw.CaseClosedV1, at(20), resolved=True)

    # 去市 / 赴省 / 进京
    await visit(h, "V1", at(2), source="visit")
    await visit(h, "V2", at(2), source="visit", people=7)
    await visit(h, "V3", at(2), source="province_assign", people=2)
    await visit(h, "V4", at(2), source="province_transfer", people=6)
    await visit(h, "V5", at(2), source="province_assign", channel="letter")
    await visit(
        h, "V6", at(2), source="assigned_from_above", external_ids={"national_case_no": "G1"}
    )
    await visit(
        h, "V7", at(2), source="province_transfer", people=5, source_category="国家信访局转送"
    )
    await visit(h, "V8", at(2), source="assigned_from_above")
    await visit(
        h, "V9", at(2), source="citizen", channel="web", external_ids={"national_case_no": "G2"}
    )
    # registered at a district's desk (not 去市) and at the city's desk (去市)
    await visit(h, "V10", at(2), source="visit", people=6, received_level="district")
    await visit(h, "V11", at(2), source="visit", people=2, received_level="city")


async def figures(db: Database, group: str = "none", as_of: datetime = AS_OF) -> dict[str, Any]:
    async with db.transaction("analytics") as conn:
        return await service.sum_counters(conn, everyone(), START, END, group, as_of=as_of)


def nonzero(groups: dict[str, Any]) -> dict[str, Any]:
    """The groups with any count (a live delta may leave a row of zeros behind)."""
    return {k: v for k, v in groups.items() if any(v.values())}


def rate(code: str, c: dict[str, float]) -> tuple[float, float]:
    r = RATES[code]
    return r.numerator_of(c), r.denominator_of(c)


async def test_followed_cases_and_visit_levels(
    db: Database, settings: Settings, clean: None
) -> None:
    h = History(db)
    await build(h)
    await deliver(await consumer(db, settings), h.log)
    c = (await figures(db))["all"]

    # 督办: on time S1 S4; late S2 S3 S8 (S8 once, though also unanswered past its second
    # due time); overdue (as of day 60) S6 S7; S5 not yet due
    assert c["supervised"] == 8
    assert (c["supervised_on_time"], c["supervised_late"], c["supervised_overdue"]) == (2, 3, 2)
    assert rate("supervised_on_time", c) == (2, 7)
    # as of day 10 nothing is overdue yet (the folded replies are the same)
    early = (await figures(db, as_of=at(10)))["all"]
    assert rate("supervised_on_time", early) == (2, 5)
    # and past S5's due time it joins the overdue
    late = (await figures(db, as_of=at(101)))["all"]
    assert rate("supervised_on_time", late) == (2, 8)
    by_unit = await figures(db, "unit")
    assert rate("supervised_on_time", by_unit["U1"]) == (1, 4)  # S1 of S1 S2 S3 S8
    assert rate("supervised_on_time", by_unit["U2"]) == (1, 3)  # S4 of S4 S6 S7
    assert by_unit["U2"]["supervised_overdue"] == 2 and by_unit["U2"]["supervised"] == 4
    by_day = await figures(db, "day")
    assert by_day["2025-03-03"]["supervised_overdue"] == 2

    # 包案: resolved L1 L2 of due L1 L2 L3 L4 L6 (L5 withdrawn); N1 not a 包案 case
    assert (c["leader_cases"], c["leader_due_close"], c["leader_closed"]) == (6, 5, 3)
    assert rate("leader_case_resolution", c) == (2, 5)
    assert (c["leader_resolved_by_due"], c["leader_overdue"]) == (1, 1)  # L1; L4
    assert rate("resolution", c)[0] == 3 + 0  # L1 L2 N1 (no S case closed)
    assert (await figures(db, "unit"))["U3"]["leader_cases"] == 6

    # 去市 V1 V2 (desk of no known level: as before) V11 (the city's desk); 赴省 V3 V4; 进京 V6
    # V7; V5 a letter, V8 no national marker, V9 online, V10 a district's desk
    assert (c["visit_city"], c["visit_city_people"]) == (3, 10)
    assert (c["visit_city_collective"], c["visit_city_collective_people"]) == (1, 7)
    assert (c["visit_province"], c["visit_province_people"]) == (2, 8)
    assert (c["visit_province_collective"], c["visit_province_collective_people"]) == (1, 6)
    assert (c["visit_national"], c["visit_national_people"]) == (2, 6)
    assert (c["visit_national_collective"], c["visit_national_collective_people"]) == (1, 5)
    assert (c["visit_collective_batches"], c["visit_collective_people"]) == (4, 24)  # with V10
    by_source = await figures(db, "source")
    assert by_source["visit"]["visit_city"] == 3 and by_source["visit"]["received"] == 4
    assert by_source["province_transfer"]["visit_province"] == 1
    assert by_source["province_transfer"]["visit_national"] == 1  # V7
    assert by_source["assigned_from_above"]["visit_national"] == 1  # V6, not V8

    # the metrics API's rows carry them with numerator and denominator
    async with db.transaction("analytics") as conn:
        rows = await service.metrics(conn, everyone(), settings, START, END, as_of=AS_OF)
    f = rows[0].rates["supervised_on_time"]
    assert (f.numerator, f.denominator, f.value) == (2, 7, pytest.approx(2 / 7))
    assert rows[0].rates["leader_case_resolution"].value == pytest.approx(0.4)
    assert rows[0].volumes["visit_national_people"] == 6


async def test_followed_cases_live_equals_rebuild(
    db: Database, settings: Settings, clean: None
) -> None:
    h = History(db)
    await build(h)
    con = await consumer(db, settings)
    # casework before intake, in small batches: producers do not order each other
    await deliver(con, [e for e in h.log if e.producer != "intake"], size=4)
    await deliver(con, [e for e in h.log if e.producer == "intake"], size=3)
    live, live_figures = await snapshot(db), nonzero(await figures(db, "unit"))
    await deliver(con, list(reversed(h.log)), size=9)  # duplicates: no-ops
    assert await snapshot(db) == live
    await rebuild(db, page=5)
    assert await snapshot(db) == live
    assert nonzero(await figures(db, "unit")) == live_figures
    assert live_figures["U2"]["supervised_overdue"] == 2
    assert rate("supervised_on_time", (await figures(db))["all"]) == (2, 7)


async def test_leader_cases_table(
    client: httpx.AsyncClient,  # noqa: F811
    db: Database,
    settings: Settings,
    clean: None,
) -> None:
    h = History(db)
    await build(h)
    await deliver(await consumer(db, settings), h.log)
    async with db.transaction("analytics") as conn:
        body = await xlsx.leader_cases_table(conn, everyone(), settings, START, END, AS_OF)
    wb = load_workbook(io.BytesIO(body))
    assert wb.sheetnames == ["包案化解情况表", "按地区", "按类别", "按责任单位"]
    cases = list(wb["包案化解情况表"].iter_rows(values_only=True))
    assert cases[1][:3] == ("序号", "信访事项", "案件编号")
    states = {r[2]: (r[5], r[9]) for r in cases[2:]}
    assert states == {
        "T-L1": ("LDR1领导", "已化解"),
        "T-L2": ("LDR1领导", "已化解"),
        "T-L3": ("LDR1领导", "已办结未化解"),
        "T-L4": ("LDR1领导", "逾期未化解"),
        "T-L5": ("LDR1领导", "已撤回"),
        "T-L6": ("LDR2领导", "在办"),  # the second leader, resolve_by day 90
    }
    units = list(wb["按责任单位"].iter_rows(values_only=True))
    assert units[1][:6] == (
        "分组",
        "包案件数",
        "已办结",
        "包案化解率分子（已化解）",
        "包案化解率分母（应化解）",
        "包案化解率",
    )
    assert [r[0] for r in units[2:]] == ["U3", "合计"]
    assert units[2][1:6] == (6, 3, 2, 5, "40.0%")
    assert units[2][8:10] == (1, 1)  # 按期化解 L1; 逾期未化解 L4
    assert units[-1][1:6] == (6, 3, 2, 5, "40.0%")

    # over HTTP, within the caller's jurisdiction
    analyst = await token(db, settings, await unit(db, "440306"), "analyst")
    luohu = await token(db, settings, await unit(db, "440303"), "analyst")
    q = {"start": "2025-01-01", "end": "2025-12-31"}
    r = await client.get(R + "/leader-cases.xlsx", params=q, headers=analyst)
    assert r.status_code == 200, r.text
    assert len(list(load_workbook(io.BytesIO(r.content))["包案化解情况表"].iter_rows())) == 8
    r = await client.get(R + "/leader-cases.xlsx", params=q, headers=luohu)
    assert len(list(load_workbook(io.BytesIO(r.content))["包案化解情况表"].iter_rows())) == 2


async def test_weekly_warning_names_overdue_supervisions_and_leader_cases(
    db: Database, settings: Settings, clean: None
) -> None:
    from services.analytics.report import document, render

    h = History(db)
    await build(h)
    await deliver(await consumer(db, settings), h.log)
    async with db.transaction("analytics") as conn:
        doc = await render.build(conn, "weekly", everyone(), settings, date(2025, 3, 9))
    html = document.html(doc)
    # read now (2026 or later): S5 S6 S7 unanswered past due (S8 counted late instead); L4 and
    # L6 past resolve_by, neither closed
    assert "督办逾期 3" in html and "包案逾期 2" in html
