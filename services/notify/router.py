"""Notify's API, all under ``/api/v1/notify`` (the base URL routes the area to notify):

* citizens (signed in): the in-app inbox, their evaluations;
* anyone holding a signed evaluation link: that one evaluation;
* staff: the unit's alerts, a case's delivery log (scoped to the case's units; accusations
  only for discipline inspectors), template previews; administrators: partner callbacks;
* the SMS gateway: delivery receipts.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from sqlalchemy import text

from services.notify.alert import repository as alerts
from services.notify.callback import repository as callbacks
from services.notify.contact import repository as contacts
from services.notify.evaluation import link
from services.notify.evaluation import service as evaluations
from services.notify.inbox import repository as inbox
from services.notify.message import repository as messages
from services.notify.message import templates
from services.notify.schemas import (
    AlertPage,
    AlertRead,
    CallbackRead,
    DeliveryLog,
    DeliveryRead,
    EvaluationCreate,
    EvaluationRead,
    InboxItemRead,
    InboxPage,
    PreviewRequest,
    ReadMark,
    SmsReceipt,
    TemplateRead,
)
from shared.api.deps import ClockDep, DbDep, KeysDep, SettingsDep
from shared.api.errors import ApiError
from shared.api.params import RowId
from shared.crypto import mask_phone
from shared.identity.deps import CurrentPrincipal, StaffPrincipal, require_roles
from shared.identity.principal import Principal
from shared.identity.roles import ADMIN, DISCIPLINE_INSPECTOR

PREFIX = "/api/v1/notify"
router = APIRouter(prefix=PREFIX, tags=["notify (通知)"])

Limit = Annotated[int, Query(ge=1, le=200)]


def _not_found(what: str = "not found") -> ApiError:
    return ApiError(404, "not_found", "未找到", what)


def _citizen(principal: Principal) -> str:
    if not principal.is_citizen:
        raise ApiError(403, "forbidden", "仅限公众用户", "for signed-in citizens only")
    return principal.subject


async def citizen_key(principal: CurrentPrincipal) -> str:
    """The signed-in citizen's person key (the keyed hash of their phone)."""
    return _citizen(principal)


CitizenDep = Annotated[str, Depends(citizen_key)]


# --- the citizen's inbox ---------------------------------------------------------------


@router.get("/inbox", response_model=InboxPage, summary="My messages (newest first)")
async def my_inbox(
    person: CitizenDep,
    db: DbDep,
    keys: KeysDep,
    before: RowId | None = None,
    limit: Limit = 50,
    unread: bool = False,
) -> InboxPage:
    async with db.transaction("notify") as conn:
        rows = await inbox.list_items(
            conn, recipient_hash=person, before=before, limit=limit, unread=unread
        )
    items = [
        InboxItemRead(
            id=r.id,
            case_id=str(r.case_id) if r.case_id else None,
            tracking_no=r.tracking_no,
            kind=r.kind,
            title=r.title,
            body=keys.ring.decrypt_text(r.body_enc) or "",
            link=r.link,
            created_at=r.created_at,
            read_at=r.read_at,
        )
        for r in rows
    ]
    return InboxPage(items=items, next_before=items[-1].id if len(items) == limit else None)


@router.post("/inbox/{item_id}/read", response_model=ReadMark, summary="Mark a message read")
async def read_inbox_item(
    item_id: RowId, person: CitizenDep, db: DbDep, clock: ClockDep
) -> ReadMark:
    async with db.transaction("notify") as conn:
        row = await inbox.mark_read(conn, item_id=item_id, recipient_hash=person, at=clock.now())
    if row is None:
        raise _not_found("no such message")
    return ReadMark(id=row.id, read_at=row.read_at)


# --- evaluations ----------------------------------------------------------------------------


def _evaluation(row: Any) -> EvaluationRead:
    return EvaluationRead(
        case_id=str(row.case_id),
        tracking_no=row.tracking_no,
        status=row.status,
        unit_name=row.unit_name,
        expires_at=row.expires_at,
        unit_rating=row.unit_rating,
        office_rating=row.office_rating,
        reason=row.reason,
        rated_at=row.rated_at,
        channel=row.channel,
    )


@router.get("/evaluations", response_model=list[EvaluationRead], summary="My evaluations")
async def my_evaluations(person: CitizenDep, db: DbDep) -> list[EvaluationRead]:
    async with db.transaction("notify") as conn:
        rows = await evaluations.open_for_citizen(conn, person)
    return [_evaluation(r) for r in rows]


