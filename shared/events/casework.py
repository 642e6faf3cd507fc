"""Events produced by casework."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from shared.events.envelope import EventPayload


class CaseRegisteredV1(EventPayload):
    type: ClassVar[str] = "casework.case.registered"
    version: ClassVar[int] = 1

    case_id: str
    tracking_no: str
    source: str
    channel: str
    category_code: str | None = None
    region_code: str
    status: str
    registered_at: datetime
    accusation: bool = False
    public_message: str
    pii: dict[str, str] | None = None  # sealed contact details for the 五回
    # additive, casework issue
    office_unit_id: str | None = None  # the petition office (or discipline unit) that owns it
    due_at: datetime | None = None  # the first running deadline
    public_due_at: datetime | None = None  # the first deadline the petitioner is told about
    external_ids: dict[str, str] = Field(default_factory=dict)  # e.g. hotline order_no
    urgency: str = "normal"


class CaseWithdrawnV1(EventPayload):
    type: ClassVar[str] = "casework.case.withdrawn"
    version: ClassVar[int] = 1

    case_id: str
    tracking_no: str
    status: str
    withdrawn_at: datetime
    by: str
    public_message: str


class _CaseMilestone(EventPayload):
    """Fields every workflow milestone carries. ``public_message`` is what the petitioner is
    told (回告 / 回音 / 回复), absent for internal milestones; ``unit_id`` is the org unit that
    acted; ``due_at`` the case's first running deadline after the act."""

    case_id: str
    tracking_no: str
    status: str
    occurred_at: datetime
    actor: str
    unit_id: str | None = None
    unit_name: str | None = None  # the acting unit's name, for partners (integrations §2–3)
    region_code: str | None = None
    category_code: str | None = None
    source: str | None = None
    accusation: bool = False
    due_at: datetime | None = None
    public_message: str | None = None
    # the deadline the petitioner is told about: acceptance, handling, review (not internal)
    public_due_at: datetime | None = None


class CaseAcceptedV1(_CaseMilestone):
    type: ClassVar[str] = "casework.case.accepted"
    version: ClassVar[int] = 1

    handling_path: str
    on_time: bool  # decided within the acceptance clock (及时受理)


class CaseRefusedV1(_CaseMilestone):
    """不予受理 or 不再受理, with the reason and where to go instead."""

    type: ClassVar[str] = "casework.case.refused"
    version: ClassVar[int] = 1

    kind: str  # not_accepted | not_reaccepted
    reason: str
    where_to_go: str | None = None
    on_time: bool


class CaseDivertedV1(_CaseMilestone):
    type: ClassVar[str] = "casework.case.diverted"
    version: ClassVar[int] = 1

    route: str  # politics_law | discipline | arbitration | admin_review | litigation | other
    reason: str


class CaseAssignedV1(_CaseMilestone):
    """交办 or 转送 to a lead unit (and co-units); also a reassignment (改派)."""

    type: ClassVar[str] = "casework.case.assigned"
    version: ClassVar[int] = 1

    mode: str  # assign | transfer
    lead_unit_id: str
    lead_unit_name: str | None = None
    co_unit_ids: list[str] = Field(default_factory=list)
    reassignment: bool = False


class CaseObjectedV1(_CaseMilestone):
    """The assigned unit says it is not its business; the case goes back to the office."""

    type: ClassVar[str] = "casework.case.objected"
    version: ClassVar[int] = 1

    reason: str


class CaseSignedV1(_CaseMilestone):
    type: ClassVar[str] = "casework.case.signed"
    version: ClassVar[int] = 1

    handler_id: str | None = None


class CaseContactedV1(_CaseMilestone):
    """A contact with the petitioner (the 响应 of the three rates), a site visit or mediation."""

    type: ClassVar[str] = "casework.case.contacted"
    version: ClassVar[int] = 1

    method: str  # phone | visit | site_visit | mediation | letter | sms
    reached: bool
    attempts: int


class CaseRepliedV1(_CaseMilestone):
    type: ClassVar[str] = "casework.case.replied"
    version: ClassVar[int] = 1

    stage: str  # reply | review | reexam
    decisions: list[str]  # per claim: support | explain | reject
    on_time: bool
    reply_text: str | None = None  # the opinion's text (redacted of phone / ID numbers)


