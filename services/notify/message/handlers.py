"""Notify's consumers. Every effect is keyed by the event, so a redelivered event changes
nothing: one message per (event, recipient, channel), one inbox item per (event, recipient),
one staff alert per (event, unit, kind), one partner callback per (partner, event).

* ``casework.case.registered`` — keep the case's contact (``case_contact``), the receipt
  (回执) by SMS, e-mail and in the inbox, the hotline's ``received``.
* every milestone with a ``public_message`` — 回告 (accepted, refused, diverted), 回复
  (replied, reviewed) or 回音 (the rest) to the petitioner; a reply opens the evaluation and
  sends the 回访 invitation with its signed link.
* staff alerts — a new assignment (lead and co-units), deadlines approaching and missed,
  approvals waiting for a unit head, a supervision (督办通知) to the lead unit. The internal
  milestones (督办, 领导包案) carry no ``public_message``: nothing to the petitioner, and no
  partner callback.
* partner callbacks — hotline status (integrations §2) and provincial results (§3).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.alert import repository as alerts
from services.notify.callback import mapping as callback_mapping
from services.notify.callback import service as callbacks
from services.notify.contact import repository as contacts
from services.notify.contact.repository import Contact
from services.notify.evaluation import link
from services.notify.evaluation import service as evaluations
from services.notify.inbox import repository as inbox
from services.notify.message import service, templates
from services.notify.message.service import Outgoing, Sms
from shared.bus import BusContext
from shared.bus.consumer import Handler, batch
from shared.clock import SHANGHAI
from shared.crypto import open_pii
from shared.events import casework as ev
from shared.events.casework import CaseRegisteredV1
from shared.events.envelope import Envelope, EventPayload
from shared.events.intake import OneTimeCodeIssuedV1
from shared.security import Keys, keys_for

URGENT_CASES = ("urgent", "emergency")
_CALLBACK_NS = uuid.UUID("5b0c3c9e-4a8f-4f57-9d0e-6a8e0c1f2a11")


def _date(at: Any) -> str:
    if at is None:
        return ""
    local = at.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日"


def _petitioner_messages(
    ctx: BusContext,
    keys: Keys,
    *,
    event_id: uuid.UUID,
    contact: Contact,
    kind: str,
    context: dict[str, Any],
    urgent: bool,
) -> tuple[list[Outgoing], list[dict[str, Any]]]:
    """The messages (SMS, e-mail) and inbox item of one return to the petitioner."""
    tpl = templates.TEMPLATES[kind]
    sms_max = ctx.settings.notify_sms_max_chars
    out: list[Outgoing] = []
    items: list[dict[str, Any]] = []
    if contact.phone and contact.recipient_hash:
        out.append(
            Outgoing(
                event_id=event_id,
                kind=kind,
                channel="sms",
                address=contact.phone,
                recipient_hash=contact.recipient_hash,
                text=templates.render(kind, "sms", context, sms_max=sms_max),
                case_id=contact.case_id,
                urgent=urgent,
                template=tpl.ref,
            )
        )
    if contact.email:
        out.append(
            Outgoing(
                event_id=event_id,
                kind=kind,
                channel="email",
                address=contact.email,
                recipient_hash=keys.hash.digest("email", contact.email.lower()),
                text=templates.render(kind, "email", context),
                subject=templates.title(kind, context),
                case_id=contact.case_id,
                urgent=urgent,
                template=tpl.ref,
            )
        )
    if contact.recipient_hash:
        body = templates.render(kind, "inbox", context)
        items.append(
            {
                "e": event_id,
                "r": contact.recipient_hash,
                "c": contact.case_id,
                "t": contact.tracking_no,
                "k": kind,
                "tp": tpl.ref,
                "ti": templates.title(kind, context),
                "b": keys.ring.encrypt_text(body) or "",
                "l": context.get("evaluation_url") or context.get("track_url"),
            }
        )
    return out, items


async def on_cases_registered(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> None:
    """The receipt (回执): tracking number and query code; the case's contact kept."""
    keys = keys_for(ctx.settings)
    contact_rows = []
    out: list[Outgoing] = []
    items: list[dict[str, Any]] = []
    registered: list[tuple[Envelope, CaseRegisteredV1, Contact]] = []
    for env in envs:
        event = CaseRegisteredV1.model_validate(env.payload)
        pii = open_pii(keys.ring, event.pii) if event.pii is not None else {}
        phone = pii.get("phone") or None
        recipient = keys.hash.digest("phone", phone) if phone else None
        case_id = uuid.UUID(event.case_id)
        contact_rows.append(
            contacts.contact_row(
                keys.ring,
                case_id=case_id,
                tracking_no=event.tracking_no,
                recipient_hash=recipient,
                pii=pii,
                source=event.source,
                urgency=event.urgency,
                accusation=event.accusation,
                external_ids=event.external_ids,
                office_unit_id=event.office_unit_id,
                registered_at=event.registered_at,
            )
        )
        contact = Contact(
            case_id=case_id,
            tracking_no=event.tracking_no,
            recipient_hash=recipient,
            pii=pii,
            source=event.source,
            urgency=event.urgency,
            accusation=event.accusation,
            external_ids=dict(event.external_ids),
            office_unit_id=event.office_unit_id,
            lead_unit_id=None,
            lead_unit_name=None,
            co_unit_ids=[],
            in_progress_sent=False,
        )
        registered.append((env, event, contact))
        if not phone and not pii.get("email"):
            continue  # no contact details: the receipt was handed over at the desk
        context = {
            "tracking_no": event.tracking_no,
            "query_code": pii.get("query_code", ""),
            "track_url": service.track_url(ctx.settings, event.tracking_no),
        }
        # the receipt answers the citizen's own act just now: sent at once, quiet hours or not
        o, i = _petitioner_messages(
            ctx,
            keys,
            event_id=env.event_id,
            contact=contact,
            kind="receipt",
            context=context,
            urgent=True,
        )
        out += o
        items += i
    await contacts.upsert_many(db, contact_rows)
    await service.queue(db, keys=keys, settings=ctx.settings, clock=ctx.clock, messages=out)
    await inbox.add_items(db, items)
    for env, event, contact in registered:
        if contact.order_no or contact.province_case_no:
            await callbacks.queue_for_event(db, event_id=env.event_id, event=event, contact=contact)