@router.post(
    "/evaluations/{case_id}",
    status_code=201,
    summary="Rate my case: the handling unit and the petition office separately",
)
async def rate_my_case(
    case_id: uuid.UUID, body: EvaluationCreate, person: CitizenDep, db: DbDep, clock: ClockDep
) -> dict[str, Any]:
    async with db.transaction("notify") as conn:
        return await evaluations.record(
            conn,
            case_id=case_id,
            unit_rating=body.unit_rating,
            office_rating=body.office_rating,
            reason=body.reason,
            channel="citizen",
            clock=clock,
            recipient_hash=person,
        )


def _claim(token: str, settings: Any, clock: Any) -> link.LinkClaim:
    claim = link.read_token(settings.secret_key, token, clock.now())
    if claim is None:
        raise _not_found("the link is wrong or has expired")
    return claim


@router.get(
    f"{link.PATH.removeprefix(PREFIX)}/{{token}}",
    response_model=EvaluationRead,
    summary="The evaluation behind a signed link",
)
async def evaluation_by_link(
    token: str, db: DbDep, settings: SettingsDep, clock: ClockDep
) -> EvaluationRead:
    claim = _claim(token, settings, clock)
    async with db.transaction("notify") as conn:
        row = await evaluations.get(conn, claim.case_id)
    if row is None:
        raise _not_found()
    return _evaluation(row)


@router.post(
    f"{link.PATH.removeprefix(PREFIX)}/{{token}}",
    status_code=201,
    summary="Rate through the signed link of the 回访 message",
)
async def rate_by_link(
    token: str, body: EvaluationCreate, db: DbDep, settings: SettingsDep, clock: ClockDep
) -> dict[str, Any]:
    claim = _claim(token, settings, clock)
    async with db.transaction("notify") as conn:
        return await evaluations.record(
            conn,
            case_id=claim.case_id,
            unit_rating=body.unit_rating,
            office_rating=body.office_rating,
            reason=body.reason,
            channel="link",
            clock=clock,
        )


# --- staff: alerts, delivery log, templates ----------------------------------------------


def _unit(principal: Principal) -> str:
    if not principal.org_unit_id:
        raise _not_found("you belong to no unit")
    return principal.org_unit_id


@router.get("/alerts", response_model=AlertPage, summary="My unit's alerts (newest first)")
async def unit_alerts(
    principal: StaffPrincipal,
    db: DbDep,
    before: RowId | None = None,
    limit: Limit = 50,
    unread: bool = False,
) -> AlertPage:
    async with db.transaction("notify") as conn:
        rows = await alerts.list_alerts(
            conn,
            unit_id=_unit(principal),
            roles=sorted(principal.roles),
            discipline=principal.has_role(DISCIPLINE_INSPECTOR),
            before=before,
            limit=limit,
            unread=unread,
        )
    items = [
        AlertRead(
            id=r.id,
            kind=r.kind,
            case_id=str(r.case_id),
            tracking_no=r.tracking_no,
            accusation=r.accusation,
            text=r.text,
            due_at=r.due_at,
            created_at=r.created_at,
            read_at=r.read_at,
        )
        for r in rows
    ]
    return AlertPage(items=items, next_before=items[-1].id if len(items) == limit else None)


@router.post("/alerts/{alert_id}/read", response_model=ReadMark, summary="Mark an alert read")
async def read_alert(
    alert_id: RowId, principal: StaffPrincipal, db: DbDep, clock: ClockDep
) -> ReadMark:
    async with db.transaction("notify") as conn:
        row = await alerts.mark_read(
            conn,
            alert_id=alert_id,
            unit_id=_unit(principal),
            roles=sorted(principal.roles),
            discipline=principal.has_role(DISCIPLINE_INSPECTOR),
            at=clock.now(),
        )
    if row is None:
        raise _not_found("no such alert")
    return ReadMark(id=row.id, read_at=row.read_at)