class CaseExtendedV1(_CaseMilestone):
    type: ClassVar[str] = "casework.case.extended"
    version: ClassVar[int] = 1

    clock: str
    days: int
    reason: str


class CaseEvaluatedV1(_CaseMilestone):
    type: ClassVar[str] = "casework.case.evaluated"
    version: ClassVar[int] = 1

    unit_rating: str | None = None  # satisfied | basically_satisfied | dissatisfied | expired
    office_rating: str | None = None
    reason: str | None = None  # why 不满意, phone and ID numbers redacted (added, optional)


class CaseReviewRequestedV1(_CaseMilestone):
    """复查 (stage review) or 复核 (stage reexam) requested, to the next-higher body."""

    type: ClassVar[str] = "casework.case.review_requested"
    version: ClassVar[int] = 1

    stage: str  # review | reexam
    review_unit_id: str


class CaseReviewedV1(_CaseMilestone):
    type: ClassVar[str] = "casework.case.reviewed"
    version: ClassVar[int] = 1

    stage: str  # review | reexam
    outcome: str  # upheld | changed | revoked


class CaseClosedV1(_CaseMilestone):
    type: ClassVar[str] = "casework.case.closed"
    version: ClassVar[int] = 1

    resolved: bool


class CaseDeadlineApproachedV1(_CaseMilestone):
    """A running clock passed its warning share (default 80 %); emitted once per clock."""

    type: ClassVar[str] = "casework.case.deadline_approached"
    version: ClassVar[int] = 1

    clock: str
    deadline: datetime


class CaseDeadlineMissedV1(_CaseMilestone):
    """A running clock passed its deadline unmet; emitted once per clock."""

    type: ClassVar[str] = "casework.case.deadline_missed"
    version: ClassVar[int] = 1

    clock: str
    deadline: datetime


class CaseSupervisedV1(_CaseMilestone):
    """督办: a petition office or a higher body puts the case under supervision with its own
    deadline (``supervision_due_at``); the case is 督办件 from then on. Also raised when a
    回访复核 upholds a complaint and the case is handled again under supervision."""

    type: ClassVar[str] = "casework.case.supervised"
    version: ClassVar[int] = 1

    supervision_id: str  # stable id of this supervision (one case may be supervised twice)
    supervising_unit_id: str
    supervision_due_at: datetime
    reason: str
    notice_no: str | None = None  # the 督办通知 number, when one was issued


class CaseLeaderAssignedV1(_CaseMilestone):
    """领导包案: a leader personally owns the case (五落实: leader, lead unit, handler, deadline,
    stability measures). ``resolve_by`` is the deadline the leader committed to."""

    type: ClassVar[str] = "casework.case.leader_assigned"
    version: ClassVar[int] = 1

    leader_id: str
    leader_name: str | None = None
    lead_unit_id: str | None = None
    handler_id: str | None = None
    resolve_by: datetime
    measures: str | None = None  # 稳控措施 (no personal data: redacted like every free text)


MILESTONES: tuple[type[_CaseMilestone], ...] = (
    CaseAcceptedV1,
    CaseRefusedV1,
    CaseDivertedV1,
    CaseAssignedV1,
    CaseObjectedV1,
    CaseSignedV1,
    CaseContactedV1,
    CaseRepliedV1,
    CaseExtendedV1,
    CaseEvaluatedV1,
    CaseReviewRequestedV1,
    CaseReviewedV1,
    CaseClosedV1,
    CaseDeadlineApproachedV1,
    CaseDeadlineMissedV1,
    CaseSupervisedV1,
    CaseLeaderAssignedV1,
)


class ApprovalRequestedV1(EventPayload):
    """An act waits for a head's sign-off (staff alert: 待我审批)."""

    type: ClassVar[str] = "casework.approval.requested"
    version: ClassVar[int] = 1

    approval_id: int
    case_id: str
    tracking_no: str
    kind: str  # refuse | divert | extend | reply | dispute
    approver_unit_id: str
    requested_by: str
    requested_at: datetime
    accusation: bool = False
