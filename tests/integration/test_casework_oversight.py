"""Oversight acts against real PostgreSQL: 督办 (supervise) with its own deadline counted on
the holiday calendar, 催办 (urge), 领导包案 (take_charge), and the 回访复核 that puts a case
back under supervision — each recorded, guarded by role, scope and state, and each
(except 催办) emitting its internal milestone with the fields analytics reads."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from services.casework.case import acts
from services.casework.org import directory
from shared.api.errors import ApiError
from shared.clock import SHANGHAI, FixedClock
from shared.db import Database
from shared.identity.principal import Principal
from shared.settings import Settings
from tests.casework_world import BASE, World, casework_world
from tests.integration.test_casework_flow import REPLY, _to_in_progress

pytestmark = pytest.mark.asyncio(loop_scope="session")

SUPERVISED = "casework.case.supervised"
LEADER_ASSIGNED = "casework.case.leader_assigned"


async def _payloads(w: World, case_id: str, type_: str) -> list[dict[str, Any]]:
    async with w.db.transaction("casework") as conn:
        rows = await conn.execute(
            text(
                "SELECT payload FROM casework.outbox_event WHERE aggregate_id = :c AND type = :t "
                "ORDER BY aggregate_seq"
            ),
            {"c": case_id, "t": type_},
        )
        return [r[0] for r in rows]


async def _internal(w: World, case_id: str, who: str = "officer") -> list[dict[str, Any]]:
    detail = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h(who))).json()
    return list(detail["internal"])


async def _detail(w: World, case_id: str, who: str = "officer") -> dict[str, Any]:
    r = await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _listed(w: World, who: str, **params: Any) -> set[str]:
    found: set[str] = set()
    cursor = None
    while True:
        query = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        r = await w.client.get(f"{BASE}/cases", params=query, headers=w.h(who))
        assert r.status_code == 200, r.text
        found |= {c["case_id"] for c in r.json()["items"]}
        cursor = r.json()["next_cursor"]
        if not cursor:
            return found


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_supervision_is_recorded_emitted_shown_and_ends_with_the_reply(
    settings: Settings, db: Database
) -> None:
    async with casework_world(settings, db) as w:
        case_id = await _to_in_progress(w)
        plain = await _to_in_progress(w)
        before = await w.events(case_id)
        r = await w.act("officer", case_id, "supervise",
                        {"reason": "群众多次来访，联系人电话13800138000，请限期办结", "days": 5,
                         "notice_no": "督〔2026〕1号"})  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "in_progress" and r.json()["approval_id"] is None
        assert await w.status(case_id) == "in_progress"
        assert await w.events(case_id) == [*before, SUPERVISED]
        [event] = await _payloads(w, case_id, SUPERVISED)
        assert event["case_id"] == case_id
        assert event["status"] == "in_progress"
        assert event["actor"] == w.staff_ids["officer"]
        assert event["unit_id"] == w.units["office"]
        assert event["supervising_unit_id"] == w.units["office"]
        assert event["notice_no"] == "督〔2026〕1号"
        assert "13800138000" not in event["reason"] and "138****8000" in event["reason"]
        assert event["public_message"] is None  # internal: nothing goes to the petitioner
        uuid.UUID(event["supervision_id"])
        due = _at(event["supervision_due_at"])
        # 5 working days from today: at least a week ahead, never more than 5 + holidays
        now = datetime.now(SHANGHAI)
        assert now + timedelta(days=5) < due < now + timedelta(days=20)
        assert (due.astimezone(SHANGHAI).hour, due.astimezone(SHANGHAI).minute) == (23, 59)

        detail = await _detail(w, case_id)
        [shown] = detail["supervisions"]
        assert shown["id"] == event["supervision_id"] and shown["origin"] == "act"
        assert _at(shown["due_at"]) == due and shown["unit_id"] == w.units["office"]
        assert "138****8000" in shown["reason"]
        assert not any(h["action"] == "supervise" for h in detail["timeline"])  # internal
        [recorded] = [h for h in detail["internal"] if h["action"] == "supervise"]
        assert recorded["actor"] == w.staff_ids["officer"]
        assert "138****8000" in recorded["reason"]
        assert recorded["details"]["supervision_id"] == event["supervision_id"]
        # the handling unit sees the supervision on its case too
        assert len((await _detail(w, case_id, "housing"))["supervisions"]) == 1

        # supervised a second time: a new supervision beside the first
        r = await w.act("officer", case_id, "supervise", {"reason": "再次督办"})
        assert r.status_code == 200, r.text
        events = await _payloads(w, case_id, SUPERVISED)
        assert len(events) == 2 and events[0]["supervision_id"] != events[1]["supervision_id"]
        assert events[1]["notice_no"] is None
        assert len((await _detail(w, case_id))["supervisions"]) == 2

        assert case_id in await _listed(w, "officer", supervised="true")
        assert plain not in await _listed(w, "officer", supervised="true")
        assert plain in await _listed(w, "officer", supervised="false")
        assert case_id not in await _listed(w, "officer", supervised="false")

        # the reply ends both: met, the case is no longer under supervision
        assert (await w.act("housing", case_id, "reply", REPLY)).status_code == 200
        assert (await _detail(w, case_id))["supervisions"] == []
        assert case_id not in await _listed(w, "officer", supervised="true")
        async with db.transaction("casework") as conn:
            query = text(
                "SELECT ended_at IS NOT NULL, met FROM casework.supervision WHERE case_id = :c"
            )
            ended = (await conn.execute(query, {"c": uuid.UUID(case_id)})).all()
        assert sorted(tuple(r) for r in ended) == [(True, True), (True, True)]
        # and there is nothing to supervise any more
        r = await w.act("officer", case_id, "supervise", {"reason": "督办"})
        assert r.status_code == 409 and r.json()["errors"][0]["code"] == "invalid_transition"


async def _principal(w: World, who: str, unit: str, roles: set[str]) -> Principal:
    org = await directory(w.db)
    found = org.get(w.units[unit])
    assert found is not None
    return Principal(kind="staff", subject=w.staff_ids[who], roles=frozenset(roles),
                     org_unit_id=found.id, org_path=found.path)  # fmt: skip


async def test_the_supervision_deadline_counts_working_days_on_the_holiday_calendar(
    settings: Settings, db: Database
) -> None:
    # domain §2's example: from the make-up Sunday 2025-09-28, 5 working days end on the
    # make-up Saturday 2025-10-11 (the National Day week is not counted)
    async with casework_world(settings, db) as w:
        case_id = await _to_in_progress(w)
        officer = await _principal(w, "officer", "office", {"petition_officer"})
        org = await directory(db)
        then = FixedClock(datetime(2025, 9, 28, 10, 0, tzinfo=SHANGHAI))

        async def supervise(body: dict[str, Any]) -> None:
            async with db.transaction("casework") as conn:
                await acts.perform(conn, principal=officer, case_id=case_id, act="supervise",
                                   raw=body, org=org, clock=then, settings=settings)  # fmt: skip

        await supervise({"reason": "五个工作日", "days": 5})
        await supervise({"reason": "默认期限"})  # the default: 10 working days
        await supervise({"reason": "指定日期", "due_on": "2025-10-20"})
        dues = [_at(e["supervision_due_at"]) for e in await _payloads(w, case_id, SUPERVISED)]
        assert dues == [
            datetime(2025, 10, 11, 23, 59, 59, tzinfo=SHANGHAI),
            datetime(2025, 10, 17, 23, 59, 59, tzinfo=SHANGHAI),
            datetime(2025, 10, 20, 23, 59, 59, tzinfo=SHANGHAI),
        ]
        for body, field in [
            ({"reason": "x", "due_on": "2025-09-28"}, "due_on"),  # today is not ahead
            ({"reason": "x", "due_on": "2025-10-20", "days": 3}, "due_on"),  # one or the other
        ]:
            with pytest.raises(ApiError) as raised:
                await supervise(body)
            assert raised.value.status == 422
        assert len(await _payloads(w, case_id, SUPERVISED)) == 3


async def test_who_may_supervise_and_when(settings: Settings, db: Database) -> None:
    async with casework_world(settings, db) as w, casework_world(settings, db) as other:
        body = {"reason": "请加快办理"}
        registered = await w.register()
        r = await w.act("officer", registered, "supervise", body)
        assert r.status_code == 409  # not yet with a unit
        await w.act("officer", registered, "accept", {"handling_path": "claim"})
        assert (await w.act("officer", registered, "supervise", body)).status_code == 409

        case_id = await _to_in_progress(w)
        cells = [
            (await w.login_as("office", "supervisor"), 200),
            (await w.login_as("gov", "supervisor"), 200),  # a body above the office
            (await w.login_as("city", "supervisor"), 200),
            (await w.login_as("gov", "petition_officer"), 200),
            (w.h("housing"), 403),  # the handling unit does not supervise itself
            (await w.login_as("housing", "supervisor"), 403),  # nor its own supervisor
            (w.h("gov_leader"), 403),  # a leader owns cases (包案), not supervises them
            (w.h("analyst"), 403),
            (w.h("registrar"), 403),
            (w.h("discipline"), 404),
            (await other.login_as("office", "petition_officer"), 404),
            (await other.login_as("office", "supervisor"), 404),
        ]
        for headers, want in cells:
            for act in ("supervise", "urge"):
                r = await w.client.post(f"{BASE}/cases/{case_id}/acts/{act}", json=body,
                                        headers=headers)  # fmt: skip
                assert r.status_code == want, (act, want, r.text)
        assert len(await _payloads(w, case_id, SUPERVISED)) == 4
        units = {e["supervising_unit_id"] for e in await _payloads(w, case_id, SUPERVISED)}
        assert units == {w.units["office"], w.units["gov"], w.units["city"]}
        r = await w.act("officer", case_id, "supervise", {})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"

        # 催办 is recorded for the lead unit, with no event of its own
        events = await w.events(case_id)
        r = await w.act("officer", case_id, "urge", {"reason": "期限将至，请抓紧"})
        assert r.status_code == 200, r.text
        assert await w.events(case_id) == events
        urged = [h for h in await _internal(w, case_id) if h["action"] == "urge"]
        assert urged[-1]["reason"] == "期限将至，请抓紧"
        assert urged[-1]["details"]["lead_unit_id"] == w.units["housing"]

        # closed and withdrawn cases are not supervised
        closed = await _to_in_progress(w)
        await w.act("housing", closed, "reply", REPLY)
        r = await w.act("officer", closed, "evaluate",
                        {"unit_rating": "satisfied", "office_rating": "satisfied"})  # fmt: skip
        assert r.status_code == 200, r.text
        assert (await w.act("officer", closed, "close", {})).status_code == 200
        from services.casework.case import service
        from shared.events.intake import PetitionWithdrawnV1

        withdrawn = await _to_in_progress(w)
        event = PetitionWithdrawnV1(case_id=withdrawn, tracking_no="T", by="petitioner",
                                    reason="已解决", withdrawn_at=w.clock.now())  # fmt: skip
        async with db.transaction("casework") as conn:
            await service.withdraw(conn, withdrawn=event, clock=w.clock)
        for done in (closed, withdrawn):
            before = await w.history(done)
            for act in ("supervise", "urge"):
                r = await w.act("officer", done, act, body)
                assert r.status_code == 409, r.text
            assert await w.history(done) == before
            assert await _payloads(w, done, SUPERVISED) == []


async def test_a_supervised_case_withdrawn_is_no_longer_under_supervision(
    settings: Settings, db: Database
) -> None:
    from services.casework.case import service
    from shared.events.intake import PetitionWithdrawnV1

    async with casework_world(settings, db) as w:
        case_id = await _to_in_progress(w)
        assert (await w.act("officer", case_id, "supervise", {"reason": "督办"})).status_code == 200
        event = PetitionWithdrawnV1(case_id=case_id, tracking_no="T", by="petitioner",
                                    reason="已解决", withdrawn_at=w.clock.now())  # fmt: skip
        async with db.transaction("casework") as conn:
            await service.withdraw(conn, withdrawn=event, clock=w.clock)
        assert (await _detail(w, case_id))["supervisions"] == []
        assert case_id not in await _listed(w, "officer", supervised="true")


async def test_a_leader_takes_charge_of_a_case(settings: Settings, db: Database) -> None:
    async with casework_world(settings, db) as w, casework_world(settings, db) as other:
        case_id = await _to_in_progress(w)
        plain = await _to_in_progress(w)
        resolve_on = (datetime.now(SHANGHAI) + timedelta(days=40)).date()
        body = {"resolve_by": resolve_on.isoformat(),
                "measures": "每周走访一次；身份证440306199001011234的当事人由街道专人联系"}  # fmt: skip
        before = await w.events(case_id)
        r = await w.act("gov_leader", case_id, "take_charge", body)
        assert r.status_code == 200, r.text
        assert await w.status(case_id) == "in_progress"
        assert await w.events(case_id) == [*before, LEADER_ASSIGNED]
        [event] = await _payloads(w, case_id, LEADER_ASSIGNED)
        assert event["leader_id"] == w.staff_ids["gov_leader"]
        assert event["leader_name"] == "gov_leader"  # the world's display names
        assert event["lead_unit_id"] == w.units["housing"]
        assert event["handler_id"] == w.staff_ids["housing"]  # who signed for it
        assert event["unit_id"] == w.units["gov"] and event["public_message"] is None
        assert _at(event["resolve_by"]) == datetime.combine(
            resolve_on, datetime.max.time().replace(microsecond=0), tzinfo=SHANGHAI
        )
        assert "440306199001011234" not in event["measures"]
        assert "440306" in event["measures"] and "1234" in event["measures"]

        detail = await _detail(w, case_id)
        assert detail["leader"]["leader_id"] == w.staff_ids["gov_leader"]
        assert detail["leader"]["measures"] == event["measures"]
        assert any(h["action"] == "take_charge" for h in detail["internal"])
        assert not any(h["action"] == "take_charge" for h in detail["timeline"])
        assert case_id in await _listed(w, "officer", leader_owned="true")
        assert plain not in await _listed(w, "officer", leader_owned="true")
        assert plain in await _listed(w, "officer", leader_owned="false")

        # another leader takes over, in days (calendar days, through the deadline engine)
        # and naming the handler
        r = await w.act("city_leader", case_id, "take_charge",
                        {"days": 30, "measures": "专班化解",
                         "handler_id": w.staff_ids["housing_lead"]})  # fmt: skip
        assert r.status_code == 200, r.text
        second = (await _payloads(w, case_id, LEADER_ASSIGNED))[-1]
        assert second["leader_id"] == w.staff_ids["city_leader"]
        assert second["handler_id"] == w.staff_ids["housing_lead"]
        assert _at(second["resolve_by"]) >= datetime.now(SHANGHAI) + timedelta(days=29)
        assert (await _detail(w, case_id))["leader"]["leader_id"] == w.staff_ids["city_leader"]

        # guards
        bad = [
            ("officer", body, 403),
            ("housing", body, 403),
            ("housing_lead", body, 403),
            ("gov_leader", {"measures": "稳控"}, 422),  # a deadline is part of 五落实
            ("gov_leader", {"days": 10, "resolve_by": str(resolve_on), "measures": "x"}, 422),
            ("gov_leader", {"days": 10}, 422),  # and the measures
            ("gov_leader", {"days": 10, "measures": "x", "handler_id": "nobody"}, 422),
            ("gov_leader", {"resolve_by": "2020-01-01", "measures": "x"}, 422),
        ]
        for who, b, want in bad:
            r = await w.act(who, case_id, "take_charge", b)
            assert r.status_code == want, (who, b, r.text)
        r = await w.client.post(f"{BASE}/cases/{case_id}/acts/take_charge", json=body,
                                headers=await other.login_as("gov", "leader"))  # fmt: skip
        assert r.status_code == 404
        assert len(await _payloads(w, case_id, LEADER_ASSIGNED)) == 2

        registered = await w.register()
        await w.act("officer", registered, "accept", {"handling_path": "claim"})
        assert (await w.act("gov_leader", registered, "take_charge", body)).status_code == 409
        # after the reply a leader may still own the case until it is final
        assert (await w.act("housing", plain, "reply", REPLY)).status_code == 200
        assert (await w.act("gov_leader", plain, "take_charge", body)).status_code == 200


async def test_an_upheld_verification_puts_the_case_under_supervision(
    settings: Settings, db: Database
) -> None:
    from services.casework.case import service
    from shared.events.notify import EvaluationRecordedV1

    async with casework_world(settings, db) as w:

        async def dissatisfied(case_id: str) -> None:
            assert (await w.act("housing", case_id, "reply", REPLY)).status_code == 200
            rated = EvaluationRecordedV1(case_id=case_id, tracking_no="T",
                                         unit_rating="dissatisfied", office_rating="satisfied",
                                         reason="退款未到账", rated_at=w.clock.now(),
                                         channel="link")  # fmt: skip
            async with db.transaction("casework") as conn:
                await service.record_evaluation(conn, evaluated=rated, clock=w.clock)

        case_id = await _to_in_progress(w)
        await dissatisfied(case_id)
        r = await w.act("officer", case_id, "verify",
                        {"upheld": True, "finding": "退款确未到账，电话13900139000核实"})  # fmt: skip
        assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
        assert (await w.events(case_id))[-1] == SUPERVISED
        [event] = await _payloads(w, case_id, SUPERVISED)
        assert event["supervising_unit_id"] == w.units["office"]
        assert event["actor"] == w.staff_ids["officer"]
        assert event["status"] == "in_progress" and event["notice_no"] is None
        assert "退款确未到账" in event["reason"] and "13900139000" not in event["reason"]
        detail = await _detail(w, case_id)
        [handle] = [c for c in detail["clocks"] if c["kind"] == "handle" and not c["stopped_at"]]
        assert _at(event["supervision_due_at"]) == _at(handle["due_at"])
        [shown] = detail["supervisions"]
        assert shown["origin"] == "verify" and shown["id"] == event["supervision_id"]
        assert case_id in await _listed(w, "officer", supervised="true")
        # the re-handling's reply ends it
        assert (await w.act("housing", case_id, "reply", REPLY)).status_code == 200
        assert (await _detail(w, case_id))["supervisions"] == []

        # a complaint that does not hold: no supervision
        other = await _to_in_progress(w)
        await dissatisfied(other)
        r = await w.act("officer", other, "verify", {"upheld": False, "finding": "已退款"})
        assert r.status_code == 200, r.text
        assert await _payloads(w, other, SUPERVISED) == []
        assert (await _detail(w, other))["supervisions"] == []
