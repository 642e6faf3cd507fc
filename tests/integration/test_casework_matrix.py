"""The authorisation matrix of the staff API: every endpoint × every staff role × a unit in
scope and out of scope, on ordinary and accusation cases. The expectations are written out
from the rules (architecture §2.6, domain §2, 条例 Art. 30), not computed by the code under
test: out of scope is 404, a missing role or the wrong unit 403, an accusation is seen by
discipline inspectors only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from shared.db import Database
from shared.identity.roles import STAFF_ROLES
from shared.settings import Settings
from tests.casework_world import BASE, World, casework_world

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROLES = sorted(STAFF_ROLES)
UNITS = ["office", "gov", "housing", "discipline"]  # of the case's world
OTHER = "elsewhere"  # the same roles in another county's office


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def worlds(settings: Settings) -> AsyncIterator[tuple[World, World]]:
    """One pair of worlds for the module: staff logins are made once per cell."""
    db = Database(settings, pool_size=4)
    try:
        async with casework_world(settings, db) as w, casework_world(settings, db) as other:
            yield w, other
    finally:
        await db.dispose()


async def _matrix(w: World, other: World, check, units: list[str] = UNITS) -> list[str]:  # type: ignore[no-untyped-def]
    """Run ``check(headers, unit, role)`` for every cell; returns the cells that differed."""
    wrong = []
    for unit in [*units, OTHER]:
        for role in ROLES:
            headers = (
                await other.login_as("office", role)
                if unit == OTHER
                else await w.login_as(unit, role)
            )
            got, expected = await check(headers, unit, role)
            if got != expected:
                wrong.append(f"{unit}:{role} got {got}, expected {expected}")
    return wrong


def _sees_ordinary(unit: str, role: str) -> bool:
    return unit in ("office", "gov")  # the office and the government above it; every role


def _sees_accusation(unit: str, role: str) -> bool:
    return unit in ("discipline", "gov") and role == "discipline_inspector"


@pytest.mark.parametrize("accusation", [False, True])
async def test_reading_a_case(worlds: tuple[World, World], accusation: bool) -> None:
    w, other = worlds
    case_id = await w.register(accusation=accusation)
    sees = _sees_accusation if accusation else _sees_ordinary

    async def check(headers, unit, role):  # type: ignore[no-untyped-def]
        detail = await w.client.get(f"{BASE}/cases/{case_id}", headers=headers)
        route = await w.client.get(f"{BASE}/cases/{case_id}/route", headers=headers)
        listed = await w.client.get(f"{BASE}/cases", headers=headers)
        in_list = case_id in [c["case_id"] for c in listed.json()["items"]]
        want = 200 if sees(unit, role) else 404
        return (detail.status_code, route.status_code, in_list), (want, want, want == 200)

    assert await _matrix(w, other, check) == []


@pytest.mark.parametrize("accusation", [False, True])
async def test_accepting_a_case(worlds: tuple[World, World], accusation: bool) -> None:
    w, other = worlds

    async def check(headers, unit, role):  # type: ignore[no-untyped-def]
        case_id = await w.register(accusation=accusation)
        r = await w.client.post(f"{BASE}/cases/{case_id}/acts/accept",
                                json={"handling_path": "claim"}, headers=headers)  # fmt: skip
        if accusation:
            # the discipline unit does the office's part; a government above it sees the
            # case but is not the unit that accepts it
            want = (200 if unit == "discipline" else 403) if _sees_accusation(unit, role) else 404
        elif not _sees_ordinary(unit, role):
            want = 404
        else:
            want = 200 if (unit, role) == ("office", "petition_officer") else 403
        return r.status_code, want

    assert await _matrix(w, other, check) == []


async def test_signing_for_a_case(worlds: tuple[World, World]) -> None:
    w, other = worlds

    async def check(headers, unit, role):  # type: ignore[no-untyped-def]
        case_id = await w.register()
        await w.act("officer", case_id, "accept", {"handling_path": "claim"})
        r = await w.act("officer", case_id, "assign",
                        {"mode": "assign", "lead_unit_id": w.units["housing"]})  # fmt: skip
        assert r.status_code == 200
        r = await w.client.post(f"{BASE}/cases/{case_id}/acts/sign", json={}, headers=headers)
        if unit in ("discipline", OTHER):
            want = 404
        elif unit == "housing" and role in ("handler", "unit_lead"):
            want = 200
        else:
            want = 403  # sees it (office, government, the unit) but may not sign
        return r.status_code, want

    assert await _matrix(w, other, check) == []


async def test_supervising_a_case(worlds: tuple[World, World]) -> None:
    """督办 and 催办: petition-office staff (officers, supervisors) of the case's office or of a
    body above it; the handling unit sees the case but does not supervise itself."""
    w, other = worlds
    case_id = await w.register()
    await w.act("officer", case_id, "accept", {"handling_path": "claim"})
    r = await w.act("officer", case_id, "assign",
                    {"mode": "assign", "lead_unit_id": w.units["housing"]})  # fmt: skip
    assert r.status_code == 200

    async def check(headers, unit, role):  # type: ignore[no-untyped-def]
        got = []
        for act in ("supervise", "urge"):
            r = await w.client.post(f"{BASE}/cases/{case_id}/acts/{act}",
                                    json={"reason": "请限期办结"}, headers=headers)  # fmt: skip
            got.append(r.status_code)
        if unit in ("discipline", OTHER):
            want = 404
        elif unit in ("office", "gov") and role in ("petition_officer", "supervisor"):
            want = 200
        else:
            want = 403  # sees it (office, government, the handling unit) but may not
        return tuple(got), (want, want)

    assert await _matrix(w, other, check) == []


async def test_taking_charge_of_a_case(worlds: tuple[World, World]) -> None:
    """领导包案: a leader of any unit that sees the case."""
    w, other = worlds
    case_id = await w.register()
    await w.act("officer", case_id, "accept", {"handling_path": "claim"})
    r = await w.act("officer", case_id, "assign",
                    {"mode": "assign", "lead_unit_id": w.units["housing"]})  # fmt: skip
    assert r.status_code == 200

    async def check(headers, unit, role):  # type: ignore[no-untyped-def]
        r = await w.client.post(f"{BASE}/cases/{case_id}/acts/take_charge",
                                json={"days": 30, "measures": "专人稳控"}, headers=headers)  # fmt: skip
        if unit in ("discipline", OTHER):
            want = 404
        else:
            want = 200 if role == "leader" else 403
        return r.status_code, want

    assert await _matrix(w, other, check) == []


REVIEWERS = {"unit_lead", "leader", "petition_officer"}
REVIEW_UNITS = ["city", *UNITS]  # the city government sees every case of its district
REPLY = {
    "summary": "经调查核实，已责令退还。",
    "claims": [{"claim": "退还多收的费用", "decision": "support", "facts": "属实",
                "basis": "《物业管理条例》第四十条"}],
}  # fmt: skip


async def _under_review(w: World, *, reexam: bool) -> str:
    """A case replied to by the housing bureau (assigned by the district office) and under
    复查 by the district government — or, with ``reexam``, decided there and under 复核 by
    the city government."""
    case_id = await w.register()
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("officer", "accept", {"handling_path": "claim"}),
        ("officer", "assign", {"mode": "assign", "lead_unit_id": w.units["housing"]}),
        ("housing", "sign", {}),
        ("housing", "contact", {"method": "phone", "reached": True}),
        ("housing", "reply", REPLY),
        ("registrar", "request_review", {"reason": "不服处理意见"}),
    ]
    if reexam:
        steps += [
            ("gov_leader", "decide_review", {"outcome": "upheld", "opinion": "维持",
                                             "facts": "属实", "basis": "条例第35条"}),
            ("registrar", "request_reexam", {"reason": "仍不服"}),
        ]  # fmt: skip
    for who, act, body in steps:
        r = await w.act(who, case_id, act, body)
        assert r.status_code == 200, (act, r.text)
    return case_id


def _review_want(unit: str, role: str, review_unit: str) -> tuple[int, str | None]:
    """Written out from domain §2: the reviewing body itself, with a reviewer's role; the
    office and the housing bureau (whose decisions are reviewed) and, under 复核, the district
    government (which decided the 复查) see the case but may not decide."""
    if unit in ("discipline", OTHER):
        return 404, "not_found"
    if role not in REVIEWERS:
        return 403, "role_required"
    return (200, None) if unit == review_unit else (403, "not_your_unit")


def _outcome(r: Any) -> tuple[int, str | None]:
    return r.status_code, (None if r.status_code == 200 else r.json()["errors"][0]["code"])


async def test_deciding_a_review(worlds: tuple[World, World]) -> None:
    """复查: the district government decides (the housing bureau's own government)."""
    w, other = worlds
    current: list[str] = []
    body = {"outcome": "upheld", "opinion": "维持", "facts": "属实", "basis": "条例第35条"}

    async def check(headers, unit, role):  # type: ignore[no-untyped-def]
        if not current:
            current.append(await _under_review(w, reexam=False))
        case_id = current[0]
        r = await w.client.post(f"{BASE}/cases/{case_id}/acts/decide_review", json=body,
                                headers=headers)  # fmt: skip
        if r.status_code == 200:
            current.clear()  # decided: the next cell gets a case of its own
        return _outcome(r), _review_want(unit, role, "gov")

    assert await _matrix(w, other, check, REVIEW_UNITS) == []


async def test_hearing_and_deciding_a_reexamination(worlds: tuple[World, World]) -> None:
    """复核 and its hearing (pause / resume of the clock): the city government decides; the
    district government, which decided the 复查, may not."""
    w, other = worlds
    current: list[str] = []
    body = {"outcome": "upheld", "opinion": "维持", "facts": "属实", "basis": "条例第36条"}

    async def check(headers, unit, role):  # type: ignore[no-untyped-def]
        if not current:
            current.append(await _under_review(w, reexam=True))
        case_id = current[0]
        got = []
        for act, json in (("pause", {"reason": "举行听证"}), ("resume", {"reason": "听证结束"}),
                          ("decide_reexam", body)):  # fmt: skip
            r = await w.client.post(f"{BASE}/cases/{case_id}/acts/{act}", json=json,
                                    headers=headers)  # fmt: skip
            got.append(_outcome(r))
        if got[-1][0] == 200:
            current.clear()
        want = _review_want(unit, role, "city")
        return tuple(got), (want, want, want)

    assert await _matrix(w, other, check, REVIEW_UNITS) == []


async def test_deciding_an_approval(worlds: tuple[World, World]) -> None:
    w, other = worlds

    async def check(headers, unit, role):  # type: ignore[no-untyped-def]
        case_id = await w.register()
        r = await w.act("officer", case_id, "refuse",
                        {"kind": "not_accepted", "reason": "不属受理范围",
                         "where_to_go": "向法院起诉"})  # fmt: skip
        approval_id = r.json()["approval_id"]
        waiting = await w.client.get(f"{BASE}/approvals", headers=headers)
        listed = approval_id in [a["id"] for a in waiting.json()]
        r = await w.client.post(f"{BASE}/approvals/{approval_id}/decision",
                                json={"decision": "return", "comment": "再核"},
                                headers=headers)  # fmt: skip
        if unit != "office":
            want = (404, False)  # not their unit's approval
        elif role in ("unit_lead", "leader"):
            want = (200, True)
        else:
            want = (403, False)
        return (r.status_code, listed), want

    assert await _matrix(w, other, check) == []


async def test_unit_wide_endpoints(worlds: tuple[World, World]) -> None:
    w, other = worlds

    async def check(headers, unit, role):  # type: ignore[no-untyped-def]
        rule = await w.client.post(f"{BASE}/routing-rules", headers=headers,
                                   json={"region_prefix": w.county, "category_prefix": "C01",
                                         "lead_unit_id": w.units["housing"]})  # fmt: skip
        rules = await w.client.get(f"{BASE}/routing-rules", headers=headers)
        handover = await w.client.post(f"{BASE}/handovers", headers=headers,
                                       json={"from_staff_id": w.staff_ids["housing"],
                                             "to_staff_id": w.staff_ids["housing"],
                                             "reason": "调岗"})  # fmt: skip
        holidays = await w.client.put(f"{BASE}/holidays/2099", headers=headers,
                                      json={"source": "测试", "days": []})  # fmt: skip
        due = await w.client.get(f"{BASE}/deadline", headers=headers,
                                 params={"start": "2025-09-28T10:00:00+08:00", "days": 15})  # fmt: skip
        got = (rule.status_code, rules.status_code, handover.status_code,
               holidays.status_code, due.status_code)  # fmt: skip
        want = (
            201 if role in ("admin", "petition_officer") else 403,
            200,
            # a unit head hands over between handlers of their own unit only
            (200 if unit == "housing" else 422) if role == "unit_lead" else 403,
            200 if role == "admin" else 403,
            200,
        )
        return got, want

    assert await _matrix(w, other, check) == []

    r = await w.client.get(f"{BASE}/cases")
    assert r.status_code == 401


ISSUERS = {"petition_officer", "handler", "unit_lead", "leader", "discipline_inspector"}
DELIVERERS = {"petition_officer", "handler", "unit_lead", "registrar", "discipline_inspector"}


@pytest.mark.parametrize("accusation", [False, True])
async def test_notices(worlds: tuple[World, World], accusation: bool) -> None:
    """Notices (告知书): the list, a draft, issuing one, its file and its delivery record —
    404 outside the case's scope for every role, then 403 for a role that may not."""
    w, other = worlds
    case_id = await w.register(accusation=accusation)
    owner = "discipline" if accusation else "officer"
    r = await w.act(owner, case_id, "accept", {"handling_path": "accusation" if accusation
                                               else "claim"})  # fmt: skip
    assert r.status_code == 200, r.text
    url = f"{BASE}/cases/{case_id}/notices"
    draft = await w.client.get(f"{url}/draft", params={"kind": "accept"}, headers=w.h(owner))
    assert draft.status_code == 200, draft.text
    context = {**draft.json()["context"], "contact": "0755-00000000"}
    sees = _sees_accusation if accusation else _sees_ordinary

    async def issue(headers: dict[str, str]) -> Any:
        return await w.client.post(url, json={"kind": "accept", "context": context},
                                   headers=headers)  # fmt: skip

    shared = await issue(w.h(owner))  # for the cells that cannot deliver it
    assert shared.status_code == 201, shared.text

    async def check(headers, unit, role):  # type: ignore[no-untyped-def]
        listed = await w.client.get(url, headers=headers)
        drafted = await w.client.get(f"{url}/draft", params={"kind": "accept"}, headers=headers)
        issued = await issue(headers)
        if issued.status_code == 201:
            notice = issued.json()["id"]  # their own, not delivered yet
        elif sees(unit, role) and role in DELIVERERS:
            notice = (await issue(w.h(owner))).json()["id"]  # a fresh one for them
        else:
            notice = shared.json()["id"]
        pdf = await w.client.get(f"{BASE}/notices/{notice}.pdf", headers=headers)
        delivered = await w.client.post(
            f"{BASE}/notices/{notice}/delivery",
            json={"method": "in_person", "outcome": "signed", "at": "2030-01-01T10:00:00+08:00"},
            headers=headers,
        )
        got = (listed.status_code, drafted.status_code, issued.status_code, pdf.status_code,
               delivered.status_code)  # fmt: skip
        if not sees(unit, role):
            return got, (404,) * 5
        return got, (
            200,
            200 if role in ISSUERS else 403,
            201 if role in ISSUERS else 403,
            200,
            200 if role in DELIVERERS else 403,
        )

    assert await _matrix(w, other, check) == []
