"""Who sees which case (architecture §2.6, 条例 Art. 30), the workbench queues and the
Chinese full-text search, against real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.db import Database
from shared.settings import Settings
from tests.casework_world import BASE, casework_world

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_scope_is_the_org_subtree_and_outside_is_404(
    settings: Settings, db: Database
) -> None:
    async with casework_world(settings, db) as w, casework_world(settings, db) as other:
        case_id = await w.register()
        ok = await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("officer"))
        assert ok.status_code == 200 and ok.json()["office_unit_id"] == w.units["office"]
        # the district government and the city above see it; a department not involved does not
        for who, status in [("gov_leader", 200), ("city_leader", 200), ("housing", 404),
                            ("discipline", 404)]:  # fmt: skip
            r = await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h(who))
            assert r.status_code == status, who
        # staff of another jurisdiction: 404 on reads and acts, and nothing in their lists
        r = await w.client.get(f"{BASE}/cases/{case_id}", headers=other.h("officer"))
        assert r.status_code == 404
        r = await w.client.post(f"{BASE}/cases/{case_id}/acts/accept",
                                json={"handling_path": "claim"}, headers=other.h("officer"))  # fmt: skip
        assert r.status_code == 404
        listed = await w.client.get(f"{BASE}/cases", headers=other.h("officer"))
        assert case_id not in [c["case_id"] for c in listed.json()["items"]]
        assert case_id in [c["case_id"] for c in
                           (await w.client.get(f"{BASE}/cases", headers=w.h("officer"))).json()["items"]]  # fmt: skip
        assert (
            await w.client.get(f"{BASE}/cases/not-a-uuid", headers=w.h("officer"))
        ).status_code == 404
        assert (await w.client.get(f"{BASE}/cases")).status_code == 401


async def test_accusations_reach_discipline_only_and_never_the_accused(
    settings: Settings, db: Database
) -> None:
    async with casework_world(settings, db) as w:
        case_id = await w.register(accusation=True, title="检举某局干部收受好处",
                                   content="住建局某科长收受物业公司好处费。")  # fmt: skip
        for who in ("officer", "office_lead", "gov_leader", "city_leader", "housing"):
            r = await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h(who))
            assert r.status_code == 404, who
            listed = (await w.client.get(f"{BASE}/cases", headers=w.h(who))).json()["items"]
            assert case_id not in [c["case_id"] for c in listed], who
        r = await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("discipline"))
        assert r.status_code == 200 and r.json()["office_unit_id"] == w.units["discipline"]
        # the discipline inspector does the office's part, and names the accused
        r = await w.act("discipline", case_id, "name_accused",
                        {"unit_ids": [w.units["discipline"]], "staff_ids": []})  # fmt: skip
        assert r.status_code == 200, r.text
        # the inspector's own unit is now accused: it no longer sees the case
        r = await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("discipline"))
        assert r.status_code == 404
        async with db.transaction("casework") as conn:
            paths = await conn.scalar(
                text("SELECT accused_paths FROM casework.case WHERE case_id::text = :c"),
                {"c": case_id},
            )
        assert paths and paths[0].endswith(w.units["discipline"] + "/")
        # no event of an accusation carries a public message the accused could be sent
        async with db.transaction("casework") as conn:
            flags = (await conn.execute(
                text("SELECT payload->>'accusation' FROM casework.outbox_event "
                     "WHERE aggregate_id = :c"), {"c": case_id})).scalars().all()  # fmt: skip
        assert flags and set(flags) == {"true"}


async def test_accused_person_never_sees_it(settings: Settings, db: Database) -> None:
    async with casework_world(settings, db) as w:
        case_id = await w.register(accusation=True)
        r = await w.act("discipline", case_id, "name_accused",
                        {"unit_ids": [], "staff_ids": [w.staff_ids["discipline"]]})  # fmt: skip
        assert r.status_code == 200, r.text
        r = await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("discipline"))
        assert r.status_code == 404


async def test_queues_and_search(settings: Settings, db: Database) -> None:
    async with casework_world(settings, db) as w:
        a = await w.register(title="电梯长期停运", content="小区3号楼电梯停运两周无人维修。")
        b = await w.register(title="物业乱收费", content="物业公司多收停车费。")
        c = await w.register(title="拖欠工资", content="某公司拖欠农民工工资三个月。",
                             category_code="C02.01.01")  # fmt: skip
        for case_id, unit, co in ((a, "housing", []), (b, "housing", []), (c, "hrss", ["housing"])):
            await w.act("officer", case_id, "accept", {"handling_path": "claim"})
            r = await w.act("officer", case_id, "assign",
                            {"mode": "assign", "lead_unit_id": w.units[unit],
                             "co_unit_ids": [w.units[u] for u in co]})  # fmt: skip
            assert r.status_code == 200, r.text

        async def ids(who: str, **params: object) -> list[str]:
            r = await w.client.get(f"{BASE}/cases", params=params, headers=w.h(who))
            assert r.status_code == 200, r.text
            return [x["case_id"] for x in r.json()["items"]]

        assert sorted(await ids("housing", queue="to_sign")) == sorted([a, b])
        assert await ids("hrss", queue="to_sign") == [c]
        await w.act("housing", a, "sign")
        assert await ids("housing", queue="to_sign") == [b]
        assert await ids("housing", queue="mine") == [a]
        # the unit's own cases and the one it helps with (协办)
        assert sorted(await ids("housing", queue="unit")) == sorted([a, b, c])
        assert await ids("hrss", queue="unit") == [c]
        assert len(await ids("housing", queue="unit", limit=2)) == 2
        # two-character words, in the title or the content, whatever jieba made of them
        assert await ids("officer", q="电梯") == [a]
        assert await ids("officer", q="停车") == [b]
        assert await ids("officer", q="工资") == [c]
        assert await ids("officer", q="拖欠工资") == [c]
        assert await ids("officer", q="维修 电梯") == [a]
        assert await ids("officer", q="不存在的词") == []
        assert sorted(await ids("officer", q="物业")) == [b]
        r = await w.client.get(f"{BASE}/cases", params={"q": "!!"}, headers=w.h("officer"))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "q"
        # cursor pagination visits every case once
        seen, cursor = [], None
        while True:
            params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            r = (await w.client.get(f"{BASE}/cases", params=params, headers=w.h("officer"))).json()
            seen += [x["case_id"] for x in r["items"]]
            cursor = r["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted([a, b, c])
        r = await w.client.get(
            f"{BASE}/cases", params={"cursor": "garbage"}, headers=w.h("officer")
        )
        assert r.status_code == 422
