"""What each casework milestone means to the partners — integrations §2 (the 12345 hotline's
status callbacks) and §3 (the provincial platform's results). Pure functions: an event and
the case's contact in, the body to POST (or None) out.

§2 mapping, exactly as the contract's table:

=============================================================  ===============
our milestone                                                   ``status``
=============================================================  ===============
registered                                                      ``received``
accepted (受理)                                                  ``accepted``
not accepted, diverted to another procedure, objection upheld   ``rejected``
assigned / transferred to a unit (交办/转送)                      ``transferred``
first contact with the caller or site visit                     ``in_progress``
replied (答复 / 处理意见书)                                        ``replied``
closed, withdrawn                                               ``closed``
=============================================================  ===============

Extensions and review requests send nothing to the hotline. A unit's objection
(``casework.case.objected``) only sends the case back to the office; it is *upheld* when the
office then refuses or diverts the case, which sends ``rejected`` — or the office reassigns it,
which sends ``transferred``. So the objection itself sends nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.clock import SHANGHAI
from shared.events import casework as ev
from shared.events.envelope import EventPayload
from shared.events.notify import EvaluationRecordedV1

HOTLINE = "hotline"
EXCHANGE = "exchange"

RATING_ZH = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "expired": "超期未评价",
}


def rfc3339(at: datetime) -> str:
    """With the +08:00 offset the partners use."""
    return at.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _refusal_message(event: ev.CaseRefusedV1) -> str:
    where = f"，您可以：{event.where_to_go}" if event.where_to_go else ""
    return f"不予受理：{event.reason}{where}"


def hotline_status(
    event: EventPayload, *, first_contact: bool, lead_unit_name: str | None
) -> dict[str, Any] | None:
    """The §2 body without ``event_id`` / ``order_no`` (the caller adds them), or None."""
    status: str
    message: str | None = getattr(event, "public_message", None)
    department: str | None = getattr(event, "unit_name", None)
    reply: str | None = None
    if isinstance(event, ev.CaseRegisteredV1):
        status, at = "received", event.registered_at
        department = None
        message = event.public_message
    elif isinstance(event, ev.CaseWithdrawnV1):
        status, at = "closed", event.withdrawn_at
        message = event.public_message
        department = None
    elif isinstance(event, ev.CaseAcceptedV1):
        status, at = "accepted", event.occurred_at
    elif isinstance(event, ev.CaseRefusedV1):
        status, at = "rejected", event.occurred_at
        message = _refusal_message(event)
    elif isinstance(event, ev.CaseDivertedV1):
        status, at = "rejected", event.occurred_at
        message = event.public_message or f"请通过其他法定途径解决：{event.reason}"
    elif isinstance(event, ev.CaseAssignedV1):
        status, at = "transferred", event.occurred_at
        department = event.lead_unit_name or lead_unit_name or event.lead_unit_id
    elif isinstance(event, ev.CaseContactedV1):
        if not first_contact:
            return None
        status, at = "in_progress", event.occurred_at
    elif isinstance(event, ev.CaseRepliedV1):
        if event.stage != "reply":
            return None  # review decisions are not the hotline's business (§2)
        status, at = "replied", event.occurred_at
        reply = event.reply_text or event.public_message
    elif isinstance(event, ev.CaseClosedV1):
        status, at = "closed", event.occurred_at
    else:
        return None
    return {
        "status": status,
        "occurred_at": rfc3339(at),
        "department": department,
        "message": message,
        "reply": reply,
    }


def is_first_contact_candidate(event: EventPayload) -> bool:
    """``in_progress`` is the first reached contact or a site visit."""
    return isinstance(event, ev.CaseContactedV1) and (
        event.reached or event.method in ("site_visit", "visit")
    )


def exchange_result(event: EventPayload) -> dict[str, Any] | None:
    """The §3 body without ``event_id`` / ``province_case_no``, or None."""
    document: dict[str, str] | None = None
    extra: dict[str, Any] = {}
    org_unit = getattr(event, "unit_name", None)
    public = getattr(event, "public_message", None)
    if isinstance(event, ev.CaseAcceptedV1):
        milestone, at = "accepted", event.occurred_at
        document = {"kind": "受理告知书", "text": public or "已受理"}
    elif isinstance(event, ev.CaseRefusedV1):
        milestone, at = "not_accepted", event.occurred_at
        kind = "不予受理告知书" if event.kind == "not_accepted" else "不再受理告知书"
        document = {"kind": kind, "text": _refusal_message(event)}
    elif isinstance(event, ev.CaseDivertedV1):
        milestone, at = "forwarded", event.occurred_at
        document = {"kind": "告知书", "text": public or event.reason}
    elif isinstance(event, ev.CaseRepliedV1):
        milestone, at = "replied", event.occurred_at
        text = event.reply_text or public or ""
        document = {"kind": "处理意见书", "text": text}
    elif isinstance(event, ev.CaseExtendedV1):
        milestone, at = "extended", event.occurred_at
        extra = {
            "deadline": rfc3339(event.due_at) if event.due_at else None,
            "reason": event.reason,
        }
    elif isinstance(event, ev.CaseReviewRequestedV1):
        milestone, at = "review_requested", event.occurred_at
    elif isinstance(event, ev.CaseClosedV1):
        milestone, at = "closed", event.occurred_at
    elif isinstance(event, ev.CaseWithdrawnV1):
        milestone, at = "closed", event.withdrawn_at
        org_unit = None
    elif isinstance(event, EvaluationRecordedV1):
        milestone, at = "evaluated", event.rated_at
        extra = {
            "evaluation": {
                "unit": RATING_ZH[event.unit_rating],
                "office": RATING_ZH[event.office_rating],
                "reason": event.reason,
            }
        }
    else:
        return None
    return {
        "milestone": milestone,
        "occurred_at": rfc3339(at),
        "org_unit": org_unit,
        "document": document,
        **extra,
    }
