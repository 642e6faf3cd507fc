"""The statutory flow of domain §2 as data: which act leads from which states to which, and
who may do it. Pure — the service applies it, the state-machine test explores it.

```
registered ─► accepted ─► assigned ─► signed ─► in_progress ─► replied ─► evaluated ─► closed
    │            │  ▲ objected │
    │            │  └──────────┘
    ├─► not_accepted (不予受理 / 不再受理, approved)
    └─► diverted (涉法涉诉, 检举控告 …, approved)
replied / evaluated / closed ─► review_requested ─► reviewed ─► reexam_requested ─► reexamined
any state before the reply ─► withdrawn
```

Oversight acts change no state: the petition office (or a body above it) supervises (督办)
and chases (催办) a case while its unit handles it; a leader owns a hard case (领导包案)
from its assignment until it is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from shared.identity.roles import (
    DISCIPLINE_INSPECTOR,
    HANDLER,
    LEADER,
    PETITION_OFFICER,
    REGISTRAR,
    SUPERVISOR,
    UNIT_LEAD,
)

REGISTERED: Final = "registered"
ACCEPTED: Final = "accepted"
NOT_ACCEPTED: Final = "not_accepted"
DIVERTED: Final = "diverted"
ASSIGNED: Final = "assigned"
SIGNED: Final = "signed"
IN_PROGRESS: Final = "in_progress"
REPLIED: Final = "replied"
EVALUATED: Final = "evaluated"
CLOSED: Final = "closed"
WITHDRAWN: Final = "withdrawn"
REVIEW_REQUESTED: Final = "review_requested"
REVIEWED: Final = "reviewed"
REEXAM_REQUESTED: Final = "reexam_requested"
REEXAMINED: Final = "reexamined"

STATES: Final[frozenset[str]] = frozenset(
    {
        REGISTERED,
        ACCEPTED,
        NOT_ACCEPTED,
        DIVERTED,
        ASSIGNED,
        SIGNED,
        IN_PROGRESS,
        REPLIED,
        EVALUATED,
        CLOSED,
        WITHDRAWN,
        REVIEW_REQUESTED,
        REVIEWED,
        REEXAM_REQUESTED,
        REEXAMINED,
    }
)
# a 复查 / 复核 is under way: its clock and its acts belong to the reviewing body
UNDER_REVIEW: Final[frozenset[str]] = frozenset({REVIEW_REQUESTED, REEXAM_REQUESTED})
# No act leads out of these (a new petition on the same facts is refused: 不再受理).
TERMINAL: Final[frozenset[str]] = frozenset({NOT_ACCEPTED, DIVERTED, WITHDRAWN, REEXAMINED})
# Before the reply the case is still being handled; a withdrawal ends it.
BEFORE_REPLY: Final[frozenset[str]] = frozenset(
    {REGISTERED, ACCEPTED, ASSIGNED, SIGNED, IN_PROGRESS}
)
OPEN: Final[frozenset[str]] = STATES - TERMINAL - {CLOSED}
# While a unit handles the case: what supervision (督办) and chasing (催办) are about.
HANDLING_STATES: Final[frozenset[str]] = frozenset({ASSIGNED, SIGNED, IN_PROGRESS})
# Open and past assignment: a leader may own the case (领导包案) until it is final.
OWNABLE: Final[frozenset[str]] = OPEN - {REGISTERED, ACCEPTED}

# Which unit's staff may act: the petition office that owns the case, the office or a body
# above it, the lead unit, the lead or a co-unit, the body reviewing it, or whoever may see
# the case.
OFFICE: Final = "office"
OVERSIGHT: Final = "oversight"
LEAD: Final = "lead"
HANDLING: Final = "handling"
REVIEW: Final = "review"
ANY: Final = "any"


@dataclass(frozen=True)
class Act:
    name: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change (a contact, a note …)
    roles: frozenset[str]
    unit: str
    approval: bool = False  # needs a head's sign-off before it takes effect
    public: bool = True  # shown on the petitioner's timeline
    label: str = ""


def _act(
    name: str,
    sources: set[str] | frozenset[str],
    target: str | None,
    roles: set[str],
    unit: str,
    label: str,
    *,
    approval: bool = False,
    public: bool = True,
) -> Act:
    return Act(name, frozenset(sources), target, frozenset(roles), unit, approval, public, label)


_OFFICE_STAFF = {PETITION_OFFICER}
_HANDLERS = {HANDLER, UNIT_LEAD}
_REVIEWERS = {UNIT_LEAD, LEADER, PETITION_OFFICER}
_SUPERVISORS = {PETITION_OFFICER, SUPERVISOR}

ACTS: Final[dict[str, Act]] = {
    a.name: a
    for a in (
        _act("accept", {REGISTERED}, ACCEPTED, _OFFICE_STAFF, OFFICE, "受理"),
        _act(
            "refuse", {REGISTERED}, NOT_ACCEPTED, _OFFICE_STAFF, OFFICE, "不予受理", approval=True
        ),
        _act(
            "divert",
            {REGISTERED, ACCEPTED},
            DIVERTED,
            _OFFICE_STAFF | {DISCIPLINE_INSPECTOR},
            OFFICE,
            "导入其他法定途径",
            approval=True,
        ),
        _act("assign", {ACCEPTED}, ASSIGNED, _OFFICE_STAFF, OFFICE, "交办/转送"),
        _act("reassign", {ASSIGNED, SIGNED, IN_PROGRESS}, ASSIGNED, _OFFICE_STAFF, OFFICE, "改派"),
        _act(
            "dispute",
            {ACCEPTED},
            None,
            _OFFICE_STAFF,
            OFFICE,
            "职责争议报共同上级",
            approval=True,
            public=False,
        ),
        _act("sign", {ASSIGNED}, SIGNED, _HANDLERS, LEAD, "签收"),
        _act("object", {ASSIGNED}, ACCEPTED, _HANDLERS, LEAD, "异议退回", public=False),
        _act("contact", {SIGNED, IN_PROGRESS}, IN_PROGRESS, _HANDLERS, HANDLING, "联系信访人"),
        _act("visit_site", {SIGNED, IN_PROGRESS}, IN_PROGRESS, _HANDLERS, HANDLING, "实地调查"),
        _act("mediate", {SIGNED, IN_PROGRESS}, IN_PROGRESS, _HANDLERS, LEAD, "调解"),
        _act("fulfil", {IN_PROGRESS, REPLIED}, None, _HANDLERS, LEAD, "协议履行", public=False),
        _act(
            "extend",
            {ASSIGNED, SIGNED, IN_PROGRESS, REVIEW_REQUESTED, REEXAM_REQUESTED},
            None,
            _HANDLERS | _REVIEWERS,
            HANDLING,
            "延期",
            approval=True,
        ),
        _act("reply", {IN_PROGRESS}, REPLIED, _HANDLERS, LEAD, "答复"),
        _act(
            "evaluate",
            {REPLIED},
            EVALUATED,
            _OFFICE_STAFF | {REGISTRAR},
            OFFICE,
            "评价",
        ),
        _act(
            "verify",
            {EVALUATED},
            None,
            _OFFICE_STAFF | {SUPERVISOR},
            OFFICE,
            "回访复核",
            public=False,
        ),
        # 办结 after the evaluation (the petitioner's, a staff-recorded one, or 超期未评价);
        # a 不满意 must be verified first (acts.validate: 409 verification_pending)
        _act("close", {EVALUATED}, CLOSED, _OFFICE_STAFF, OFFICE, "办结"),
        _act(
            "request_review",
            {REPLIED, EVALUATED, CLOSED},
            REVIEW_REQUESTED,
            _OFFICE_STAFF | {REGISTRAR},
            ANY,
            "申请复查",
        ),
        _act("decide_review", {REVIEW_REQUESTED}, REVIEWED, _REVIEWERS, REVIEW, "复查意见"),
        _act(
            "request_reexam",
            {REVIEWED},
            REEXAM_REQUESTED,
            _OFFICE_STAFF | {REGISTRAR},
            ANY,
            "申请复核",
        ),
        _act("pause", {REEXAM_REQUESTED}, None, _REVIEWERS, REVIEW, "听证（计时中止）"),
        _act("resume", {REEXAM_REQUESTED}, None, _REVIEWERS, REVIEW, "听证结束（恢复计时）"),
        _act("decide_reexam", {REEXAM_REQUESTED}, REEXAMINED, _REVIEWERS, REVIEW, "复核意见"),
        _act(
            "supervise",
            HANDLING_STATES,
            None,
            _SUPERVISORS,
            OVERSIGHT,
            "督办",
            public=False,
        ),
        _act("urge", HANDLING_STATES, None, _SUPERVISORS, OVERSIGHT, "催办", public=False),
        _act("take_charge", OWNABLE, None, {LEADER}, ANY, "领导包案", public=False),
        _act(
            "name_accused",
            OPEN,
            None,
            {DISCIPLINE_INSPECTOR},
            OFFICE,
            "记录被检举对象（对其保密）",
            public=False,
        ),
        _act(
            "note",
            STATES,
            None,
            _OFFICE_STAFF | _HANDLERS | _REVIEWERS | {DISCIPLINE_INSPECTOR, REGISTRAR},
            ANY,
            "内部备注",
            public=False,
        ),
    )
}


class TransitionError(Exception):
    """An act not allowed in the case's state."""


def next_status(act: str, status: str) -> str:
    """The status after ``act`` from ``status`` (unchanged for acts without a target);
    raises TransitionError when the act is not allowed there."""
    rule = ACTS.get(act)
    if rule is None or status not in rule.sources:
        raise TransitionError(f"{act} not allowed in {status}")
    return rule.target or status


def allowed_acts(status: str) -> list[str]:
    """The acts allowed in ``status``, in the order of the flow."""
    return [name for name, rule in ACTS.items() if status in rule.sources]
