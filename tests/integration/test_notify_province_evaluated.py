"""The provincial platform gets exactly one ``evaluated`` result per evaluation (integrations
§3, "one message per milestone"), whichever way the evaluation was recorded — through the real
casework and notify workers, the real bus and the partner simulators (signatures checked):

* staff record it with casework's ``evaluate`` act (the petitioner rated by phone):
  ``casework.case.evaluated`` is the only event, and the platform must get its ``evaluated``;
* the petitioner rates through the signed SMS link: notify records ``notify.evaluation.recorded``
  (and queues the platform's ``evaluated`` with the reason), casework turns it into
  ``casework.case.evaluated`` — the same evaluation, which must not be sent a second time.

The 12345 hotline has no evaluation status (§2): neither path sends it anything new."""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from minsheng.simulators.partner import create_app as create_partner
from services.casework.case import service as case_service
from services.casework.org import directory
from services.notify.callback.service import CallbackSender
from services.notify.evaluation import service as evaluations
from shared.clock import FixedClock, system_clock
from shared.db import Database
from shared.events import casework as ev
from shared.events.envelope import Envelope
from shared.events.intake import PetitionReceivedV1
from shared.settings import Settings
from tests.casework_world import HOUSING_CATEGORY, World, casework_world
from tests.integration.test_casework_flow import REPLY
from tests.integration.test_notify_returns import LEAD, OFFICE, Case, bus_ctx, deliver, q
from tests.support import eventually, running_workers, serve_app

pytestmark = pytest.mark.asyncio(loop_scope="session")

HOTLINE_STORY = ["received", "accepted", "transferred", "in_progress", "replied", "closed"]
PROVINCE_STORY = ["accepted", "replied", "evaluated", "closed"]


async def register(w: World, *, province_case_no: str, order_no: str) -> str:
    """A case that came from the provincial platform and also carries a 12345 order number,
    registered through casework's own handler (its ``registered`` event carries both ids)."""
    w.seq[0] += 1
    case_id = str(uuid.uuid4())
    event = PetitionReceivedV1(
        case_id=case_id,
        tracking_no=f"T{w.county}{w.seq[0]:06d}{random.randrange(10**6):06d}",
        source="province",
        channel="letter",
        title="小区物业乱收费",
        content="物业公司每月多收停车管理费，要求退还。",
        category_code=HOUSING_CATEGORY,
        region_code=w.county,
        received_at=w.clock.now(),
        external_ids={"province_case_no": province_case_no, "hotline_order_no": order_no},
    )
    org = await directory(w.db)
    async with w.db.transaction("casework") as conn:
        await case_service.register(conn, received=[event], clock=w.clock, org=org)
    return case_id


async def to_replied(w: World, case_id: str) -> None:
    steps: list[tuple[str, str, dict[str, Any] | None]] = [
        ("officer", "accept", {"handling_path": "claim"}),
        ("officer", "assign", {"mode": "assign", "lead_unit_id": w.units["housing"]}),
        ("housing", "sign", None),
        ("housing", "contact", {"method": "phone", "reached": True}),
        ("housing", "reply", REPLY),
    ]
    for who, act, body in steps:
        r = await w.act(who, case_id, act, body)
        assert r.status_code == 200, (act, r.text)


async def scalar(db: Database, schema: str, sql: str, **params: Any) -> Any:
    async with db.transaction(schema) as conn:
        return await conn.scalar(text(sql), params)


def until(check: Callable[[], Awaitable[Any]]) -> Any:
    return eventually(check, timeout=30.0)


