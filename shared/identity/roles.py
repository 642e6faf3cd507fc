"""Role names of staff, the principal kinds, and which roles see personal data unmasked.

A staff member holds any number of roles; what they may touch is further limited by their
org unit (see ``scope``). Citizens and partner systems are principal *kinds*, not roles.
"""

from __future__ import annotations

from typing import Final, Literal

REGISTRAR: Final = "registrar"  # 登记: records letters, visits and calls
PETITION_OFFICER: Final = "petition_officer"  # 信访干部: accepts, routes and follows up
HANDLER: Final = "handler"  # 承办人: handles a case in the responsible unit
UNIT_LEAD: Final = "unit_lead"  # 单位负责人: signs off replies of the unit
LEADER: Final = "leader"  # 领导: oversight, instructions (批示)
SUPERVISOR: Final = "supervisor"  # 督查督办
ANALYST: Final = "analyst"  # 研判: metrics and screening, masked data only
DISCIPLINE_INSPECTOR: Final = "discipline_inspector"  # 纪检监察: accusations
ADMIN: Final = "admin"  # accounts and org units of their subtree

STAFF_ROLES: Final[frozenset[str]] = frozenset(
    {
        REGISTRAR,
        PETITION_OFFICER,
        HANDLER,
        UNIT_LEAD,
        LEADER,
        SUPERVISOR,
        ANALYST,
        DISCIPLINE_INSPECTOR,
        ADMIN,
    }
)

# Roles whose work needs the petitioner's real phone, ID number and address.
UNMASK_ROLES: Final[frozenset[str]] = frozenset(
    {REGISTRAR, PETITION_OFFICER, HANDLER, DISCIPLINE_INSPECTOR}
)

ROLE_LABELS: Final[dict[str, tuple[str, str]]] = {
    REGISTRAR: ("登记员", "registrar"),
    PETITION_OFFICER: ("信访干部", "petition officer"),
    HANDLER: ("承办人", "handler"),
    UNIT_LEAD: ("单位负责人", "unit lead"),
    LEADER: ("领导", "leader"),
    SUPERVISOR: ("督查督办", "supervisor"),
    ANALYST: ("研判分析", "analyst"),
    DISCIPLINE_INSPECTOR: ("纪检监察", "discipline inspector"),
    ADMIN: ("系统管理员", "administrator"),
}

# Principal kinds: who is calling, apart from which roles they hold.
STAFF: Final = "staff"
CITIZEN: Final = "citizen"
PARTNER: Final = "partner"
PrincipalKind = Literal["staff", "citizen", "partner"]
PRINCIPAL_KINDS: Final[frozenset[str]] = frozenset({STAFF, CITIZEN, PARTNER})
