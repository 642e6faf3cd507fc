"""Request and response bodies of the staff API (unknown fields refused)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Text200 = Field(min_length=1, max_length=200)
Text2000 = Field(min_length=1, max_length=2000)


class AcceptIn(_In):
    handling_path: Literal["suggestion", "accusation", "claim"] = Field(
        description="建议意见类 / 检举控告类 / 申诉求决类 (条例 Art. 29–33)"
    )
    major: bool = Field(False, description="重大、复杂: the reply needs the unit head's sign-off")
    note: str | None = Field(None, max_length=2000)


class RefuseIn(_In):
    kind: Literal["not_accepted", "not_reaccepted"] = Field(
        description="不予受理, or 不再受理 (the same facts after 复核, Art. 36)"
    )
    reason: str = Text2000
    where_to_go: str = Field(min_length=1, max_length=500, description="where to go instead")
    prior_case_id: str | None = Field(None, max_length=64)


class DivertIn(_In):
    route: Literal[
        "politics_law", "discipline", "arbitration", "admin_review", "litigation", "other"
    ]
    reason: str = Text2000
    where_to_go: str = Field(min_length=1, max_length=500)


class AssignIn(_In):
    mode: Literal["assign", "transfer"] = Field(description="交办 or 转送")
    lead_unit_id: str = Field(min_length=1, max_length=100)
    co_unit_ids: list[str] = Field(default_factory=list, max_length=10)
    note: str | None = Field(None, max_length=2000)


class ReassignIn(AssignIn):
    reason: str = Text2000


class DisputeIn(_In):
    unit_ids: list[str] = Field(min_length=2, max_length=5)
    reason: str = Text2000


class SignIn(_In):
    handler_id: str | None = Field(
        None, max_length=64, description="the handler (承办人); default: the signer"
    )


class ObjectIn(_In):
    reason: str = Text2000


class ContactIn(_In):
    method: Literal["phone", "visit", "sms", "letter", "video"]
    reached: bool
    note: str | None = Field(None, max_length=2000)


class SiteVisitIn(_In):
    place: str = Text200
    findings: str = Text2000


class MediateIn(_In):
    parties: list[str] = Field(min_length=2, max_length=20)
    agreement: str = Text2000
    fulfil_by: date


class FulfilIn(_In):
    fulfilled: bool
    note: str | None = Field(None, max_length=2000)


class ExtendIn(_In):
    days: int = Field(ge=1, le=30, description="≤ 30 days (条例 Art. 34)")
    reason: str = Text2000


class Claim(_In):
    claim: str = Text2000
    decision: Literal["support", "explain", "reject"] = Field(
        description="支持 / 解释说明 / 不予支持"
    )
    facts: str = Text2000
    basis: str = Text2000


class ReplyIn(_In):
    claims: list[Claim] = Field(min_length=1, max_length=20)
    summary: str = Text2000


class EvaluateIn(_In):
    unit_rating: Literal["satisfied", "basically_satisfied", "dissatisfied"]
    office_rating: Literal["satisfied", "basically_satisfied", "dissatisfied"]
    reason: str | None = Field(None, max_length=2000)


class VerifyIn(_In):
    """回访复核 of a 不满意: does the complaint hold? If so the case is handled again under
    supervision (督办); if not, the office closes it."""

    upheld: bool
    finding: str = Text2000


class CloseIn(_In):
    resolved: bool = True
    note: str | None = Field(None, max_length=2000)


class RequestReviewIn(_In):
    reason: str = Text2000


class DecideReviewIn(_In):
    outcome: Literal["upheld", "changed", "revoked"] = Field(description="维持 / 变更 / 撤销")
    opinion: str = Text2000
    facts: str = Text2000
    basis: str = Text2000


class PauseIn(_In):
    reason: str = Text2000


class SuperviseIn(_In):
    """督办: the supervising unit's reason and deadline — a date (``due_on``) or a number of
    working days (``days``); neither: the default number of working days."""

    reason: str = Text2000
    due_on: date | None = Field(None, description="the date the unit must have handled it by")
    days: int | None = Field(None, ge=1, le=60, description="working days from today")
    notice_no: str | None = Field(None, min_length=1, max_length=64, description="督办通知 文号")


class UrgeIn(_In):
    """催办: a recorded reminder to the lead unit."""

    reason: str = Text2000


class TakeChargeIn(_In):
    """领导包案 (五落实): the leader (the caller) commits to resolve the case by a date
    (``resolve_by``) or within ``days`` calendar days, with the stability measures."""

    resolve_by: date | None = None
    days: int | None = Field(None, ge=1, le=365, description="calendar days from today")
    measures: str = Field(min_length=1, max_length=2000, description="稳控措施")
    handler_id: str | None = Field(
        None, max_length=64, description="the handler (承办人); default: the case's handler"
    )


class NameAccusedIn(_In):
    unit_ids: list[str] = Field(default_factory=list, max_length=20)
    staff_ids: list[str] = Field(default_factory=list, max_length=20)


class NoteIn(_In):
    text: str = Text2000


ACT_BODIES: dict[str, type[_In]] = {
    "accept": AcceptIn,
    "refuse": RefuseIn,
    "divert": DivertIn,
    "assign": AssignIn,
    "reassign": ReassignIn,
    "dispute": DisputeIn,
    "sign": SignIn,
    "object": ObjectIn,
    "contact": ContactIn,
    "visit_site": SiteVisitIn,
    "mediate": MediateIn,
    "fulfil": FulfilIn,
    "extend": ExtendIn,
    "reply": ReplyIn,
    "evaluate": EvaluateIn,
    "verify": VerifyIn,
    "close": CloseIn,
    "request_review": RequestReviewIn,
    "decide_review": DecideReviewIn,
    "request_reexam": RequestReviewIn,
    "pause": PauseIn,
    "resume": PauseIn,
    "decide_reexam": DecideReviewIn,
    "supervise": SuperviseIn,
    "urge": UrgeIn,
    "take_charge": TakeChargeIn,
    "name_accused": NameAccusedIn,
    "note": NoteIn,
}


class DecisionIn(_In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"decision": "approve", "comment": "同意"}]}
    )

    decision: Literal["approve", "return"]
    comment: str | None = Field(None, max_length=2000)
    lead_unit_id: str | None = Field(
        None, max_length=100, description="for a unit dispute: the unit the superior names"
    )


class ActResult(BaseModel):
    case_id: str
    status: str
    act: str
    approval_id: int | None = Field(
        None, description="set when the act waits for a head's sign-off (202)"
    )


class HistoryItem(BaseModel):
    at: datetime
    action: str
    actor: str
    from_status: str | None = None
    to_status: str | None = None
    reason: str | None = None
    details: dict[str, Any] | None = None


class ClockView(BaseModel):
    kind: str
    started_at: datetime
    due_at: datetime
    provisional: bool
    extended_days: int
    paused: bool
    stopped_at: datetime | None = None
    missed: bool


class CaseSummary(BaseModel):
    case_id: str
    tracking_no: str
    title: str
    status: str
    source: str
    channel: str
    category_code: str | None
    region_code: str
    urgency: str
    accusation: bool
    lead_unit_id: str | None
    handler_id: str | None
    received_at: datetime
    due_at: datetime | None
    updated_at: datetime


class Petitioner(BaseModel):
    name: str | None = None
    phone: str | None = None
    masked: bool = Field(description="true unless the caller's role needs the real values")


class PriorCase(BaseModel):
    case_id: str
    tracking_no: str
    status: str
    final: bool = Field(description="re-examined (复核): the same facts are not accepted again")


class SupervisionView(BaseModel):
    id: str
    unit_id: str = Field(description="the supervising unit")
    origin: str = Field(description="act (督办) | verify (回访复核 upheld)")
    reason: str
    notice_no: str | None = None
    due_at: datetime
    provisional: bool
    created_at: datetime
    created_by: str


class LeaderView(BaseModel):
    leader_id: str
    leader_name: str | None = None
    lead_unit_id: str | None = None
    handler_id: str | None = None
    resolve_by: datetime
    measures: str
    at: datetime


class CaseDetail(CaseSummary):
    content: str
    petitioner: Petitioner | None = Field(
        None, description="contact details (masked by role); null for anonymous petitions"
    )
    people_count: int
    collective: bool
    anonymous: bool
    handling_path: str | None
    major: bool
    office_unit_id: str | None
    co_unit_ids: list[str]
    review_unit_id: str | None
    contact_attempts: int
    contacted: bool
    transfers: int
    evaluation: dict[str, Any] | None
    route_suggestion: dict[str, Any] | None
    allowed_acts: list[str]
    prior_cases: list[PriorCase] = Field(
        default_factory=list, description="earlier petitions on the same matter that we hold"
    )
    clocks: list[ClockView]
    supervisions: list[SupervisionView] = Field(
        default_factory=list, description="current supervisions (督办), internal"
    )
    leader: LeaderView | None = Field(None, description="领导包案, internal")
    timeline: list[HistoryItem] = Field(description="public milestones (what the petitioner sees)")
    internal: list[HistoryItem] = Field(description="internal records: notes, objections …")


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None


class ApprovalView(BaseModel):
    id: int
    case_id: str
    kind: str
    approver_unit_id: str
    requested_at: datetime
    requested_by: str
    request: dict[str, Any]
    state: str
    decided_at: datetime | None = None
    decided_by: str | None = None
    comment: str | None = None


class RuleIn(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "region_prefix": "440306",
                    "category_prefix": "C01.02",
                    "source": None,
                    "lead_unit_id": "440306.housing",
                    "co_unit_ids": ["440306.urban_mgmt"],
                }
            ]
        }
    )

    region_prefix: str = Field("", max_length=12, pattern=r"^[0-9]*$")
    category_prefix: str = Field("", max_length=32)
    source: str | None = Field(None, max_length=40)
    lead_unit_id: str = Field(min_length=1, max_length=100)
    co_unit_ids: list[str] = Field(default_factory=list, max_length=10)


class HandoverIn(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "from_staff_id": "0190f4c2-0000-7000-8000-000000000001",
                    "to_staff_id": "0190f4c2-0000-7000-8000-000000000002",
                    "reason": "调岗",
                }
            ]
        }
    )

    from_staff_id: str = Field(max_length=64)
    to_staff_id: str = Field(max_length=64)
    reason: str = Text2000
