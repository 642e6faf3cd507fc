"""Notify on the real PostgreSQL and Redis: casework's events go through notify's real consumer
(inbox + handlers in one transaction), the sender posts to the real SMS gateway simulator and
a real SMTP server (aiosmtpd), and the API is called over ASGI."""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from minsheng.simulators.sms_gateway import create_app as create_gateway
from services.notify.app import create_app as create_notify
from services.notify.evaluation import link
from services.notify.evaluation import service as evaluations
from services.notify.message.handlers import HANDLERS
from services.notify.message.service import Providers, send_due
from shared.bus import BusContext
from shared.bus.consumer import Consumer
from shared.bus.worker import open_redis
from shared.clock import SHANGHAI, FixedClock, system_clock
from shared.crypto import seal_pii
from shared.db import Database
from shared.events import casework as ev
from shared.events.envelope import Envelope, EventPayload
from shared.events.intake import OneTimeCodeIssuedV1
from shared.identity.deps import get_principal
from shared.identity.principal import Principal
from shared.identity.tokens import issue_citizen_token
from shared.security import keys_for
from shared.settings import Settings
from tests.support import eventually, free_port, serve_app

pytestmark = pytest.mark.asyncio(loop_scope="session")

PHONE = "13800138000"
EMAIL = "zhang@example.com"
OFFICE = "unit-office"
LEAD = "unit-lead"
CO = "unit-co"


class Case:
    """A case's events as casework publishes them (one aggregate, in order)."""

    def __init__(
        self,
        settings: Settings,
        *,
        order_no: str | None = "GD202611220001234",
        province_case_no: str | None = "YX4400002026112200123",
        phone: str | None = PHONE,
        email: str | None = EMAIL,
        accusation: bool = False,
        at: datetime | None = None,
    ) -> None:
        self.settings = settings
        self.case_id = str(uuid.uuid4())
        self.tracking_no = "MS" + uuid.uuid4().hex[:14].upper()
        self.seq = 0
        self.at = at or datetime.now(UTC)
        self.order_no = order_no
        self.province_case_no = province_case_no
        self.phone = phone
        self.email = email
        self.accusation = accusation

    def env(self, event: EventPayload) -> Envelope:
        self.seq += 1
        return Envelope(
            event_id=uuid.uuid4(),
            type=event.type,
            version=event.version,
            occurred_at=self.at,
            producer="casework",
            trace_id="t",
            aggregate_id=self.case_id,
            aggregate_seq=self.seq,
            payload=event.model_dump(mode="json"),
        )

    def base(self, public: str | None = None, unit: str | None = LEAD) -> dict[str, Any]:
        self.at += timedelta(minutes=1)
        return {
            "case_id": self.case_id,
            "tracking_no": self.tracking_no,
            "status": "x",
            "occurred_at": self.at,
            "actor": "staff-1",
            "unit_id": unit,
            "unit_name": "宝安区城管和综合执法局" if unit == LEAD else "宝安区信访局",
            "accusation": self.accusation,
            "public_message": public,
        }

    def registered(self) -> Envelope:
        pii: dict[str, str] = {"name": "张三", "query_code": "654321"}
        if self.phone:
            pii["phone"] = self.phone
        if self.email:
            pii["email"] = self.email
        ext = {}
        if self.order_no:
            ext["hotline_order_no"] = self.order_no
        if self.province_case_no:
            ext["province_case_no"] = self.province_case_no
        return self.env(
            ev.CaseRegisteredV1(
                case_id=self.case_id,
                tracking_no=self.tracking_no,
                source="hotline",
                channel="phone",
                region_code="440306",
                status="registered",
                registered_at=self.at,
                accusation=self.accusation,
                public_message="已登记",
                pii=seal_pii(keys_for(self.settings).ring, pii),
                office_unit_id=OFFICE,
                external_ids=ext,
            )
        )

    def story(self) -> list[Envelope]:
        """Every kind of event notify consumes, in a plausible order."""
        t = self.tracking_no
        return [
            self.registered(),
            self.env(
                ev.CaseAcceptedV1(
                    **self.base(f"您的信访事项（编号 {t}）已受理。", OFFICE),
                    handling_path="general",
                    on_time=True,
                )
            ),
            self.env(
                ev.CaseAssignedV1(
                    **self.base(f"您的信访事项（编号 {t}）已转交办理。", OFFICE),
                    mode="assign",
                    lead_unit_id=LEAD,
                    lead_unit_name="宝安区城管和综合执法局",
                    co_unit_ids=[CO],
                )
            ),
            self.env(
                ev.ApprovalRequestedV1(
                    approval_id=1,
                    case_id=self.case_id,
                    tracking_no=t,
                    kind="extend",
                    approver_unit_id=LEAD,
                    requested_by="staff-2",
                    requested_at=self.at,
                    accusation=self.accusation,
                )
            ),
            self.env(ev.CaseSignedV1(**self.base(f"编号 {t} 已签收，正在办理。"), handler_id=None)),
            self.env(ev.CaseContactedV1(**self.base(), method="phone", reached=True, attempts=1)),
            self.env(ev.CaseContactedV1(**self.base(), method="visit", reached=True, attempts=2)),
            self.env(
                ev.CaseExtendedV1(
                    **{**self.base(f"编号 {t} 办理期限延长30日。"), "due_at": self.at},
                    clock="handle",
                    days=30,
                    reason="情况复杂",
                )
            ),
            self.env(
                ev.CaseDeadlineApproachedV1(
                    **self.base(), clock="handle", deadline=self.at + timedelta(days=3)
                )
            ),
            self.env(ev.CaseDeadlineMissedV1(**self.base(), clock="handle", deadline=self.at)),
            self.env(
                ev.CaseRepliedV1(
                    **self.base(f"您的信访事项（编号 {t}）已作出处理意见，请查收。"),
                    stage="reply",
                    decisions=["support"],
                    on_time=True,
                    reply_text="经核查，已责令商户整改。",
                )
            ),
            self.env(
                ev.CaseReviewRequestedV1(
                    **self.base(f"您的复查申请（编号 {t}）已收到。"),
                    stage="review",
                    review_unit_id="unit-up",
                )
            ),
            self.env(ev.CaseClosedV1(**self.base(f"编号 {t} 已办结。"), resolved=True)),
        ]