async def test_one_evaluated_per_evaluation_from_staff_and_from_the_link(
    settings: Settings, db: Database, clean: None
) -> None:
    exchange = create_partner("exchange", settings.exchange_keys)
    hotline = create_partner("hotline", settings.hotline_keys)
    tag = uuid.uuid4().hex[:10].upper()
    by_staff = (f"YX44STAFF{tag}", f"GD-STAFF-{tag}")
    by_link = (f"YX44LINK{tag}", f"GD-LINK-{tag}")
    async with (
        serve_app(exchange) as exchange_url,
        serve_app(hotline) as hotline_url,
        httpx.AsyncClient() as http,
    ):
        cfg = settings.model_copy(
            update={
                "province_exchange_url": exchange_url,
                "hotline_callback_url": f"{hotline_url}/callbacks",
                "notify_backoff_cap_seconds": 1.0,
            }
        )
        async with casework_world(cfg, db) as w, running_workers(cfg, ["casework", "notify"]):
            staff_case = await register(w, province_case_no=by_staff[0], order_no=by_staff[1])
            link_case = await register(w, province_case_no=by_link[0], order_no=by_link[1])
            for case_id in (staff_case, link_case):
                await to_replied(w, case_id)

            async def evaluations_open() -> bool:
                n = await scalar(
                    db,
                    "notify",
                    "SELECT count(*) FROM notify.evaluation WHERE status = 'open' "
                    "AND case_id = ANY(CAST(:c AS uuid[]))",
                    c=[staff_case, link_case],
                )
                return bool(n == 2)

            await until(evaluations_open)  # notify has taken both replies in

            # 1. the officer records the petitioner's rating given by phone
            r = await w.act(
                "officer",
                staff_case,
                "evaluate",
                {"unit_rating": "satisfied", "office_rating": "basically_satisfied"},
            )
            assert r.status_code == 200, r.text
            # 2. the other petitioner rates through the signed SMS link
            async with db.transaction("notify") as conn:
                await evaluations.record(
                    conn,
                    case_id=uuid.UUID(link_case),
                    unit_rating="dissatisfied",
                    office_rating="satisfied",
                    reason="退款至今未到账",
                    channel="link",
                    clock=system_clock,
                )

            async def link_case_evaluated() -> bool:
                return bool(await w.status(link_case) == "evaluated")

            await until(link_case_evaluated)  # casework turned the rating into its milestone
            assert (await w.events(link_case)).count("casework.case.evaluated") == 1
            assert (await w.events(staff_case)).count("casework.case.evaluated") == 1
            # the link case's 不满意 is verified (回访复核, not upheld) before it is closed
            r = await w.act("officer", link_case, "verify",
                            {"upheld": False, "finding": "经核实退款已到账"})  # fmt: skip
            assert r.status_code == 200, r.text
            for case_id in (staff_case, link_case):
                r = await w.act("officer", case_id, "close", {"resolved": True})
                assert r.status_code == 200, r.text

            async def closings_queued() -> bool:
                # notify takes a case's events in order: its `closed` comes after everything
                # casework published for it before, `evaluated` included
                n = await scalar(
                    db,
                    "notify",
                    "SELECT count(*) FROM notify.partner_callback WHERE partner = 'exchange' "
                    "AND status_sent = 'closed' AND case_id = ANY(CAST(:c AS uuid[]))",
                    c=[staff_case, link_case],
                )
                return bool(n == 2)

            await until(closings_queued)

        async with bus_ctx(cfg) as ctx:
            sender = CallbackSender(ctx)
            try:

                async def all_delivered() -> bool:
                    await sender.send_due()
                    n = await scalar(
                        db,
                        "notify",
                        "SELECT count(*) FROM notify.partner_callback WHERE state = 'pending'",
                    )
                    return bool(n == 0)

                await until(all_delivered)
            finally:
                await sender.aclose()
        province = (await http.get(f"{exchange_url}/callbacks")).json()
        calls = (await http.get(f"{hotline_url}/callbacks")).json()
        assert (await http.get(f"{exchange_url}/stats")).json()["refused"] == 0

    def milestones(stream: str) -> list[str]:
        return [c["body"]["milestone"] for c in province if c["stream"] == stream]

    def evaluated(stream: str) -> dict[str, Any]:
        [body] = [
            c["body"]
            for c in province
            if c["stream"] == stream and c["body"]["milestone"] == "evaluated"
        ]
        return body

    # exactly one `evaluated` per evaluation, in its place between `replied` and `closed`
    assert milestones(by_staff[0]) == PROVINCE_STORY
    assert milestones(by_link[0]) == PROVINCE_STORY
    staff_body = evaluated(by_staff[0])
    assert staff_body["evaluation"] == {"unit": "满意", "office": "基本满意", "reason": None}
    assert staff_body["province_case_no"] == by_staff[0]
    assert staff_body["org_unit"] == "某区住建局"  # the unit whose handling was rated
    link_body = evaluated(by_link[0])
    assert link_body["evaluation"] == {
        "unit": "不满意",
        "office": "满意",
        "reason": "退款至今未到账",
    }
    assert link_body["org_unit"] == "某区住建局"
    for body in (staff_body, link_body):
        assert set(body) == {
            "event_id", "province_case_no", "milestone", "occurred_at", "org_unit", "document",
            "evaluation",
        }  # fmt: skip
        assert body["document"] is None
        assert body["occurred_at"].endswith("+08:00")
    ids = [c["event_id"] for c in province]
    assert len(ids) == len(set(ids))

    # the hotline has no evaluation status: nothing new for either case
    for _, order_no in (by_staff, by_link):
        assert [c["body"]["status"] for c in calls if c["stream"] == order_no] == HOTLINE_STORY


