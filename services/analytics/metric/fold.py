"""Folding events into a case's fact row (pure: no I/O).

Each event changes only what it knows, and in a way that does not depend on the order in which
events of *different* producers arrive (intake, casework and notify each keep their own order
per case, but not relative to each other), nor on a re-run of the same event set:

* first-time facts keep the earliest time (``min``); counts add (each event is applied once:
  the consumer's inbox and the rebuild's own de-duplication see to it);
* the latest state of something (the case's status, its handling unit, its evaluation, its
  closing) is the one of the highest casework ``aggregate_seq``;
* casework's dimensions win over intake's (``dims_seq`` > 0), and intake's amendments apply by
  revision;
* 督办 keeps each supervision by its id (``supervisions``) and every reply time
  (``reply_times``); whether the case's supervisions were answered in time is derived from
  both, so it does not depend on which of them came first either.

Nested values (``supervisions``, ``reply_times``) are replaced, never changed in place: the
store compares a fact with its copy from before the batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from shared.clock import SHANGHAI
from shared.events import casework as cw
from shared.events.envelope import Envelope, EventPayload
from shared.events.intake import (
    HotlineEvaluationReceivedV1,
    PetitionAmendedV1,
    PetitionReceivedV1,
)
from shared.events.notify import EvaluationRecordedV1

Fact = dict[str, Any]

_CLASSES: tuple[type[EventPayload], ...] = (
    PetitionReceivedV1,
    PetitionAmendedV1,
    HotlineEvaluationReceivedV1,
    cw.CaseRegisteredV1,
    cw.CaseWithdrawnV1,
    *cw.MILESTONES,
    EvaluationRecordedV1,
)
PAYLOADS: dict[str, type[EventPayload]] = {p.type: p for p in _CLASSES}
EVENT_TYPES: frozenset[str] = frozenset(PAYLOADS)

_INT_DEFAULTS = (
    "dims_seq",
    "intake_rev",
    "status_seq",
    "unit_seq",
    "assign_count",
    "objection_count",
    "extension_count",
    "missed_count",
    "eval_seq",
    "review_count",
    "close_seq",
    "supervision_count",
    "leader_count",
    "leader_seq",
)

# 进京: an item assigned from above that the national petition system (国家信访信息系统)
# handed down, as its data say: the national case number among its external ids, or a source
# label naming the national bureau (definitions.VISIT_LEVELS)
NATIONAL_ID_KEYS = frozenset({"national_case_no"})
NATIONAL_LABELS = ("国家信访局", "国家信访信息系统", "进京")
FROM_ABOVE_SOURCES = frozenset({"assigned_from_above", "province_transfer", "province_assign"})

# the hotline's words and casework's codes of a rating
RATINGS = {
    "满意": "satisfied",
    "基本满意": "basically_satisfied",
    "不满意": "dissatisfied",
    "satisfied": "satisfied",
    "basically_satisfied": "basically_satisfied",
    "dissatisfied": "dissatisfied",
    "expired": "expired",
}


def blank(case_id: str) -> Fact:
    fact: Fact = {
        "case_id": case_id,
        "accusation": False,
        "handle_missed": False,
        "national_origin": False,
        "supervisions": {},
        "reply_times": [],
    }
    for name in _INT_DEFAULTS:
        fact[name] = 0
    return fact


def national_origin(event: PetitionReceivedV1) -> bool:
    """Whether a petition came down from the national bureau (进京 when it is a visit)."""
    if event.source not in FROM_ABOVE_SOURCES:
        return False
    if NATIONAL_ID_KEYS & set(event.external_ids):
        return True
    label = event.source_category or ""
    return any(word in label for word in NATIONAL_LABELS)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def supervision_state(f: Fact) -> None:
    """``supervision_on_time`` / ``supervision_late`` / ``supervision_open_due`` from the
    case's supervisions and reply times. For each supervision, its reply is the first
    ``casework.case.replied`` (any stage) at or after it; it came in time when at or before
    the supervision's ``supervision_due_at``. The case is late once any supervision's reply
    came after its due time; on time when every supervision has a reply and none was late;
    ``supervision_open_due`` is the earliest due time of the supervisions still without a
    reply (overdue once it has passed: ``AS_OF_COUNTERS``)."""
    sups = f.get("supervisions") or {}
    if not sups:
        f["supervision_on_time"] = f["supervision_late"] = f["supervision_open_due"] = None
        return
    replies = sorted(datetime.fromisoformat(t) for t in f.get("reply_times") or ())
    late, all_replied = False, True
    open_due: datetime | None = None
    for s in sups.values():
        at, due = datetime.fromisoformat(s["at"]), datetime.fromisoformat(s["due"])
        reply = next((r for r in replies if r >= at), None)
        if reply is None:
            all_replied = False
            open_due = due if open_due is None else min(open_due, due)
        elif reply > due:
            late = True
    f["supervision_late"] = late
    f["supervision_on_time"] = all_replied and not late
    f["supervision_open_due"] = open_due


@dataclass
class TextChange:
    """What an event tells about the case's text row (``case_text``)."""

    case_id: str
    revision: int
    values: dict[str, Any] = field(default_factory=dict)