@contextlib.asynccontextmanager
async def bus_ctx(settings: Settings, clock: Any = system_clock) -> AsyncIterator[BusContext]:
    db = Database(settings, pool_size=4)
    redis = await open_redis(settings)
    try:
        yield BusContext(service="notify", settings=settings, db=db, redis=redis, clock=clock)
    finally:
        await redis.aclose()
        await db.dispose()


async def deliver(ctx: BusContext, envs: list[Envelope], start: int = 1) -> None:
    """What the casework relay hands notify's queue: a batch of deliveries."""
    consumer = Consumer(ctx, HANDLERS)
    items = [
        {"delivery_id": start + i, "event": e.model_dump(mode="json")} for i, e in enumerate(envs)
    ]
    await consumer.consume(1, "casework", items)


async def q(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction("notify") as conn:
        return list((await conn.execute(text(sql), params)).all())


async def counts(db: Database) -> dict[str, Any]:
    return {
        "messages": (await q(db, "SELECT count(*) FROM notify.message"))[0][0],
        "per_key": max(
            [
                r[0]
                for r in await q(
                    db,
                    "SELECT count(*) FROM notify.message "
                    "GROUP BY event_id, recipient_hash, channel",
                )
            ]
            or [0]
        ),
        "inbox": (await q(db, "SELECT count(*) FROM notify.inbox_item"))[0][0],
        "alerts": (await q(db, "SELECT count(*) FROM notify.staff_alert"))[0][0],
        "callbacks": (await q(db, "SELECT count(*) FROM notify.partner_callback"))[0][0],
        "evaluations": (await q(db, "SELECT count(*) FROM notify.evaluation"))[0][0],
        "contacts": (await q(db, "SELECT count(*) FROM notify.case_contact"))[0][0],
    }


async def test_duplicate_delivery_of_every_event_kind_makes_one_message_each(
    settings: Settings, db: Database, clean: None
) -> None:
    case = Case(settings)
    story = case.story()
    otp = Envelope(
        event_id=uuid.uuid4(),
        type=OneTimeCodeIssuedV1.type,
        version=1,
        occurred_at=datetime.now(UTC),
        producer="intake",
        trace_id="t",
        aggregate_id="otp",
        aggregate_seq=1,
        payload=OneTimeCodeIssuedV1(
            request_id=str(uuid.uuid4()),
            expires_at=datetime.now(UTC),
            pii=seal_pii(keys_for(settings).ring, {"phone": PHONE, "code": "123456"}),
        ).model_dump(mode="json"),
    )
    async with bus_ctx(settings) as ctx:
        await deliver(ctx, story)
        first = await counts(db)
        # the same events again: in one batch twice over, one by one, and as an OTP repeat
        await deliver(ctx, story + story)
        for env in story:
            await deliver(ctx, [env])
        consumer = Consumer(ctx, HANDLERS)
        for _ in range(2):
            await consumer.consume(
                1, "intake", [{"delivery_id": 1, "event": otp.model_dump(mode="json")}]
            )
        after = await counts(db)
        # even with notify's inbox forgotten, the effects are keyed by the event
        await q(db, "DELETE FROM notify.inbox RETURNING 1")
        await deliver(ctx, story)
        forgotten = await counts(db)

    public = [
        e for e in story if e.payload.get("public_message") and e.type != ev.CaseRegisteredV1.type
    ]
    # receipt + every public milestone + the 回访 invitation, per channel
    per_channel = 1 + len(public) + 1
    assert first["messages"] == 2 * per_channel  # sms + email
    assert first["inbox"] == per_channel
    assert first["per_key"] == 1
    # alerts: assigned to lead and co unit, approval, approaching, missed
    assert first["alerts"] == 5
    # hotline: received, accepted, transferred, in_progress (once), replied, closed;
    # province: accepted, extended, replied, review_requested, closed
    assert first["callbacks"] == 6 + 5
    assert first["evaluations"] == 1 and first["contacts"] == 1
    assert after == {**first, "messages": first["messages"] + 1}  # + the one OTP
    assert forgotten == after

    hotline = [
        r[0]
        for r in await q(
            db,
            "SELECT body->>'status' FROM notify.partner_callback WHERE partner='hotline' "
            "ORDER BY id",
        )
    ]
    assert hotline == ["received", "accepted", "transferred", "in_progress", "replied", "closed"]
    province = [
        r[0]
        for r in await q(
            db,
            "SELECT body->>'milestone' FROM notify.partner_callback WHERE partner='exchange' "
            "ORDER BY id",
        )
    ]
    assert province == ["accepted", "extended", "replied", "review_requested", "closed"]
    transferred = await q(
        db, "SELECT body FROM notify.partner_callback WHERE body->>'status' = 'transferred'"
    )
    assert transferred[0][0]["department"] == "宝安区城管和综合执法局"
    assert transferred[0][0]["order_no"] == case.order_no
    assert transferred[0][0]["occurred_at"].endswith("+08:00")
    replied = await q(
        db, "SELECT body FROM notify.partner_callback WHERE body->>'status'='replied'"
    )
    assert replied[0][0]["reply"] == "经核查，已责令商户整改。"
    # personal data never in clear in notify's tables
    dump = await q(db, "SELECT body_enc || recipient_enc FROM notify.message")
    assert all(PHONE not in r[0] and EMAIL not in r[0] for r in dump)
    kinds = Counter(r[0] for r in await q(db, "SELECT kind FROM notify.inbox_item"))
    assert kinds == {"receipt": 1, "acceptance": 1, "progress": 5, "reply": 1, "callback": 1}


async def test_accusations_and_roles_scope_the_staff_inbox(
    settings: Settings, db: Database, clean: None
) -> None:
    open_case, secret_case = Case(settings), Case(settings, accusation=True)
    async with bus_ctx(settings) as ctx:
        await deliver(ctx, open_case.story())
        await deliver(ctx, secret_case.story(), start=100)

    app = create_notify(settings)
    who: dict[str, Principal] = {}
    app.dependency_overrides[get_principal] = lambda: who["p"]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notify") as client:

            async def alerts(unit: str, *roles: str) -> list[tuple[str, str]]:
                who["p"] = Principal(
                    kind="staff", subject="s", roles=frozenset(roles), org_unit_id=unit
                )
                r = await client.get("/api/v1/notify/alerts")
                assert r.status_code == 200, r.text
                return sorted((a["tracking_no"], a["kind"]) for a in r.json()["items"])

            t1, t2 = open_case.tracking_no, secret_case.tracking_no
            assert await alerts(LEAD, "handler") == sorted(
                [
                    (t1, "assigned"),
                    (t1, "deadline_approaching"),
                    (t1, "deadline_missed"),
                ]
            )
            assert (t1, "approval") in await alerts(LEAD, "unit_lead")
            inspector = await alerts(LEAD, "discipline_inspector")
            assert (t2, "assigned") in inspector and (t2, "approval") not in inspector
            assert (t2, "approval") in await alerts(LEAD, "discipline_inspector", "unit_lead")
            assert await alerts(CO, "handler") == [(t1, "assigned")]
            assert await alerts("unit-elsewhere", "handler", "unit_lead") == []

            # the delivery log: only the case's units; accusations only for inspectors
            who["p"] = Principal(
                kind="staff", subject="s", roles=frozenset({"handler"}), org_unit_id=LEAD
            )
            r = await client.get("/api/v1/notify/deliveries", params={"case_id": open_case.case_id})
            assert r.status_code == 200
            log = r.json()["deliveries"]
            channels = Counter(d["channel"] for d in log)
            assert channels["sms"] == channels["email"] == channels["inbox"] == 9
            assert channels["hotline"] == 6 and channels["exchange"] == 5
            assert all(PHONE not in str(d) for d in log)
            assert any(d["recipient"] == "138****8000" for d in log)
            r = await client.get(
                "/api/v1/notify/deliveries", params={"case_id": secret_case.case_id}
            )
            assert r.status_code == 404
            who["p"] = Principal(
                kind="staff",
                subject="s",
                roles=frozenset({"handler"}),
                org_unit_id="unit-elsewhere",
            )
            r = await client.get("/api/v1/notify/deliveries", params={"case_id": open_case.case_id})
            assert r.status_code == 404

            # template preview
            r = await client.post(
                "/api/v1/notify/templates/reply/preview",
                json={"channel": "sms", "context": {"reply_text": "长" * 1000}},
            )
            assert r.status_code == 200, r.text
            assert r.json()["length"] <= settings.notify_sms_max_chars
            assert r.json()["template"] == "reply@1"
            r = await client.post("/api/v1/notify/templates/nope/preview", json={})
            assert r.status_code == 404


async def test_inbox_and_evaluation_through_the_citizen_api_and_the_link(
    settings: Settings, db: Database, clean: None
) -> None:
    case, other = Case(settings), Case(settings, order_no=None, phone="13900139000", email=None)
    async with bus_ctx(settings) as ctx:
        await deliver(ctx, case.story())
        await deliver(ctx, other.story(), start=100)
    keys = keys_for(settings)
    token = issue_citizen_token(keys.hash.digest("phone", PHONE), settings, system_clock)
    auth = {"Authorization": f"Bearer {token}"}
    app = create_notify(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notify") as client:
            r = await client.get("/api/v1/notify/inbox", headers=auth)
            assert r.status_code == 200, r.text
            items = r.json()["items"]
            assert len(items) == 9
            assert {i["tracking_no"] for i in items} == {case.tracking_no}
            receipt = next(i for i in items if i["kind"] == "receipt")
            assert "654321" in receipt["body"]  # the query code, for the petitioner only
            invite = next(i for i in items if i["kind"] == "callback")
            assert invite["link"].startswith(settings.public_url() + link.PATH)
            r = await client.post(f"/api/v1/notify/inbox/{receipt['id']}/read", headers=auth)
            assert r.status_code == 200
            unread = (await client.get("/api/v1/notify/inbox?unread=true", headers=auth)).json()
            assert len(unread["items"]) == 8
            assert (await client.get("/api/v1/notify/inbox")).status_code == 401

            # someone else's case cannot be rated through my account
            r = await client.post(
                f"/api/v1/notify/evaluations/{other.case_id}",
                json={"unit_rating": "satisfied", "office_rating": "satisfied"},
                headers=auth,
            )
            assert r.status_code == 404
            r = await client.post(
                f"/api/v1/notify/evaluations/{case.case_id}",
                json={"unit_rating": "dissatisfied", "office_rating": "satisfied"},
                headers=auth,
            )
            assert r.status_code == 422 and r.json()["errors"][0]["code"] == "reason_required"
            r = await client.post(
                f"/api/v1/notify/evaluations/{case.case_id}",
                json={
                    "unit_rating": "dissatisfied",
                    "office_rating": "basically_satisfied",
                    "reason": "问题没有解决，联系电话13800138000",
                },
                headers=auth,
            )
            assert r.status_code == 201, r.text
            assert "13800138000" not in r.json()["reason"]
            again = await client.post(
                invite["link"].removeprefix(settings.public_url()),
                json={"unit_rating": "satisfied", "office_rating": "satisfied"},
            )
            assert again.status_code == 409

            # the other petitioner rates through the signed link; a forged one is refused
            other_link = (
                await q(
                    db,
                    "SELECT link FROM notify.inbox_item WHERE kind='callback' AND case_id = :c",
                    c=uuid.UUID(other.case_id),
                )
            )[0][0].removeprefix(settings.public_url())
            forged = other_link[:-4] + ("0000" if not other_link.endswith("0000") else "1111")
            assert (await client.get(forged)).status_code == 404
            view = await client.get(other_link)
            assert view.status_code == 200 and view.json()["status"] == "open"
            r = await client.post(
                other_link, json={"unit_rating": "satisfied", "office_rating": "satisfied"}
            )
            assert r.status_code == 201 and r.json()["channel"] == "link"

    events = await q(
        db,
        "SELECT payload, aggregate_id FROM notify.outbox_event "
        "WHERE type = 'notify.evaluation.recorded' ORDER BY position",
    )
    assert [e[0]["unit_rating"] for e in events] == ["dissatisfied", "satisfied"]
    assert events[0][0]["office_rating"] == "basically_satisfied"
    assert events[0][0]["channel"] == "citizen" and events[0][1] == case.case_id
    evaluated = await q(
        db,
        "SELECT body FROM notify.partner_callback WHERE body->>'milestone' = 'evaluated' "
        "ORDER BY id",
    )
    assert evaluated[0][0]["evaluation"] == {
        "unit": "不满意",
        "office": "基本满意",
        "reason": events[0][0]["reason"],
    }


async def test_unrated_evaluations_expire(settings: Settings, db: Database, clean: None) -> None:
    case = Case(settings)
    async with bus_ctx(settings) as ctx:
        await deliver(ctx, case.story())
    row = (await q(db, "SELECT invited_at, expires_at FROM notify.evaluation"))[0]
    assert row.expires_at - row.invited_at == timedelta(days=15)
    async with db.transaction("notify") as conn:
        assert (
            await evaluations.expire_due(
                conn, clock=FixedClock(row.expires_at - timedelta(seconds=1))
            )
            == 0
        )
        assert await evaluations.expire_due(conn, clock=FixedClock(row.expires_at)) == 1
        assert await evaluations.expire_due(conn, clock=FixedClock(row.expires_at)) == 0
    payload = (
        await q(
            db, "SELECT payload FROM notify.outbox_event WHERE type='notify.evaluation.recorded'"
        )
    )[0][0]
    assert payload["unit_rating"] == payload["office_rating"] == "expired"
    assert payload["channel"] == "expired"
    body = (
        await q(db, "SELECT body FROM notify.partner_callback WHERE body->>'milestone'='evaluated'")
    )[0][0]
    assert body["evaluation"]["unit"] == "超期未评价"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


async def test_sender_sms_email_receipts_quiet_hours_and_rate_limit(
    settings: Settings, db: Database, clean: None
) -> None:
    mailbox = Mailbox()
    smtp_port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    notify_app = create_notify(settings)
    try:
        async with serve_app(notify_app) as notify_url:
            gateway = create_gateway(
                receipt_url=f"{notify_url}/api/v1/notify/receipts/sms",
                receipt_token=settings.sms_receipt_token,
            )
            async with serve_app(gateway) as sms_url:
                cfg = settings.model_copy(
                    update={"sms_gateway_url": sms_url, "smtp_url": f"smtp://127.0.0.1:{smtp_port}"}
                )
                case = Case(cfg)
                noon = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
                async with bus_ctx(cfg, FixedClock(noon)) as ctx:
                    await deliver(ctx, case.story())
                    providers = Providers.from_settings(cfg)
                    try:
                        while await send_due(ctx, providers, ctx.clock):
                            pass
                    finally:
                        await providers.aclose()
                rows = await q(
                    db, "SELECT channel, status, held FROM notify.message ORDER BY created_at"
                )
                sms = [r for r in rows if r.channel == "sms"]
                # receipt (urgent) + 6 per hour: the 9th waits for the hour to pass
                assert sum(r.status == "sent" for r in sms) == 1 + cfg.notify_sms_per_phone_per_hour
                assert (
                    sum(r.held == "rate_limited" for r in sms)
                    == 9 - 1 - cfg.notify_sms_per_phone_per_hour
                )
                assert all(r.status == "sent" for r in rows if r.channel == "email")
                assert len(mailbox.messages) == 9
                assert all(m.rcpt_tos == [EMAIL] for m in mailbox.messages)
                async with httpx.AsyncClient() as c:
                    stats = (await c.get(f"{sms_url}/v1/stats")).json()
                assert stats["delivered"] == 7 and stats["duplicates"] == 0

                async def receipts() -> bool:
                    n = await q(
                        db, "SELECT count(*) FROM notify.message WHERE delivery_status='delivered'"
                    )
                    return n[0][0] == 7

                await eventually(receipts, timeout=15)
                # a receipt without the gateway's token is refused and changes nothing
                async with httpx.AsyncClient() as c:
                    forged = await c.post(
                        f"{notify_url}/api/v1/notify/receipts/sms",
                        json={"message_id": str(uuid.uuid4()), "provider_ref": "x",
                              "status": "failed"},
                        headers={"Authorization": "Bearer guess"},
                    )  # fmt: skip
                assert forged.status_code == 401

                # quiet hours: at 22:00 in Shanghai a non-urgent SMS waits until 08:00
                night = datetime(2026, 11, 24, 22, 0, tzinfo=SHANGHAI)
                late = Case(
                    cfg,
                    order_no=None,
                    province_case_no=None,
                    phone="13700137000",
                    email=None,
                    at=night,
                )
                async with bus_ctx(cfg, FixedClock(night)) as ctx:
                    await deliver(ctx, late.story()[:2], start=500)
                held = await q(
                    db,
                    "SELECT kind, next_attempt_at, held FROM notify.message WHERE case_id = :c "
                    "ORDER BY kind",
                    c=uuid.UUID(late.case_id),
                )
                by_kind = {r.kind: r for r in held}
                assert by_kind["receipt"].held is None  # urgent: the answer to their own act
                assert by_kind["acceptance"].held == "quiet_hours"
                assert by_kind["acceptance"].next_attempt_at == datetime(
                    2026, 11, 25, 8, 0, tzinfo=SHANGHAI
                )
    finally:
        controller.stop()