@router.get(
    "/deliveries",
    response_model=DeliveryLog,
    summary="Everything sent about one case: messages, inbox items, partner callbacks",
)
async def delivery_log(
    case_id: uuid.UUID, principal: StaffPrincipal, db: DbDep, keys: KeysDep
) -> DeliveryLog:
    async with db.transaction("notify") as conn:
        contact = await contacts.get(conn, keys.ring, case_id)
        # out of scope answers 404, never 403 (architecture §6)
        if contact is None or principal.org_unit_id not in contact.units:
            raise _not_found("no such case")
        if contact.accusation and not principal.has_role(DISCIPLINE_INSPECTOR):
            raise _not_found("no such case")
        sent = (
            await conn.execute(
                text(
                    "SELECT channel, kind, template, status, attempts, created_at, sent_at, "
                    "delivery_status, held, last_error, recipient_enc FROM notify.message "
                    "WHERE case_id = :c ORDER BY created_at, message_id"
                ),
                {"c": case_id},
            )
        ).all()
        items = await inbox.for_case(conn, case_id)
        calls = await callbacks.list_for(conn, case_id=case_id, stuck=False, limit=1000)
    out = [
        DeliveryRead(
            channel=r.channel,
            kind=r.kind,
            template=r.template,
            status=r.status,
            attempts=r.attempts,
            created_at=r.created_at,
            sent_at=r.sent_at,
            delivery_status=r.delivery_status,
            held=r.held,
            last_error=r.last_error,
            recipient=_mask(r.channel, keys.ring.decrypt_text(r.recipient_enc) or ""),
        )
        for r in sent
    ]
    out += [
        DeliveryRead(
            channel="inbox",
            kind=i.kind,
            template=i.template,
            status="read" if i.read_at else "delivered",
            attempts=1,
            created_at=i.created_at,
            sent_at=i.created_at,
        )
        for i in items
    ]
    out += [
        DeliveryRead(
            channel=c.partner,
            kind=c.status_sent,
            template=None,
            status=c.state,
            attempts=c.attempts,
            created_at=c.created_at,
            sent_at=c.sent_at,
            last_error=c.last_error,
        )
        for c in calls
    ]
    out.sort(key=lambda d: d.created_at)
    return DeliveryLog(case_id=str(case_id), tracking_no=contact.tracking_no, deliveries=out)


def _mask(channel: str, address: str) -> str:
    if channel == "sms":
        return mask_phone(address)
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"


@router.get("/templates", response_model=list[TemplateRead], summary="Message templates")
async def list_templates(principal: StaffPrincipal) -> list[TemplateRead]:
    return [
        TemplateRead(
            kind=t.kind,
            label=t.label,
            version=t.version,
            template=t.ref,
            channels=list(t.sources),
            sample=t.sample,
        )
        for t in templates.TEMPLATES.values()
    ]


@router.post("/templates/{kind}/preview", summary="Render a template for one channel")
async def preview_template(
    kind: str, body: PreviewRequest, principal: StaffPrincipal, settings: SettingsDep
) -> dict[str, Any]:
    try:
        return templates.preview(
            kind, body.channel, body.context, sms_max=settings.notify_sms_max_chars
        )
    except templates.UnknownTemplate:
        raise _not_found("no such template or channel") from None
    except Exception as exc:  # a context missing a value the wording needs
        raise ApiError(
            422, "render_failed", "模板渲染失败", f"the template could not render: {exc}", "context"
        ) from None


@router.get(
    "/callbacks",
    response_model=list[CallbackRead],
    summary="Partner callbacks (operators): by case, or those failing past the alert threshold",
    dependencies=[Depends(require_roles(ADMIN))],
)
async def list_callbacks(
    db: DbDep, case_id: uuid.UUID | None = None, stuck: bool = False, limit: Limit = 100
) -> list[CallbackRead]:
    async with db.transaction("notify") as conn:
        rows = await callbacks.list_for(conn, case_id=case_id, stuck=stuck, limit=limit)
    return [
        CallbackRead(
            id=r.id,
            partner=r.partner,
            stream=r.stream,
            event_id=str(r.event_id),
            case_id=str(r.case_id) if r.case_id else None,
            status_sent=r.status_sent,
            state=r.state,
            attempts=r.attempts,
            next_attempt_at=r.next_attempt_at,
            first_failed_at=r.first_failed_at,
            alerted_at=r.alerted_at,
            last_error=r.last_error,
            created_at=r.created_at,
            sent_at=r.sent_at,
        )
        for r in rows
    ]


# --- the SMS gateway's delivery receipts ----------------------------------------------------


def _gateway_token(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """The gateway's receipts carry ``MINSHENG_SMS_RECEIPT_TOKEN`` as a bearer token (checked
    before the body, so an unauthenticated caller learns nothing from validation)."""
    expected = f"Bearer {settings.sms_receipt_token}"
    if not authorization or not hmac.compare_digest(authorization, expected):
        raise ApiError(
            401, "invalid_token", "回执凭证无效", "the receipt token is missing or wrong"
        )


@router.post(
    "/receipts/sms",
    status_code=204,
    summary="Delivery receipt from the SMS gateway (matched on our message id and its ref)",
)
async def sms_receipt(
    body: SmsReceipt,
    db: DbDep,
    clock: ClockDep,
    _: Annotated[None, Depends(_gateway_token)],
) -> None:
    try:
        message_id = uuid.UUID(body.message_id)
    except ValueError:
        raise _not_found("no such message") from None
    async with db.transaction("notify") as conn:
        ok = await messages.record_receipt(
            conn,
            message_id=message_id,
            provider_ref=body.provider_ref,
            status=body.status,
            at=body.at or clock.now(),
        )
    if not ok:
        raise _not_found("no such message")
