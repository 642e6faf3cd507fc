"""What one case contributes to the rollups: every numerator and denominator of domain §5 as a
pure function of its fact row. The rollups hold ``Σ contribution(fact)``; a handler adds
``contribution(new) − contribution(old)`` for each fact it changes, so live and rebuilt
rollups agree by construction, and a fact that moves (a later receipt time, a reassignment to
another unit) takes its counts with it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

# Volumes (domain §5 first paragraph) and the counters behind every rate (definitions.py).
COUNTERS: tuple[str, ...] = (
    "received",  # petitions received (件)
    "people",  # 人次: people_count summed
    "letters",
    "visit_individual",  # individual visits (批 = 次)
    "visit_individual_people",  # individual visits in 人次
    "visit_collective_batches",  # collective visits in 批
    "visit_collective_people",  # collective visits in 人次
    "calls",
    "online",
    "platform",  # system to system (province, partners)
    "collective",  # collective petitions of any channel (people_count ≥ 5)
    # visits by the level of the body the petitioners went to (definitions.VISIT_LEVELS):
    # 去市 (city), 赴省 (province), 进京 (national); each in 批 (every visit one batch) and
    # 人次, and the collective ones (≥ 5 people) among them in 批 and 人次
    *(
        f"visit_{level}{part}"
        for level in ("city", "province", "national")
        for part in ("", "_people", "_collective", "_collective_people")
    ),
    "repeat",  # received after an earlier petition of the same person and matter (重复信访)
    "first_petition",  # 初信初访: received with no earlier petition (is_repeat)
    "registered",
    "accept_decided",  # accepted or refused: the denominator of 及时受理率
    "accept_on_time",
    "accepted",
    "refused",
    "diverted",
    "withdrawn",
    "assigned",
    "transferred",  # assigned more than once (改派)
    "objected",
    "signed",
    "contacted",
    "replied",
    "reply_on_time",
    "extended",
    "deadline_missed",
    "due_close",  # accepted and not withdrawn before closing: the denominator of 办结率
    "closed",
    "closed_on_time",
    "resolved",
    "resolved_once",
    "rateable",
    "unit_rated",
    "unit_satisfied",
    "unit_basic",
    "unit_dissatisfied",
    "office_rated",
    "office_satisfied",
    "office_basic",
    "office_dissatisfied",
    "revisited",
    "review_requested",
    "hl_valid",
    "hl_contacted",
    "hl_solved",
    "hl_satisfied",
    "hl_basic",
    "hl_dissatisfied",
    # 督办 (casework.case.supervised): cases under supervision; those whose every supervision
    # got a reply by its own due time; those with a reply after a supervision's due time
    "supervised",
    "supervised_on_time",
    "supervised_late",
    # 领导包案 (casework.case.leader_assigned): leader-owned cases, and among them what the
    # resolution counters count (due_close, closed, resolved), and resolved by ``resolve_by``
    "leader_cases",
    "leader_due_close",
    "leader_closed",
    "leader_resolved",
    "leader_resolved_by_due",
)

# Counters that depend on the time of the read, not only on the facts, so they are not
# rolled up: counted from ``case_fact`` when read (``metric.service``), as of that time.
#   supervised_overdue — supervised, no late reply, and a supervision with no reply yet whose
#                        supervision_due_at has passed
#   leader_overdue     — leader-owned, accepted, neither closed nor withdrawn, resolve_by passed
AS_OF_COUNTERS: tuple[str, ...] = ("supervised_overdue", "leader_overdue")

# the dimensions each fact is counted under (besides its region, always a key column)
DIMENSIONS: tuple[str, ...] = (
    "all",
    "unit",
    "office",
    "category",
    "category_top",
    "channel",
    "source",
)

ONE_TIME_WINDOW = timedelta(days=90)  # 一次性化解: nothing failed within 90 days
RATED = frozenset({"satisfied", "basically_satisfied", "dissatisfied"})

_LETTER = frozenset({"letter"})
_VISIT = frozenset({"visit"})
_CALL = frozenset({"phone", "sms"})
_ONLINE = frozenset({"web", "app", "wechat", "online", "email"})
# where a visit was received, by the case's source and the level of the desk that registered
# it (definitions.VISIT_LEVELS)
_DESK_SOURCES = frozenset({"visit"})  # registered at a petition office's desk in Minsheng
_PROVINCE_SOURCES = frozenset({"province_transfer", "province_assign"})  # the provincial platform
# the desk's level (intake's received_level) -> the visit level; a district's, a street's or a
# community's desk is none of 去市/赴省/进京
_DESK_LEVELS: dict[str, str | None] = {
    "province": "province",
    "city": "city",
    "district": None,
    "street": None,
    "community": None,
}

RollupKey = tuple[date, str, bool, str, str]  # period, region, accusation, dim, value

# The rollup tables by grain: ``…_district`` key the region by its district (6-digit) prefix,
# so a breakdown over a city or a district reads far fewer rows than one over full codes.
GRAINS: tuple[str, ...] = ("day", "month", "day_district", "month_district")
DISTRICT_DIGITS = 6


def category_top(code: str | None) -> str | None:
    return code.split(".", 1)[0] if code else None


def dimension_values(fact: Mapping[str, Any]) -> dict[str, str]:
    """The value of each dimension for this fact (``unknown`` where it is not known)."""
    values = {
        "all": "all",
        "unit": fact.get("unit_id") or fact.get("office_unit_id"),
        "office": fact.get("office_unit_id"),
        "category": fact.get("category_code"),
        "category_top": category_top(fact.get("category_code")),
        "channel": fact.get("channel"),
        "source": fact.get("source"),
    }
    return {k: v or "unknown" for k, v in values.items()}


def visit_level(fact: Mapping[str, Any]) -> str | None:
    """``city`` (去市), ``province`` (赴省), ``national`` (进京) for a visit, by where it was
    received (see ``definitions.VISIT_LEVELS``); None for anything else.

    In order: handed down from the national bureau → national; from the provincial platform →
    province; registered at a desk (source visit) → by the desk's level (``received_level``):
    a city desk → city, a provincial one → province, a district's, street's or community's →
    None. A desk visit whose level is not known (folded from an event from before intake
    recorded it) counts as city, as it always did, so a rebuild of an old history gives the
    same figures."""
    if fact.get("channel") not in _VISIT:
        return None
    if fact.get("national_origin"):
        return "national"
    source = fact.get("source")
    if source in _PROVINCE_SOURCES:
        return "province"
    if source in _DESK_SOURCES:
        desk = fact.get("received_level")
        return "city" if desk is None else _DESK_LEVELS.get(desk)
    return None


def is_repeat(fact: Mapping[str, Any]) -> bool:
    """重复信访: intake named an earlier petition on the same matter (``prior_count``), or
    analytics' repeat check found an earlier petition of the same person on the same matter
    (``repeat_detected``, from ``case_repeat``); else 初信初访."""
    return (fact.get("prior_count") or 0) > 0 or (fact.get("repeat_detected") or 0) > 0


def counts(fact: Mapping[str, Any]) -> dict[str, int]:
    """The counters this fact adds (only non-zero ones)."""
    c: dict[str, int] = {}

    def add(name: str, n: int = 1) -> None:
        if n:
            c[name] = c.get(name, 0) + n

    f = fact.get
    if f("received_at") is not None:
        people = int(f("people_count") or 1)
        add("received")
        add("people", people)
        channel = f("channel")
        if channel in _LETTER:
            add("letters")
        elif channel in _VISIT:
            if f("collective"):
                add("visit_collective_batches")
                add("visit_collective_people", people)
            else:
                add("visit_individual")
                add("visit_individual_people", people)
        elif channel in _CALL:
            add("calls")
        elif channel in _ONLINE:
            add("online")
        else:
            add("platform")
        if f("collective"):
            add("collective")
        level = visit_level(fact)
        if level is not None:
            add(f"visit_{level}")
            add(f"visit_{level}_people", people)
            if f("collective"):
                add(f"visit_{level}_collective")
                add(f"visit_{level}_collective_people", people)
        add("repeat" if is_repeat(fact) else "first_petition")
    if f("registered_at") is not None:
        add("registered")
    if f("accept_at") is not None:
        add("accept_decided")
        if f("accept_on_time"):
            add("accept_on_time")
        add("accepted" if f("accepted") else "refused")
    if f("diverted_at") is not None:
        add("diverted")
    withdrawn = f("withdrawn_at") is not None
    closed = f("closed_at") is not None
    if withdrawn:
        add("withdrawn")
    if f("assigned_at") is not None:
        add("assigned")
    if (f("assign_count") or 0) > 1:
        add("transferred")
    if (f("objection_count") or 0) > 0:
        add("objected")
    if f("signed_at") is not None:
        add("signed")
    if f("contacted_at") is not None:
        add("contacted")
    replied = f("replied_at") is not None
    if replied:
        add("replied")
        if f("reply_on_time"):
            add("reply_on_time")
    if (f("extension_count") or 0) > 0:
        add("extended")
    if (f("missed_count") or 0) > 0:
        add("deadline_missed")
    due_close = bool(f("accepted")) and not (withdrawn and not closed)
    if due_close:
        add("due_close")
    leader = f("leader_at") is not None
    if leader:
        add("leader_cases")
        if due_close:
            add("leader_due_close")
        if closed:
            add("leader_closed")
            if f("resolved"):
                add("leader_resolved")
                if f("resolve_by") is not None and fact["closed_at"] <= f("resolve_by"):
                    add("leader_resolved_by_due")
    if f("supervised_at") is not None:
        add("supervised")
        if f("supervision_late"):
            add("supervised_late")
        elif f("supervision_on_time"):
            add("supervised_on_time")
    if closed:
        add("closed")
        if f("reply_on_time") and not f("handle_missed"):
            add("closed_on_time")
        if f("resolved"):
            add("resolved")
            limit = fact["closed_at"] + ONE_TIME_WINDOW
            failures = (f("repeat_at"), f("review_requested_at"), f("dissatisfied_at"))
            if not any(t is not None and t <= limit for t in failures):
                add("resolved_once")
    unit_rating, office_rating = f("unit_rating"), f("office_rating")
    if f("evaluated_at") is not None:
        add("rateable")
        for party, rating in (("unit", unit_rating), ("office", office_rating)):
            if rating in RATED:
                add(f"{party}_rated")
                add(
                    {
                        "satisfied": f"{party}_satisfied",
                        "basically_satisfied": f"{party}_basic",
                        "dissatisfied": f"{party}_dissatisfied",
                    }[rating]
                )
    if replied and (
        unit_rating in RATED or office_rating in RATED or f("hl_visited_at") is not None
    ):
        add("revisited")
    if f("review_requested_at") is not None:
        add("review_requested")
    if f("hl_visited_at") is not None:
        add("hl_valid")
        if f("hl_contacted"):
            add("hl_contacted")
        if f("hl_solved"):
            add("hl_solved")
        rating = f("hl_rating")
        if rating == "satisfied":
            add("hl_satisfied")
        elif rating == "basically_satisfied":
            add("hl_basic")
        elif rating == "dissatisfied":
            add("hl_dissatisfied")
    return c


def district_of(region: str) -> str:
    """The district (6-digit) prefix of a region code: the key of the district rollups."""
    return region[:DISTRICT_DIGITS] if region.isdigit() else region


def month_of(day: date) -> date:
    return day.replace(day=1)


def contributions(fact: Mapping[str, Any]) -> dict[tuple[str, RollupKey], dict[str, int]]:
    """``{(grain, key): counters}`` for every rollup of ``GRAINS``; empty while the fact has no
    period (no receipt or registration seen yet)."""
    day = fact.get("day")
    if day is None:
        return {}
    c = counts(fact)
    if not c:
        return {}
    region = fact.get("region_code") or "unknown"
    district = district_of(region)
    acc = bool(fact.get("accusation"))
    month = month_of(day)
    out: dict[tuple[str, RollupKey], dict[str, int]] = {}
    for dim, value in dimension_values(fact).items():
        out[("day", (day, region, acc, dim, value))] = c
        out[("month", (month, region, acc, dim, value))] = c
        out[("day_district", (day, district, acc, dim, value))] = c
        out[("month_district", (month, district, acc, dim, value))] = c
    return out
