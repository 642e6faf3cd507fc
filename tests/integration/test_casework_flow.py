"""The statutory workflow through the staff API against real PostgreSQL: every path of
domain §2 — acceptance, refusal and diversion (approved), assignment, objection, unit
disputes, signing, contacts, replies (major ones approved), extensions, evaluation, closing,
review and re-examination — each recorded and each emitting its milestone."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from shared.db import Database
from shared.settings import Settings
from tests.casework_world import BASE, World, casework_world

pytestmark = pytest.mark.asyncio(loop_scope="session")

REPLY = {
    "summary": "经调查核实，停车管理费收取无依据，已责令退还。",
    "claims": [
        {
            "claim": "退还多收的停车管理费",
            "decision": "support",
            "facts": "物业公司自2025年起每月加收停车管理费",
            "basis": "《物业管理条例》第四十条",
        }
    ],
}


async def _to_in_progress(w: World) -> str:
    case_id = await w.register()
    assert (
        await w.act("officer", case_id, "accept", {"handling_path": "claim"})
    ).status_code == 200
    r = await w.act("officer", case_id, "assign",
                    {"mode": "assign", "lead_unit_id": w.units["housing"]})  # fmt: skip
    assert r.status_code == 200, r.text
    assert (await w.act("housing", case_id, "sign")).status_code == 200
    r = await w.act("housing", case_id, "contact", {"method": "phone", "reached": True})
    assert r.status_code == 200, r.text
    return case_id


async def test_the_whole_path_to_reexamination(settings: Settings, db: Database) -> None:
    async with casework_world(settings, db) as w:
        case_id = await _to_in_progress(w)
        assert await w.status(case_id) == "in_progress"
        r = await w.act("housing", case_id, "reply", REPLY)
        assert r.status_code == 200, r.text
        r = await w.act("officer", case_id, "evaluate",
                        {"unit_rating": "dissatisfied", "office_rating": "satisfied",
                         "reason": "退款未到账"})  # fmt: skip
        assert r.status_code == 200, r.text
        # 不满意: not closed until the 回访复核 (verify) has looked at it
        r = await w.act("officer", case_id, "close", {"resolved": False})
        assert r.status_code == 409 and r.json()["errors"][0]["code"] == "verification_pending"
        assert await w.status(case_id) == "evaluated"
        r = await w.act("officer", case_id, "verify", {"upheld": False, "finding": "已按规定退还"})
        assert r.status_code == 200 and r.json()["status"] == "evaluated", r.text
        assert (await w.act("officer", case_id, "close", {"resolved": False})).status_code == 200
        r = await w.act("registrar", case_id, "request_review", {"reason": "不服处理意见"})
        assert r.status_code == 200, r.text
        # the district government (the housing bureau's own government) reviews
        detail = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("gov_leader"))).json()
        assert detail["review_unit_id"] == w.units["gov"]
        assert "decide_review" in detail["allowed_acts"]
        review = {"outcome": "upheld", "opinion": "维持", "facts": "同上", "basis": "条例第35条"}
        # a leader of the city cannot decide a review that is the district's; nor can the
        # office that handled the case or the unit whose reply is reviewed (both under the
        # district government)
        for who in ("city_leader", "officer", "housing_lead"):
            r = await w.act(who, case_id, "decide_review", review)
            assert r.status_code == 403, (who, r.text)
            assert r.json()["errors"][0]["code"] == "not_your_unit"
        assert await w.status(case_id) == "review_requested"
        r = await w.act("gov_leader", case_id, "decide_review",
                        {"outcome": "upheld", "opinion": "维持原处理意见", "facts": "属实",
                         "basis": "《信访工作条例》第三十五条"})  # fmt: skip
        assert r.status_code == 200, r.text
        r = await w.act("registrar", case_id, "request_reexam", {"reason": "仍不服"})
        assert r.status_code == 200, r.text
        # the body that decided the 复查 neither re-examines it nor holds its hearing
        reexam = {"outcome": "upheld", "opinion": "维持", "facts": "同上", "basis": "条例第36条"}
        for act, body in (("pause", {"reason": "举行听证"}), ("decide_reexam", reexam)):
            for who in ("gov_leader", "officer", "housing_lead"):
                r = await w.act(who, case_id, act, body)
                assert r.status_code == 403, (who, act, r.text)
                assert r.json()["errors"][0]["code"] == "not_your_unit"
        assert await w.status(case_id) == "reexam_requested"
        assert (
            await w.act("city_leader", case_id, "pause", {"reason": "举行听证"})
        ).status_code == 200
        assert (
            await w.act("city_leader", case_id, "resume", {"reason": "听证结束"})
        ).status_code == 200
        r = await w.act("city_leader", case_id, "decide_reexam",
                        {"outcome": "upheld", "opinion": "维持复查意见", "facts": "属实",
                         "basis": "《信访工作条例》第三十六条"})  # fmt: skip
        assert r.status_code == 200, r.text
        assert await w.status(case_id) == "reexamined"
        assert await w.events(case_id) == [
            "casework.case.registered",
            "casework.case.accepted",
            "casework.case.assigned",
            "casework.case.signed",
            "casework.case.contacted",
            "casework.case.replied",
            "casework.case.evaluated",
            "casework.case.closed",
            "casework.case.review_requested",
            "casework.case.reviewed",
            "casework.case.review_requested",
            "casework.case.reviewed",
        ]
        detail = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("city_leader"))).json()
        assert detail["allowed_acts"] == ["note"]  # after 复核 nothing more
        kinds = {(c["kind"], c["stopped_at"] is not None) for c in detail["clocks"]}
        assert ("reexam", True) in kinds and ("handle", True) in kinds
        assert await w.history(case_id) == [
            "register", "accept", "assign", "sign", "contact", "reply", "evaluate", "verify",
            "close", "request_review", "decide_review", "request_reexam", "pause", "resume",
            "decide_reexam",
        ]  # fmt: skip
        # the same matter again after 复核: shown as final, and refused as 不再受理
        again = await w.register(prior=[case_id])
        shown = (await w.client.get(f"{BASE}/cases/{again}", headers=w.h("officer"))).json()
        assert shown["prior_cases"] == [
            {"case_id": case_id, "tracking_no": detail["tracking_no"], "status": "reexamined",
             "final": True}
        ]  # fmt: skip
        r = await w.act("officer", again, "refuse",
                        {"kind": "not_reaccepted", "reason": "同一事实和理由已经复核",
                         "where_to_go": "不再受理", "prior_case_id": case_id})  # fmt: skip
        assert r.status_code == 200 and r.json()["approval_id"]


async def test_refusal_needs_the_heads_approval_and_a_return_changes_nothing(
    settings: Settings, db: Database
) -> None:
    async with casework_world(settings, db) as w:
        case_id = await w.register()
        body = {"kind": "not_accepted", "reason": "不属于信访事项受理范围",
                "where_to_go": "请向人民法院提起诉讼"}  # fmt: skip
        r = await w.act("officer", case_id, "refuse", body)
        assert r.status_code == 200, r.text
        first = r.json()["approval_id"]
        assert first and await w.status(case_id) == "registered"
        # one pending request of a kind at a time
        assert (await w.act("officer", case_id, "refuse", body)).status_code == 409
        waiting = (await w.client.get(f"{BASE}/approvals", headers=w.h("office_lead"))).json()
        assert [a["id"] for a in waiting] == [first]
        assert (await w.client.get(f"{BASE}/approvals", headers=w.h("officer"))).json() == []
        # the officer cannot approve their own request
        r = await w.client.post(f"{BASE}/approvals/{first}/decision", json={"decision": "approve"},
                                headers=w.h("officer"))  # fmt: skip
        assert r.status_code in (403, 404)
        r = await w.client.post(f"{BASE}/approvals/{first}/decision",
                                json={"decision": "return", "comment": "理由不充分"},
                                headers=w.h("office_lead"))  # fmt: skip
        assert r.status_code == 200 and r.json()["state"] == "returned"
        assert await w.status(case_id) == "registered"
        second = (await w.act("officer", case_id, "refuse", body)).json()["approval_id"]
        r = await w.client.post(f"{BASE}/approvals/{second}/decision",
                                json={"decision": "approve"}, headers=w.h("office_lead"))  # fmt: skip
        assert r.status_code == 200, r.text
        assert await w.status(case_id) == "not_accepted"
        assert await w.events(case_id) == ["casework.case.registered", "casework.case.refused"]
        async with db.transaction("casework") as conn:
            actor = await conn.scalar(
                text("SELECT details->>'approved_by' FROM casework.case_history "
                     "WHERE case_id = :c AND action = 'refuse'"), {"c": uuid.UUID(case_id)})  # fmt: skip
        assert actor == w.staff_ids["office_lead"]


async def test_objection_returns_the_case_and_the_unit_loses_sight_of_it(
    settings: Settings, db: Database
) -> None:
    async with casework_world(settings, db) as w:
        case_id = await w.register()
        await w.act("officer", case_id, "accept", {"handling_path": "claim"})
        await w.act(
            "officer", case_id, "assign", {"mode": "transfer", "lead_unit_id": w.units["hrss"]}
        )
        assert (
            await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("hrss"))
        ).status_code == 200
        r = await w.act("hrss", case_id, "object", {"reason": "物业收费不属本局职责"})
        assert r.status_code == 200, r.text
        assert await w.status(case_id) == "accepted"
        assert (
            await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("hrss"))
        ).status_code == 404
        # the office disputes: the common superior (the district government) decides
        r = await w.act("officer", case_id, "dispute",
                        {"unit_ids": [w.units["housing"], w.units["hrss"]], "reason": "职责不清"})  # fmt: skip
        approval_id = r.json()["approval_id"]
        waiting = (await w.client.get(f"{BASE}/approvals", headers=w.h("gov_leader"))).json()
        assert [a["id"] for a in waiting] == [approval_id]
        r = await w.client.post(f"{BASE}/approvals/{approval_id}/decision",
                                json={"decision": "approve", "lead_unit_id": w.units["housing"]},
                                headers=w.h("gov_leader"))  # fmt: skip
        assert r.status_code == 200, r.text
        assert await w.status(case_id) == "assigned"
        detail = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("housing"))).json()
        assert detail["lead_unit_id"] == w.units["housing"] and detail["transfers"] == 2


async def test_reply_needs_contact_or_recorded_attempts_and_major_replies_are_approved(
    settings: Settings, db: Database
) -> None:
    async with casework_world(settings, db) as w:
        case_id = await w.register()
        await w.act("officer", case_id, "accept", {"handling_path": "claim", "major": True})
        await w.act(
            "officer", case_id, "assign", {"mode": "assign", "lead_unit_id": w.units["housing"]}
        )
        await w.act("housing", case_id, "sign")
        for _ in range(2):
            r = await w.act("housing", case_id, "contact", {"method": "phone", "reached": False})
            assert r.status_code == 200
        r = await w.act("housing", case_id, "reply", REPLY)
        assert r.status_code == 409 and r.json()["errors"][0]["code"] == "petitioner_not_contacted"
        await w.act("housing", case_id, "contact", {"method": "letter", "reached": False})
        r = await w.act("housing", case_id, "reply", REPLY)
        assert r.status_code == 200, r.text
        approval_id = r.json()["approval_id"]
        assert approval_id and await w.status(case_id) == "in_progress"
        r = await w.client.post(f"{BASE}/approvals/{approval_id}/decision",
                                json={"decision": "approve"}, headers=w.h("housing_lead"))  # fmt: skip
        assert r.status_code == 200, r.text
        assert await w.status(case_id) == "replied"


async def test_extension_is_bounded_approved_and_moves_the_clock(
    settings: Settings, db: Database
) -> None:
    async with casework_world(settings, db) as w:
        case_id = await _to_in_progress(w)
        r = await w.act("housing", case_id, "extend", {"days": 31, "reason": "复杂"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "days"
        before = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("housing"))).json()
        handle = next(c for c in before["clocks"] if c["kind"] == "handle")
        r = await w.act("housing", case_id, "extend", {"days": 30, "reason": "需多部门会商"})
        approval_id = r.json()["approval_id"]
        r = await w.client.post(f"{BASE}/approvals/{approval_id}/decision",
                                json={"decision": "approve"}, headers=w.h("housing_lead"))  # fmt: skip
        assert r.status_code == 200, r.text
        after = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("housing"))).json()
        extended = next(c for c in after["clocks"] if c["kind"] == "handle")
        assert extended["extended_days"] == 30 and extended["due_at"] > handle["due_at"]
        assert "casework.case.extended" in await w.events(case_id)


async def _approvals(w: World, case_id: str) -> list[tuple[str, str]]:
    async with w.db.transaction("casework") as conn:
        rows = await conn.execute(
            text("SELECT kind, state FROM casework.approval WHERE case_id = :c ORDER BY id"),
            {"c": uuid.UUID(case_id)},
        )
        return [(r[0], r[1]) for r in rows]


async def test_an_extension_past_30_days_in_all_is_refused_when_asked(
    settings: Settings, db: Database
) -> None:
    """延期 ≤ 30 days in all (Art. 34): a request that would pass it with what was granted or
    is still awaiting approval is refused at once, before any approval is queued."""
    async with casework_world(settings, db) as w:
        case_id = await _to_in_progress(w)
        r = await w.act("housing", case_id, "extend", {"days": 20, "reason": "需补充调查"})
        assert r.status_code == 200 and r.json()["approval_id"], r.text
        first = r.json()["approval_id"]
        # 20 awaiting approval + 15 > 30
        r = await w.act("housing", case_id, "extend", {"days": 15, "reason": "等待鉴定"})
        assert r.status_code == 422, r.text
        error = r.json()["errors"][0]
        assert (error["code"], error["field"]) == ("extension_too_long", "days")
        assert "待审批20日" in error["message"]
        assert await _approvals(w, case_id) == [("extend", "pending")]
        r = await w.client.post(f"{BASE}/approvals/{first}/decision",
                                json={"decision": "approve"}, headers=w.h("housing_lead"))  # fmt: skip
        assert r.status_code == 200, r.text
        # 20 granted + 20 > 30: refused as a request, nothing queued for the head
        history = await w.history(case_id)
        r = await w.act("housing", case_id, "extend", {"days": 20, "reason": "仍需时间"})
        assert r.status_code == 422, r.text
        error = r.json()["errors"][0]
        assert (error["code"], error["field"]) == ("extension_too_long", "days")
        assert error["message"].startswith("延长期限累计不得超过30日（已延长20日）")
        assert await _approvals(w, case_id) == [("extend", "approved")]
        assert await w.history(case_id) == history
        waiting = (await w.client.get(f"{BASE}/approvals", headers=w.h("housing_lead"))).json()
        assert [a for a in waiting if a["case_id"] == case_id] == []
        # up to the limit is still asked for and approved
        r = await w.act("housing", case_id, "extend", {"days": 10, "reason": "等待鉴定结论"})
        assert r.status_code == 200 and r.json()["approval_id"], r.text
        r = await w.client.post(f"{BASE}/approvals/{r.json()['approval_id']}/decision",
                                json={"decision": "approve"}, headers=w.h("housing_lead"))  # fmt: skip
        assert r.status_code == 200, r.text
        detail = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("housing"))).json()
        assert next(c for c in detail["clocks"] if c["kind"] == "handle")["extended_days"] == 30
        r = await w.act("housing", case_id, "extend", {"days": 1, "reason": "再延"})
        assert r.status_code == 422 and r.json()["errors"][0]["code"] == "extension_too_long"


async def test_forbidden_acts_change_nothing(settings: Settings, db: Database) -> None:
    async with casework_world(settings, db) as w:
        case_id = await w.register()
        before = await w.history(case_id)
        checks = [
            ("housing", "sign", {}, 404),  # not assigned to housing: cannot even see it
            ("officer", "sign", {}, 403),  # a petition officer does not sign for cases
            ("officer", "reply", REPLY, 403),
            ("officer", "close", {}, 409),  # registered: cannot close
            ("officer", "accept", {"handling_path": "nonsense"}, 422),
            ("officer", "accept", {"handling_path": "claim", "extra": 1}, 422),
            ("officer", "fly", {}, 404),
            ("analyst", "accept", {"handling_path": "claim"}, 403),
        ]
        for who, act, body, status in checks:
            r = await w.act(who, case_id, act, body)
            assert r.status_code == status, (who, act, r.text)
            assert r.json()["errors"][0]["code"]
        assert await w.history(case_id) == before
        assert await w.events(case_id) == ["casework.case.registered"]
        assert await w.status(case_id) == "registered"


async def test_withdrawal_ends_the_case_and_its_clocks_before_the_reply(
    settings: Settings, db: Database
) -> None:
    from services.casework.case import service
    from shared.events.intake import PetitionWithdrawnV1

    async with casework_world(settings, db) as w:
        case_id = await _to_in_progress(w)
        event = PetitionWithdrawnV1(case_id=case_id, tracking_no="T", by="petitioner",
                                    reason="已解决", withdrawn_at=w.clock.now())  # fmt: skip
        async with db.transaction("casework") as conn:
            assert await service.withdraw(conn, withdrawn=event, clock=w.clock)
        assert await w.status(case_id) == "withdrawn"
        detail = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("officer"))).json()
        assert detail["due_at"] is None and all(c["stopped_at"] for c in detail["clocks"])
        assert detail["allowed_acts"] == ["note"]
        assert (await w.act("housing", case_id, "reply", REPLY)).status_code == 409


async def test_withdrawal_after_the_reply_is_recorded_and_the_case_stands(
    settings: Settings, db: Database
) -> None:
    """Under 复查 (after the reply) a withdrawal or a 12345 cancellation ends nothing."""
    from services.casework.case import service
    from shared.events.intake import PetitionWithdrawnV1

    async with casework_world(settings, db) as w:
        case_id = await _to_in_progress(w)
        assert (await w.act("housing", case_id, "reply", REPLY)).status_code == 200
        r = await w.act("registrar", case_id, "request_review", {"reason": "不服处理意见"})
        assert r.status_code == 200, r.text
        events_before = await w.events(case_id)
        event = PetitionWithdrawnV1(case_id=case_id, tracking_no="T", by="hotline",
                                    reason="来电人撤单", withdrawn_at=w.clock.now())  # fmt: skip
        async with db.transaction("casework") as conn:
            assert not await service.withdraw(conn, withdrawn=event, clock=w.clock)
        assert await w.status(case_id) == "review_requested"
        assert await w.events(case_id) == events_before
        assert (await w.history(case_id))[-1] == "withdraw"


async def test_petitioners_dissatisfaction_is_verified_and_handled_again(
    settings: Settings, db: Database
) -> None:
    from services.casework.case import service
    from shared.events.notify import EvaluationRecordedV1

    async with casework_world(settings, db) as w:
        case_id = await _to_in_progress(w)
        assert (await w.act("housing", case_id, "reply", REPLY)).status_code == 200
        r = await w.act("officer", case_id, "verify", {"upheld": True, "finding": "x"})
        assert r.status_code == 409  # nothing rated yet
        rated = EvaluationRecordedV1(case_id=case_id, tracking_no="T", unit_rating="dissatisfied",
                                     office_rating="satisfied", reason="退款未到账",
                                     rated_at=w.clock.now(), channel="link")  # fmt: skip
        async with db.transaction("casework") as conn:
            await service.record_evaluation(conn, evaluated=rated, clock=w.clock)
        assert await w.status(case_id) == "evaluated"
        detail = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("officer"))).json()
        assert detail["evaluation"]["verification"] == "pending"
        assert detail["evaluation"]["by"] == "petitioner"
        r = await w.act("officer", case_id, "verify", {"upheld": True, "finding": "退款确未到账"})
        assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
        detail = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("officer"))).json()
        assert [c["kind"] for c in detail["clocks"] if c["stopped_at"] is None] == ["handle"]
        assert (await w.act("housing", case_id, "reply", REPLY)).status_code == 200
        # a satisfied rating of the new reply closes the loop without another verification
        again = rated.model_copy(update={"unit_rating": "satisfied", "reason": None})
        async with db.transaction("casework") as conn:
            await service.record_evaluation(conn, evaluated=again, clock=w.clock)
        detail = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("officer"))).json()
        assert detail["status"] == "evaluated" and "verification" not in detail["evaluation"]
        assert (await w.events(case_id)).count("casework.case.evaluated") == 2
        assert (await w.act("officer", case_id, "close", {"resolved": True})).status_code == 200


async def test_a_case_closes_only_after_its_evaluation(settings: Settings, db: Database) -> None:
    """replied ─► evaluated ─► closed (domain §2): never straight from the reply; an unrated
    case closes once its window passed (超期未评价, recorded as evaluated)."""
    from services.casework.case import service
    from shared.events.notify import EvaluationRecordedV1

    async with casework_world(settings, db) as w:
        rated, unrated = await _to_in_progress(w), await _to_in_progress(w)
        for case_id in (rated, unrated):
            assert (await w.act("housing", case_id, "reply", REPLY)).status_code == 200
            before = await w.history(case_id)
            r = await w.act("officer", case_id, "close", {"resolved": True})
            assert r.status_code == 409 and r.json()["errors"][0]["code"] == "invalid_transition"
            assert await w.status(case_id) == "replied" and await w.history(case_id) == before
            detail = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("officer"))).json()
            assert "close" not in detail["allowed_acts"]
        # the officer records the rating the petitioner gave by phone
        r = await w.act("officer", rated, "evaluate",
                        {"unit_rating": "satisfied", "office_rating": "satisfied"})  # fmt: skip
        assert r.status_code == 200, r.text
        # notify's expiry: 超期未评价
        expired = EvaluationRecordedV1(case_id=unrated, tracking_no="T", unit_rating="expired",
                                       office_rating="expired", rated_at=w.clock.now(),
                                       channel="expired")  # fmt: skip
        async with db.transaction("casework") as conn:
            await service.record_evaluation(conn, evaluated=expired, clock=w.clock)
        for case_id in (rated, unrated):
            assert await w.status(case_id) == "evaluated"
            r = await w.act("officer", case_id, "close", {"resolved": True})
            assert r.status_code == 200 and r.json()["status"] == "closed", r.text
            assert (await w.events(case_id))[-2:] == [
                "casework.case.evaluated",
                "casework.case.closed",
            ]


async def test_a_dissatisfied_case_is_not_closed_while_its_verification_is_pending(
    settings: Settings, db: Database
) -> None:
    """不满意 opens a 回访复核 (domain §3): the case is neither closed nor counted resolved
    until it is verified; not upheld, the office closes it."""
    async with casework_world(settings, db) as w:
        case_id = await _to_in_progress(w)
        assert (await w.act("housing", case_id, "reply", REPLY)).status_code == 200
        r = await w.act("officer", case_id, "evaluate",
                        {"unit_rating": "satisfied", "office_rating": "dissatisfied",
                         "reason": "态度敷衍"})  # fmt: skip
        assert r.status_code == 200, r.text
        before = await w.history(case_id)
        for resolved in (True, False):
            r = await w.act("officer", case_id, "close", {"resolved": resolved})
            assert r.status_code == 409, r.text
            error = r.json()["errors"][0]
            assert error["code"] == "verification_pending"
        assert await w.status(case_id) == "evaluated"
        assert await w.history(case_id) == before
        assert "casework.case.closed" not in await w.events(case_id)
        r = await w.act(
            "officer", case_id, "verify", {"upheld": False, "finding": "经核实已答复到位"}
        )
        assert r.status_code == 200, r.text
        r = await w.act("officer", case_id, "close", {"resolved": True})
        assert r.status_code == 200 and r.json()["status"] == "closed", r.text


async def test_review_is_decided_by_the_reviewing_body_itself(
    settings: Settings, db: Database
) -> None:
    """复查 / 复核 (and a hearing's pause) belong to the reviewing government itself: not its
    petition office, not a unit below it, and never a unit whose decision is under review —
    even when that unit is the reviewing body (here the district government named co-unit)."""
    async with casework_world(settings, db) as w:
        case_id = await w.register()
        await w.act("officer", case_id, "accept", {"handling_path": "claim"})
        r = await w.act("officer", case_id, "assign",
                        {"mode": "assign", "lead_unit_id": w.units["housing"],
                         "co_unit_ids": [w.units["gov"]]})  # fmt: skip
        assert r.status_code == 200, r.text
        await w.act("housing", case_id, "sign")
        await w.act("housing", case_id, "contact", {"method": "phone", "reached": True})
        assert (await w.act("housing", case_id, "reply", REPLY)).status_code == 200
        r = await w.act("registrar", case_id, "request_review", {"reason": "不服处理意见"})
        assert r.status_code == 200, r.text
        review = {"outcome": "upheld", "opinion": "维持", "facts": "同上", "basis": "条例第35条"}
        gov_officer = await w.login_as("gov", "petition_officer")
        for headers in (w.h("gov_leader"), gov_officer):
            r = await w.client.post(f"{BASE}/cases/{case_id}/acts/decide_review", json=review,
                                    headers=headers)  # fmt: skip
            assert r.status_code == 403 and r.json()["errors"][0]["code"] == "not_your_unit"
        assert await w.status(case_id) == "review_requested"

        # an ordinary case: the government's own staff decide; its petition office does not
        ordinary = await _to_in_progress(w)
        assert (await w.act("housing", ordinary, "reply", REPLY)).status_code == 200
        await w.act("registrar", ordinary, "request_review", {"reason": "不服"})
        office_lead = await w.act("office_lead", ordinary, "decide_review", review)
        assert office_lead.status_code == 403, office_lead.text
        r = await w.client.post(f"{BASE}/cases/{ordinary}/acts/decide_review", json=review,
                                headers=gov_officer)  # fmt: skip
        assert r.status_code == 200 and r.json()["status"] == "reviewed", r.text
        async with db.transaction("casework") as conn:
            unit = await conn.scalar(
                text("SELECT actor_unit_id FROM casework.case_history WHERE case_id = :c "
                     "AND action = 'decide_review'"), {"c": uuid.UUID(ordinary)})  # fmt: skip
        assert unit == w.units["gov"]


async def test_under_review_only_the_reviewing_body_extends_its_clock(
    settings: Settings, db: Database
) -> None:
    """The 复查 clock is the reviewing government's: the unit whose reply is reviewed may not
    ask to extend it; the reviewing body may (its head then approves)."""
    async with casework_world(settings, db) as w:
        case_id = await _to_in_progress(w)
        assert (await w.act("housing", case_id, "reply", REPLY)).status_code == 200
        r = await w.act("registrar", case_id, "request_review", {"reason": "不服处理意见"})
        assert r.status_code == 200, r.text
        ask = {"days": 10, "reason": "需补充调查"}
        for who in ("housing", "housing_lead", "officer"):
            r = await w.act(who, case_id, "extend", ask)
            assert r.status_code == 403, (who, r.text)
            assert r.json()["errors"][0]["code"] == "not_your_unit"
        r = await w.act("gov_leader", case_id, "extend", ask)
        assert r.status_code == 200, r.text
