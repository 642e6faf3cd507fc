"""A search read through windows of the newest cases (``search_plan``) answers exactly what
the plain query answers — the same cases, in the same order, page after page, within the
caller's scope and never showing an accusation to the accused — against real PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from services.casework.case import queries, search, search_plan
from shared.db import Database
from shared.settings import Settings
from tests.casework_world import BASE, World, casework_world

pytestmark = pytest.mark.asyncio(loop_scope="session")

PHRASE = ("噪音扰民", "夜间施工噪音扰民，影响休息。")
OTHER = ("物业乱收费", "物业公司多收停车费。")
NEAR = ("噪音", "楼下商铺音响噪音很大，还有人扰民。")  # the words apart: not the phrase


async def _walk(w: World, who: str, q: str, limit: int, **filters: str) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": q, "limit": limit, **filters}
        if cursor:
            params["cursor"] = cursor
        r = await w.client.get(f"{BASE}/cases", params=params, headers=w.h(who))
        assert r.status_code == 200, r.text
        seen += [x["case_id"] for x in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return seen


async def test_windows_give_the_plain_answer(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with casework_world(settings, db) as w:
        phrase, other, near = [], [], []
        for i in range(30):
            kind = (PHRASE, OTHER, NEAR)[i % 3]
            case_id = await w.register(title=kind[0], content=kind[1])
            (phrase, other, near)[i % 3].append(case_id)
        hidden = await w.register(accusation=True, title=PHRASE[0], content=PHRASE[1])

        reads = 0  # windowed statements run
        short: list[int] = []  # the sizes of the windows that ended short of a page
        real_statement, real_next = queries._windowed_statement, search_plan.next_window

        def statement_spy(*shape: Any) -> Any:
            nonlocal reads
            reads += 1
            return real_statement(*shape)

        def next_spy(window: int, found: int, wanted: int) -> int:
            short.append(window)
            return real_next(window, found, wanted)

        monkeypatch.setattr(queries, "_windowed_statement", statement_spy)
        monkeypatch.setattr(search_plan, "next_window", next_spy)
        words = ("噪音扰民", "物业 停车", "噪音 扰民", "不存在的词语")
        monkeypatch.setattr(search_plan, "MIN_ROWS", 10**12)  # the plain query only
        plain = {(q, n): await _walk(w, "officer", q, n) for q in words for n in (1, 4, 25)}
        # a filter on the case's own columns: the window is the case table's ordered scan
        filtered = {
            n: await _walk(w, "officer", "噪音扰民", n, status="registered") for n in (1, 4)
        }
        assert reads == 0
        assert sorted(plain[("噪音扰民", 25)]) == sorted(phrase)
        assert sorted(plain[("噪音 扰民", 25)]) == sorted(phrase + near)
        assert plain[("不存在的词语", 25)] == []

        # every multi-term search through the windows: tiny ones, so that some pages fill
        # from a window, some from a larger one and some fall back to the plain query
        monkeypatch.setattr(search_plan, "MIN_ROWS", 0)
        monkeypatch.setattr(search_plan, "PROBE", 4)
        monkeypatch.setattr(search_plan, "WINDOW", 12)
        for (q, n), expected in plain.items():
            assert await _walk(w, "officer", q, n) == expected, (q, n)
        assert filtered[4] and sorted(filtered[4]) == sorted(phrase)
        for n, expected in filtered.items():
            assert await _walk(w, "officer", "噪音扰民", n, status="registered") == expected, n
        assert reads > len(short) > 0  # some pages from a window, some after a short one
        assert {4} < set(short)  # probes, and larger windows after them
        assert hidden not in await _walk(w, "officer", "噪音扰民", 1)
        # the discipline inspector sees the accusation, the same way in both plans
        assert await _walk(w, "discipline", "噪音扰民", 1) == [hidden]
        # another jurisdiction sees none of it
        async with casework_world(settings, db) as other_w:
            assert await _walk(other_w, "officer", "噪音扰民", 2) == []


async def test_the_signature_is_the_databases(settings: Settings, db: Database) -> None:
    """``search_plan.signature`` sets the very bits ``casework.search_signature`` sets, so a
    matching case is never passed over in the index; a case's stored signature holds the bits
    of every query that finds it."""
    texts = ["夜间施工噪音扰民，影响休息。", "Wi-Fi 信号差 5G 基站", "物业", "楼", "a'b\\\\c 引号"]
    async with db.transaction("casework") as conn:
        for t in texts:
            lexemes = search.lexemes(t)
            stored = await conn.scalar(
                text("SELECT casework.search_signature(array_to_tsvector(:l))::text"),
                {"l": lexemes},
            )
            assert stored == search_plan.signature(lexemes), t
            assert stored.count("1") >= 1
        assert await conn.scalar(
            text("SELECT casework.search_signature(array_to_tsvector(CAST(:l AS text[])))::text"),
            {"l": []},
        ) == search_plan.signature([])
    assert search_plan.signature(["楼:*"]) == "0" * search_plan.SIGNATURE_BITS
    async with casework_world(settings, db) as w:
        case_id = await w.register(title=PHRASE[0], content=PHRASE[1])
        async with db.transaction("casework") as conn:
            sig = await conn.scalar(
                text("SELECT search_sig::text FROM casework.case_signature WHERE case_id = :c"),
                {"c": case_id},
            )
        for q in ("噪音扰民", "施工 休息", "扰民"):
            bits = search_plan.signature_bits(search.query_terms(q))
            assert bits and all(sig[b] == "1" for b in bits), q
        # the trigger follows the case: a new updated_at moves the row, new lexemes re-sign it
        same = "SELECT s.updated_at = c.updated_at AND s.search_sig::text = :sig FROM "
        same += 'casework.case_signature s JOIN casework."case" c USING (case_id) '
        same += "WHERE case_id = :c"
        async with db.transaction("casework") as conn:
            await conn.execute(
                text(
                    "UPDATE casework.\"case\" SET updated_at = updated_at + interval '1 hour' "
                    "WHERE case_id = :c"
                ),
                {"c": case_id},
            )
            assert await conn.scalar(text(same), {"c": case_id, "sig": sig})
            await conn.execute(
                text(
                    "UPDATE casework.\"case\" SET search = array_to_tsvector(ARRAY['新词']) "
                    "WHERE case_id = :c"
                ),
                {"c": case_id},
            )
            new_sig = search_plan.signature(["新词"])
            assert await conn.scalar(text(same), {"c": case_id, "sig": new_sig})
            assert await conn.scalar(
                text(
                    'SELECT (SELECT count(*) FROM casework."case") = '
                    "(SELECT count(*) FROM casework.case_signature)"
                )
            )


async def test_a_window_that_holds_the_page_answers_alone(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signature passes every match: a window holding a page of matches answers it
    without a second window or the plain query."""
    async with casework_world(settings, db) as w:
        phrase = [await w.register(title=PHRASE[0], content=PHRASE[1]) for _ in range(5)]
        for kind in (OTHER, NEAR, OTHER):
            await w.register(title=kind[0], content=kind[1])
        more: list[int] = []
        real = search_plan.next_window

        def spy(window: int, found: int, wanted: int) -> int:
            more.append(found)
            return real(window, found, wanted)

        monkeypatch.setattr(search_plan, "next_window", spy)
        monkeypatch.setattr(search_plan, "MIN_ROWS", 0)
        monkeypatch.setattr(search_plan, "PROBE", 1000)
        r = await w.client.get(
            f"{BASE}/cases", params={"q": "噪音扰民", "limit": 4}, headers=w.h("officer")
        )
        assert r.status_code == 200, r.text
        page = [x["case_id"] for x in r.json()["items"]]
        assert len(page) == 4 and set(page) <= set(phrase) and r.json()["next_cursor"]
        assert more == []  # the first window held the page (and one more match)
        assert sorted(await _walk(w, "officer", "噪音扰民", 4)) == sorted(phrase)
