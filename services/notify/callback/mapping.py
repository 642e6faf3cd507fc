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
which sends ``transferred``. So the objection itself sends nothing. An evaluation has no
hotline status: neither event of one sends the hotline anything.

§3 ``evaluated``: one result per evaluation, whichever way it was recorded.

* The petitioner rates through the signed link or the citizen API, or the window passes
  (超期未评价): notify's ``notify.evaluation.recorded`` — queued for the platform in the
  transaction that records the rating (``services/notify/evaluation/service.py``), with the
  reason. Casework then turns that rating into its own ``casework.case.evaluated`` (actor
  ``petitioner``): the same evaluation, already sent, so that event sends nothing.
* Staff record the rating with casework's ``evaluate`` act (given by phone, at the desk):
  ``casework.case.evaluated`` with a staff actor is the only event of that evaluation and is
  sent, like every other milestone, in the case's order.

Ratings go as the contract's words (满意 / 基本满意 / 不满意); 超期未评价 for an expired
window; ``org_unit`` is the unit whose handling was rated, on both paths.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.clock import SHANGHAI
from shared.crypto import redact
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


# The actor of casework's ``evaluated`` when it records notify's own rating of the petitioner
# (``services/casework/case/service.py`` ``record_evaluation``); staff acts carry the staff id.
PETITIONER = "petitioner"


def rfc3339(at: datetime) -> str:
    """With the +08:00 offset the partners use."""
    return at.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _refusal_message(event: ev.CaseRefusedV1) -> str:
    where = f"，您可以：{event.where_to_go}" if event.where_to_go else ""
    return f"不予受理：{event.reason}{where}"


_CONTACT_MESSAGE = {
    "phone": "承办单位已与来电人取得联系，正在办理",
    "sms": "承办单位已与来电人取得联系，正在办理",
    "letter": "承办单位已与来电人取得联系，正在办理",
    "visit": "承办单位已约见来电人，正在办理",
    "site_visit": "承办单位已到现场核查，正在办理",
    "mediation": "承办单位已组织调解，正在办理",
}


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
        # the contact itself is not a public milestone: say what happened, without its notes
        message = message or _CONTACT_MESSAGE.get(event.method, _CONTACT_MESSAGE["phone"])
        department = department or lead_unit_name
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


def _evaluation(unit: str | None, office: str | None, reason: str | None) -> dict[str, Any]:
    return {
        "evaluation": {
            "unit": RATING_ZH[unit] if unit else None,
            "office": RATING_ZH[office] if office else None,
            "reason": reason,
        }
    }


def exchange_result(
    event: EventPayload, *, rated_unit_name: str | None = None
) -> dict[str, Any] | None:
    """The §3 body without ``event_id`` / ``province_case_no``, or None. ``rated_unit_name``:
    the case's lead unit, the ``org_unit`` of a staff-recorded ``evaluated``."""
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
        extra = _evaluation(event.unit_rating, event.office_rating, event.reason)
    elif isinstance(event, ev.CaseEvaluatedV1):
        if event.actor == PETITIONER:
            return None  # notify's own rating, sent with notify.evaluation.recorded
        milestone, at = "evaluated", event.occurred_at
        org_unit = rated_unit_name or org_unit
        reason = redact(event.reason) if event.reason else None  # redacted by casework too
        extra = _evaluation(event.unit_rating, event.office_rating, reason)
    else:
        return None
    return {
        "milestone": milestone,
        "occurred_at": rfc3339(at),
        "org_unit": org_unit,
        "document": document,
        **extra,
    }