def apply_repeat(f: Fact, earlier: int, later_at: datetime | None) -> None:
    """What analytics' repeat check (``case_repeat``) found for the case: ``earlier`` petitions
    of the same person on the same matter received before it (a repeat, not 初信初访, when
    above zero), and ``later_at`` the receipt of the first such petition received after it
    (a repeat of this case: a failure for 一次性化解率, as intake's links are). Both only grow
    more certain as petitions arrive: the count is the check's current answer, the time the
    earliest seen, so applying a row again or later changes nothing."""
    f["repeat_detected"] = earlier
    f["repeat_at"] = _min(f.get("repeat_at"), later_at)


def unit_names(event: EventPayload) -> list[tuple[str, str, datetime]]:
    """The (unit id, name, time) pairs an event tells: the lead unit of an assignment, the
    acting unit of a milestone."""
    out: list[tuple[str, str, datetime]] = []
    if isinstance(event, cw.CaseAssignedV1) and event.lead_unit_name:
        out.append((event.lead_unit_id, event.lead_unit_name, event.occurred_at))
    if isinstance(event, cw._CaseMilestone) and event.unit_id and event.unit_name:
        out.append((event.unit_id, event.unit_name, event.occurred_at))
    return out


def parse(env: Envelope) -> EventPayload | None:
    cls = PAYLOADS.get(env.type)
    return cls.model_validate(env.payload) if cls is not None else None


def case_ids(env: Envelope, event: EventPayload) -> list[str]:
    """The facts an event touches: its case, and for a repeat petition the earlier cases."""
    ids = [str(getattr(event, "case_id", env.aggregate_id))]
    if isinstance(event, PetitionReceivedV1):
        ids.extend(event.prior_case_ids)
    return ids


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def local_day(t: datetime) -> date:
    return t.astimezone(SHANGHAI).date()


def _set_day(f: Fact) -> None:
    t = f.get("received_at") or f.get("registered_at")
    f["day"] = local_day(t) if t is not None else None


def _casework_dims(f: Fact, seq: int, event: Any) -> None:
    if seq <= f["dims_seq"]:
        return
    f["dims_seq"] = seq
    for name in ("region_code", "category_code", "source"):
        value = getattr(event, name, None)
        if value is not None:
            f[name] = value


def _status(f: Fact, seq: int, status: str) -> None:
    if seq > f["status_seq"]:
        f["status_seq"] = seq
        f["status"] = status