def staff_evaluated_story(case: Case) -> list[Envelope]:
    """What casework publishes when the officer records the rating with the ``evaluate`` act."""
    t = case.tracking_no
    return [
        case.registered(),
        case.env(
            ev.CaseAcceptedV1(**case.base(f"{t} 已受理", OFFICE), handling_path="g", on_time=True)
        ),
        case.env(
            ev.CaseAssignedV1(
                **case.base(f"{t} 已交办", OFFICE),
                mode="assign",
                lead_unit_id=LEAD,
                lead_unit_name="宝安区城管和综合执法局",
            )
        ),
        case.env(ev.CaseContactedV1(**case.base(), method="phone", reached=True, attempts=1)),
        case.env(
            ev.CaseRepliedV1(
                **case.base(f"{t} 已答复"),
                stage="reply",
                decisions=["support"],
                on_time=True,
                reply_text="处理意见",
            )
        ),
        case.env(
            ev.CaseEvaluatedV1(
                **case.base(None, OFFICE),
                unit_rating="satisfied",
                office_rating="basically_satisfied",
            )
        ),
        case.env(ev.CaseClosedV1(**case.base(f"{t} 已办结", OFFICE), resolved=True)),
    ]


async def queued(db: Database, partner: str, stream: str) -> list[dict[str, Any]]:
    rows = await q(
        db,
        "SELECT body FROM notify.partner_callback WHERE partner = :p AND stream = :s ORDER BY id",
        p=partner,
        s=stream,
    )
    return [r[0] for r in rows]


async def test_a_staff_evaluation_is_queued_once_in_the_case_order(
    settings: Settings, db: Database, clean: None
) -> None:
    case = Case(settings)
    story = staff_evaluated_story(case)
    async with bus_ctx(settings) as ctx:
        await deliver(ctx, story)
        await deliver(ctx, story, start=100)  # redelivered: nothing more
    province = await queued(db, "exchange", case.province_case_no or "")
    assert [b["milestone"] for b in province] == PROVINCE_STORY
    [body] = [b for b in province if b["milestone"] == "evaluated"]
    assert body["evaluation"] == {"unit": "满意", "office": "基本满意", "reason": None}
    assert body["event_id"] == str(story[5].event_id)
    assert body["org_unit"] == "宝安区城管和综合执法局"  # the rated unit, not the recording office
    hotline = await queued(db, "hotline", case.order_no or "")
    assert [b["status"] for b in hotline] == HOTLINE_STORY
    # every status tells the hotline's operator something, the first contact included
    assert all(b["message"] for b in hotline), [b for b in hotline if not b["message"]]


async def test_a_staff_recorded_dissatisfaction_sends_its_reason(
    settings: Settings, db: Database, clean: None
) -> None:
    case = Case(settings)
    story = staff_evaluated_story(case)
    payload = {
        **story[5].payload,
        "unit_rating": "dissatisfied",
        "office_rating": "satisfied",
        "reason": "退款未到账，电话13800138000",
    }
    story[5] = story[5].model_copy(update={"payload": payload})
    async with bus_ctx(settings) as ctx:
        await deliver(ctx, story)
    [body] = [
        b for b in await queued(db, "exchange", case.province_case_no or "")
        if b["milestone"] == "evaluated"
    ]  # fmt: skip
    assert body["evaluation"] == {
        "unit": "不满意",
        "office": "满意",
        "reason": "退款未到账，电话138****8000",
    }


async def test_the_expiry_sends_nothing_after_a_staff_evaluation(
    settings: Settings, db: Database, clean: None
) -> None:
    case = Case(settings)
    async with bus_ctx(settings) as ctx:
        await deliver(ctx, staff_evaluated_story(case))
    row = (await q(db, "SELECT expires_at FROM notify.evaluation"))[0]
    async with db.transaction("notify") as conn:
        await evaluations.expire_due(conn, clock=FixedClock(row.expires_at))
    province = await queued(db, "exchange", case.province_case_no or "")
    assert [b["milestone"] for b in province] == PROVINCE_STORY