def _return_kind(event: EventPayload) -> str:
    if isinstance(event, ev.CaseAcceptedV1 | ev.CaseRefusedV1 | ev.CaseDivertedV1):
        return "acceptance"
    if isinstance(event, ev.CaseRepliedV1 | ev.CaseReviewedV1):
        return "reply"
    return "progress"


def _supervised_text(ctx: dict[str, Any]) -> str:
    """督办通知 to the lead unit (its wording belongs with ``templates.ALERTS``)."""
    number = f"（{ctx['notice_no']}）" if ctx.get("notice_no") else ""
    by = f"{ctx['unit_name']}" if ctx.get("unit_name") else ""
    return (
        f"督办通知{number}：{ctx['tracking_no']} 已被{by}督办，请于 {ctx['due_on']} 前办结并报告。"
        f"督办事由：{ctx['reason']}"
    )


def _alerts_for(
    env: Envelope, event: EventPayload, contact: Contact | None
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def alert(
        unit: str | None,
        kind: str,
        ctx: dict[str, Any],
        *,
        role: str | None = None,
        due: Any = None,
        accusation: bool = False,
        text: str | None = None,
    ) -> None:
        if not unit:
            return
        rows.append(
            {
                "e": env.event_id,
                "u": unit,
                "k": kind,
                "ro": role,
                "c": uuid.UUID(ctx["case_id"]),
                "t": ctx["tracking_no"],
                "a": accusation,
                "x": text or templates.alert_text(kind, ctx),
                "d": due,
            }
        )

    ctx: dict[str, Any]
    if isinstance(event, ev.CaseAssignedV1):
        ctx = {
            "case_id": event.case_id,
            "tracking_no": event.tracking_no,
            "unit_name": event.lead_unit_name,
            "due_on": _date(event.due_at),
        }
        for unit in dict.fromkeys([event.lead_unit_id, *event.co_unit_ids]):
            alert(unit, "assigned", ctx, due=event.due_at, accusation=event.accusation)
    elif isinstance(event, ev.CaseDeadlineApproachedV1 | ev.CaseDeadlineMissedV1):
        kind = (
            "deadline_approaching"
            if isinstance(event, ev.CaseDeadlineApproachedV1)
            else "deadline_missed"
        )
        fallback = (contact.lead_unit_id or contact.office_unit_id) if contact else None
        target = event.unit_id or fallback
        ctx = {
            "case_id": event.case_id,
            "tracking_no": event.tracking_no,
            "clock_label": templates.CLOCK_LABELS.get(event.clock, event.clock),
            "due_on": _date(event.deadline),
        }
        alert(target, kind, ctx, due=event.deadline, accusation=event.accusation)
    elif isinstance(event, ev.ApprovalRequestedV1):
        ctx = {
            "case_id": event.case_id,
            "tracking_no": event.tracking_no,
            "approval_label": templates.APPROVAL_LABELS.get(event.kind, event.kind),
        }
        alert(
            event.approver_unit_id, "approval", ctx, role="unit_lead", accusation=event.accusation
        )
    elif isinstance(event, ev.CaseSupervisedV1):
        # to the unit that handles the case (known from its assignment), never to the
        # supervising unit itself
        lead = contact.lead_unit_id if contact else None
        ctx = {
            "case_id": event.case_id,
            "tracking_no": event.tracking_no,
            "unit_name": event.unit_name,
            "notice_no": event.notice_no,
            "reason": event.reason,
            "due_on": _date(event.supervision_due_at),
        }
        if lead != event.supervising_unit_id:
            alert(
                lead,
                "supervised",
                ctx,
                due=event.supervision_due_at,
                accusation=event.accusation,
                text=_supervised_text(ctx),
            )
    return rows


async def on_case_event(db: AsyncConnection, env: Envelope, ctx: BusContext) -> None:
    """Every casework event after registration, in the case's order."""
    keys = keys_for(ctx.settings)
    event = env.parse()
    case_id = uuid.UUID(str(getattr(event, "case_id", env.aggregate_id)))
    contact = await contacts.get(db, keys.ring, case_id)

    await alerts.add_alerts(db, _alerts_for(env, event, contact))
    if contact is None:
        return  # registered before notify kept contacts: nobody to tell, no partner ids
    if isinstance(event, ev.CaseAssignedV1):
        await contacts.set_units(
            db,
            case_id=case_id,
            lead_unit_id=event.lead_unit_id,
            lead_unit_name=event.lead_unit_name,
            co_unit_ids=event.co_unit_ids,
        )
    elif isinstance(event, ev.CaseObjectedV1):
        await contacts.set_units(
            db, case_id=case_id, lead_unit_id=None, lead_unit_name=None, co_unit_ids=[]
        )
    elif isinstance(event, ev.CaseEvaluatedV1) and event.actor != callback_mapping.PETITIONER:
        await evaluations.close_by_staff(
            db,
            case_id=case_id,
            unit_rating=event.unit_rating,
            office_rating=event.office_rating,
            reason=event.reason,
            at=event.occurred_at,
        )

    await callbacks.queue_for_event(db, event_id=env.event_id, event=event, contact=contact)

    public = getattr(event, "public_message", None)
    if not public or isinstance(event, ev.CaseEvaluatedV1):
        return
    urgent = contact.urgency in URGENT_CASES
    context: dict[str, Any] = {
        "tracking_no": contact.tracking_no,
        "public_message": public,
        "reply_text": getattr(event, "reply_text", None) or "",
        "unit_name": getattr(event, "unit_name", None) or contact.lead_unit_name,
        "track_url": service.track_url(ctx.settings, contact.tracking_no),
    }
    out, items = _petitioner_messages(
        ctx,
        keys,
        event_id=env.event_id,
        contact=contact,
        kind=_return_kind(event),
        context=context,
        urgent=urgent,
    )
    if isinstance(event, ev.CaseRepliedV1) and event.stage == "reply":
        expires = await evaluations.open_for(
            db,
            case_id=case_id,
            tracking_no=contact.tracking_no,
            recipient_hash=contact.recipient_hash,
            unit_id=event.unit_id or contact.lead_unit_id,
            unit_name=event.unit_name or contact.lead_unit_name,
            province_case_no=contact.province_case_no,
            replied_at=event.occurred_at,
            settings=ctx.settings,
        )
        if expires is not None and (contact.phone or contact.email or contact.recipient_hash):
            invite = {
                **context,
                "evaluation_url": link.make_url(
                    ctx.settings.public_url(), ctx.settings.secret_key, case_id, expires
                ),
                "expires_on": _date(expires),
            }
            o, i = _petitioner_messages(
                ctx,
                keys,
                event_id=uuid.uuid5(_CALLBACK_NS, str(env.event_id)),
                contact=contact,
                kind="callback",
                context=invite,
                urgent=urgent,
            )
            out += o
            items += i
    await service.queue(db, keys=keys, settings=ctx.settings, clock=ctx.clock, messages=out)
    await inbox.add_items(db, items)


async def on_otp_issued(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> None:
    keys = keys_for(ctx.settings)
    out = []
    for env in envs:
        event = OneTimeCodeIssuedV1.model_validate(env.payload)
        pii = open_pii(keys.ring, event.pii)
        out.append(
            Sms(
                event_id=env.event_id,
                kind="otp",
                phone=pii["phone"],
                text=templates.otp_sms(code=pii["code"], minutes=5),
                case_id=None,
                template=templates.TEMPLATES["otp"].ref,
            )
        )
    await service.queue_sms(db, keys=keys, messages=out, settings=ctx.settings, clock=ctx.clock)


HANDLERS: dict[str, Handler] = {
    CaseRegisteredV1.type: batch(on_cases_registered),
    OneTimeCodeIssuedV1.type: batch(on_otp_issued),
    ev.CaseWithdrawnV1.type: on_case_event,
    ev.ApprovalRequestedV1.type: on_case_event,
    **{m.type: on_case_event for m in ev.MILESTONES},
}