def apply(facts: dict[str, Fact], env: Envelope, event: EventPayload) -> TextChange | None:
    """Fold one event into ``facts`` (which holds every id of :func:`case_ids`)."""
    seq = env.aggregate_seq
    if isinstance(event, PetitionReceivedV1):
        f = facts[event.case_id]
        f["tracking_no"] = event.tracking_no
        f["received_at"] = _min(f.get("received_at"), event.received_at)
        if f["dims_seq"] == 0 and f["intake_rev"] == 0:
            f["region_code"] = event.region_code
            f["category_code"] = event.category_code
            f["source"] = event.source
        f["channel"] = event.channel
        f["accusation"] = f["accusation"] or event.accusation
        f["urgency"] = f.get("urgency") or event.urgency
        f["people_count"] = event.people_count
        f["collective"] = event.collective or event.people_count >= 5
        f["prior_count"] = len(event.prior_case_ids)
        f["public_attention"] = event.public_attention
        f["national_origin"] = national_origin(event)
        f["received_level"] = event.received_level
        _set_day(f)
        for prior in event.prior_case_ids:
            if prior != event.case_id:
                p = facts[prior]
                p["repeat_at"] = _min(p.get("repeat_at"), event.received_at)
        return TextChange(
            event.case_id,
            0,
            {
                "title": event.title,
                "content": event.content,
                "person_keys": sorted(
                    set(event.person_keys) | ({event.person_key} if event.person_key else set())
                ),
                "prior_case_ids": list(event.prior_case_ids),
                "region_code": event.region_code,
                "category_code": event.category_code,
                "source": event.source,
                "channel": event.channel,
                "received_at": event.received_at,
                "people_count": event.people_count,
                "collective": event.collective or event.people_count >= 5,
                "accusation": event.accusation,
                "public_attention": event.public_attention,
            },
        )
    if isinstance(event, PetitionAmendedV1):
        f = facts[event.case_id]
        if event.revision <= f["intake_rev"]:
            return None
        f["intake_rev"] = event.revision
        if f["dims_seq"] == 0:
            for name in ("region_code", "category_code"):
                if event.changed.get(name):
                    f[name] = event.changed[name]
        if event.changed.get("urgency"):
            f["urgency"] = event.changed["urgency"]
        text: dict[str, Any] = {
            k: event.changed[k] for k in ("title", "content") if event.changed.get(k)
        }
        for name in ("region_code", "category_code"):
            if event.changed.get(name):
                text[name] = event.changed[name]
        if event.person_keys is not None:  # the desk corrected the petitioners
            text["person_keys"] = sorted(set(event.person_keys))
        return TextChange(event.case_id, event.revision, text) if text else None
    if isinstance(event, HotlineEvaluationReceivedV1):
        f = facts[event.case_id]
        last = f.get("hl_visited_at")
        if last is None or event.visited_at >= last:
            f["hl_visited_at"] = event.visited_at
            f["hl_contacted"] = event.contacted
            f["hl_solved"] = event.solved
            f["hl_rating"] = RATINGS.get(event.rating) if event.rating else None
        return None
    if isinstance(event, EvaluationRecordedV1):
        f = facts[event.case_id]
        unit, office = RATINGS.get(event.unit_rating), RATINGS.get(event.office_rating)
        if "dissatisfied" in (unit, office):
            f["dissatisfied_at"] = _min(f.get("dissatisfied_at"), event.rated_at)
        # casework's own ``evaluated`` milestone wins; this one counts until it arrives
        last = f.get("evaluated_at")
        if f["eval_seq"] == 0 and (last is None or event.rated_at >= last):
            f["evaluated_at"] = event.rated_at
            f["unit_rating"], f["office_rating"] = unit, office
        return None
    if isinstance(event, cw.CaseRegisteredV1):
        f = facts[event.case_id]
        f["tracking_no"] = event.tracking_no
        f["registered_at"] = _min(f.get("registered_at"), event.registered_at)
        f["office_unit_id"] = event.office_unit_id or f.get("office_unit_id")
        _casework_dims(f, seq, event)
        f["channel"] = f.get("channel") or event.channel
        f["accusation"] = f["accusation"] or event.accusation
        f["urgency"] = event.urgency if f.get("urgency") in (None, "normal") else f["urgency"]
        _status(f, seq, event.status)
        _set_day(f)
        return None
    if isinstance(event, cw.CaseWithdrawnV1):
        f = facts[event.case_id]
        f["withdrawn_at"] = _min(f.get("withdrawn_at"), event.withdrawn_at)
        _status(f, seq, event.status)
        return None
    if not isinstance(event, cw._CaseMilestone):
        return None
    f = facts[event.case_id]
    at = event.occurred_at
    _casework_dims(f, seq, event)
    _status(f, seq, event.status)
    f["accusation"] = f["accusation"] or event.accusation
    if isinstance(event, cw.CaseAcceptedV1 | cw.CaseRefusedV1):
        if f.get("accept_at") is None or at < f["accept_at"]:
            f["accept_at"] = at
            f["accepted"] = isinstance(event, cw.CaseAcceptedV1)
            f["accept_on_time"] = event.on_time
    elif isinstance(event, cw.CaseDivertedV1):
        f["diverted_at"] = _min(f.get("diverted_at"), at)
    elif isinstance(event, cw.CaseAssignedV1):
        f["assigned_at"] = _min(f.get("assigned_at"), at)
        f["assign_count"] += 1
        if seq > f["unit_seq"]:
            f["unit_seq"] = seq
            f["unit_id"] = event.lead_unit_id
    elif isinstance(event, cw.CaseObjectedV1):
        f["objection_count"] += 1
        if seq > f["unit_seq"]:
            f["unit_seq"] = seq
            f["unit_id"] = None  # back with the office
    elif isinstance(event, cw.CaseSignedV1):
        f["signed_at"] = _min(f.get("signed_at"), at)
    elif isinstance(event, cw.CaseContactedV1):
        if event.reached:
            f["contacted_at"] = _min(f.get("contacted_at"), at)
    elif isinstance(event, cw.CaseRepliedV1):
        if event.stage == "reply" and (f.get("replied_at") is None or at < f["replied_at"]):
            f["replied_at"] = at
            f["reply_on_time"] = event.on_time
        times = f.get("reply_times") or []
        if _iso(at) not in times:
            f["reply_times"] = sorted([*times, _iso(at)])  # a new list: see the module's note
            if f.get("supervisions"):
                supervision_state(f)
    elif isinstance(event, cw.CaseExtendedV1):
        f["extension_count"] += 1
    elif isinstance(event, cw.CaseEvaluatedV1):
        unit = RATINGS.get(event.unit_rating or "")
        office = RATINGS.get(event.office_rating or "")
        if "dissatisfied" in (unit, office):
            f["dissatisfied_at"] = _min(f.get("dissatisfied_at"), at)
        if seq > f["eval_seq"]:
            f["eval_seq"] = seq
            f["evaluated_at"] = at
            f["unit_rating"], f["office_rating"] = unit, office
    elif isinstance(event, cw.CaseReviewRequestedV1):
        f["review_requested_at"] = _min(f.get("review_requested_at"), at)
        f["review_count"] += 1
    elif isinstance(event, cw.CaseClosedV1):
        if seq > f["close_seq"]:
            f["close_seq"] = seq
            f["closed_at"] = at
            f["resolved"] = event.resolved
    elif isinstance(event, cw.CaseDeadlineMissedV1):
        f["missed_count"] += 1
        if event.clock == "handle":
            f["handle_missed"] = True
    elif isinstance(event, cw.CaseSupervisedV1):
        f["supervised_at"] = _min(f.get("supervised_at"), at)
        f["supervision_count"] += 1
        sups = dict(f.get("supervisions") or {})  # a new dict: see the module's note
        sups[event.supervision_id] = {"at": _iso(at), "due": _iso(event.supervision_due_at)}
        f["supervisions"] = sups
        supervision_state(f)
    elif isinstance(event, cw.CaseLeaderAssignedV1):
        f["leader_at"] = _min(f.get("leader_at"), at)
        f["leader_count"] += 1
        if seq > f["leader_seq"]:  # the latest 包案 (a leader handing over) wins
            f["leader_seq"] = seq
            f["leader_id"] = event.leader_id
            f["leader_name"] = event.leader_name
            f["leader_unit_id"] = event.lead_unit_id
            f["resolve_by"] = event.resolve_by
    return None
