"""Which clock a case gets: the clock kinds, their statutory defaults, and the layers above.

Layers, lowest first; the highest layer that matches sets the rule, and the rule carries a
label saying which layer that was (it is stored on the clock, for the explanation):

1. **statutory** — 《信访工作条例》(2022) defaults, in code (:data:`STATUTORY`);
2. **source** — the 12345 hotline's handling classes, in code (:func:`hotline_class`);
3. **policy rows** — ``casework.deadline_policy`` rows of the clock matching the case's
   region (``region_prefix``: the row's prefix starts the case's region code; ``''`` matches
   every region), ``source``, ``case_type`` (a category-code prefix *or* a hotline class)
   and ``urgency`` (NULL matches anything). The most specific matching row wins: the longest
   region prefix first, then the one with more of source / case type / urgency set, then the
   longer case type, then the newest row. A row that names only a region is a
   jurisdiction row: it overrides the statutory layer but not the source layer (a district's
   "handle in 30 days" does not turn a 2-hour hotline emergency into 30 days); a row that
   also names a source, case type or urgency overrides both.

Example: a district (region prefix ``440306``) that counts its 15-day clocks as 5 working
days and the 60-day one as 30 has rows ``(register, 440306, 5 working days)``,
``(accept, 440306, 5 working days)`` and ``(handle, 440306, 30 days)``.

**The hotline mapping** (12345 work orders; source ``hotline``): the ``handle`` clock of a
hotline order runs from receipt and is chosen by :func:`hotline_class`, in this order:

* urgency ``emergency`` → ``emergency``: 2 hours;
* a case type that *is* a class name (``emergency`` / ``utilities`` / ``general`` /
  ``complex``) → that class (the hotline's own type, when a source says it);
* the context flag ``complex`` (or ``major``) → ``complex``: 15 days;
* urgency ``urgent``, or a utilities category (``C01.05.03`` 供水与排水, ``C01.05.04``
  燃气供应 and below) → ``utilities``: 24 hours;
* anything else → ``general``: 7 days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class Rule:
    """A clock's length: ``days`` (calendar or working) or ``hours``, and who set it."""

    clock: str
    days: int | None
    hours: int | None
    working_days: bool
    label: str
    anchor: str = ""  # what the clock runs from, for the explanation

    def describe(self) -> str:
        if self.hours is not None:
            return f"{self.hours} h"
        return f"{self.days} {'working ' if self.working_days else ''}days"


def _d(clock: str, days: int, label: str, anchor: str, working: bool = False) -> Rule:
    return Rule(clock, days, None, working, f"statutory: {label}", anchor)


# 《信访工作条例》(2022) and the hotline practice (domain §2).
STATUTORY: dict[str, Rule] = {
    r.clock: r
    for r in (
        _d("register", 15, "条例第22条 register and transfer within 15 days", "receipt"),
        _d("accept", 15, "条例第23条 tell acceptance within 15 days", "receipt"),
        _d("object", 5, "条例第23条 object within 5 working days", "assignment", working=True),
        _d("sign", 1, "12345 practice: sign for within 1 working day", "assignment", True),
        _d("handle", 60, "条例第34条 handle within 60 days", "acceptance"),
        _d("review_request", 30, "条例第35条 ask for review within 30 days", "the reply"),
        _d("review", 30, "条例第35条 review within 30 days", "the request"),
        _d("reexam_request", 30, "条例第36条 ask for re-examination within 30 days", "review"),
        _d("reexam", 30, "条例第36条 re-examine within 30 days (hearings not counted)", "request"),
    )
}
CLOCK_KINDS: tuple[str, ...] = tuple(STATUTORY)

HOTLINE_SOURCE = "hotline"
HOTLINE_CLASSES: dict[str, Rule] = {
    "emergency": Rule("handle", None, 2, False, "source: 12345 emergency 2 h", "receipt"),
    "utilities": Rule("handle", None, 24, False, "source: 12345 utilities 24 h", "receipt"),
    "general": Rule("handle", 7, None, False, "source: 12345 general 7 days", "receipt"),
    "complex": Rule("handle", 15, None, False, "source: 12345 complex 15 days", "receipt"),
}
# Water supply and drainage, gas supply (shared/reference category tree).
UTILITY_CATEGORIES: tuple[str, ...] = ("C01.05.03", "C01.05.04")


def hotline_class(context: Mapping[str, Any]) -> str:
    """The 12345 handling class of a hotline order (see the module docstring)."""
    urgency = context.get("urgency") or "normal"
    case_type = context.get("case_type") or ""
    if urgency == "emergency":
        return "emergency"
    if case_type in HOTLINE_CLASSES:
        return str(case_type)
    if context.get("complex") or context.get("major"):
        return "complex"
    if urgency == "urgent" or any(case_type.startswith(c) for c in UTILITY_CATEGORIES):
        return "utilities"
    return "general"


@dataclass(frozen=True)
class PolicyRow:
    """A ``casework.deadline_policy`` row."""

    id: int
    clock: str
    region_prefix: str
    source: str | None
    case_type: str | None
    urgency: str | None
    days: int | None
    hours: int | None
    working_days: bool
    label: str


def _matches(row: PolicyRow, context: Mapping[str, Any], klass: str | None) -> bool:
    region = context.get("region_code") or ""
    case_type = context.get("case_type") or ""
    if not region.startswith(row.region_prefix):
        return False
    if row.source is not None and row.source != context.get("source"):
        return False
    if row.urgency is not None and row.urgency != (context.get("urgency") or "normal"):
        return False
    if row.case_type is not None:
        by_class = klass is not None and row.case_type == klass
        if not by_class and not (case_type and case_type.startswith(row.case_type)):
            return False
    return True


def _specificity(row: PolicyRow) -> tuple[int, int, int, int]:
    set_fields = sum(v is not None for v in (row.source, row.case_type, row.urgency))
    return (len(row.region_prefix), set_fields, len(row.case_type or ""), row.id)


def choose(kind: str, context: Mapping[str, Any], rows: Sequence[PolicyRow] = ()) -> Rule:
    """The rule for clock ``kind`` of a case with ``context`` (region_code, source,
    case_type, urgency; optionally complex). ``KeyError`` for an unknown clock kind."""
    rule = STATUTORY[kind]
    klass: str | None = None
    if kind == "handle" and context.get("source") == HOTLINE_SOURCE:
        klass = hotline_class(context)
        rule = HOTLINE_CLASSES[klass]
    matching = [r for r in rows if r.clock == kind and _matches(r, context, klass)]
    if klass is not None:
        # the hotline classes are the source layer: a row for a jurisdiction alone (no
        # source, case type or urgency) sits below it and does not apply
        matching = [r for r in matching if _specificity(r)[1] > 0]
    if not matching:
        return rule
    best = max(matching, key=_specificity)
    where = best.region_prefix or "all regions"
    return Rule(
        kind,
        best.days,
        best.hours,
        best.working_days,
        f"policy #{best.id} ({where}): {best.label}",
        rule.anchor,
    )


async def load_policies(db: AsyncConnection) -> list[PolicyRow]:
    rows = (
        await db.execute(
            text(
                "SELECT id, clock, region_prefix, source, case_type, urgency, days, hours, "
                "working_days, label FROM casework.deadline_policy"
            )
        )
    ).all()
    return [PolicyRow(**r._mapping) for r in rows]


async def rule_for(db: AsyncConnection, kind: str, context: Mapping[str, Any]) -> Rule:
    """:func:`choose` with the policy rows of the database."""
    return choose(kind, context, await load_policies(db))
