"""The numbers offices report (domain §5), defined once: every rate is a weighted sum of
rollup counters over a sum of rollup counters (``counters.py`` says what each counter counts).

The period of a case is the day it was received (Asia/Shanghai; its registration day when no
receipt was seen): "of the cases received in the period, how many …". Figures of a recent
period therefore grow as its cases progress; the year-on-year change compares the same days
one year earlier.

Domain §5, quoted where a rate is defined:

    Rates (each per unit, region, category and period, with numerator and denominator
    shown): 及时受理率 (acceptance decided within its clock), 按期答复率 / 按期办结率
    (replied / closed within the deadline incl. approved extensions), 办结率, 化解率
    (resolved, verified), 一次性化解率 (resolved with no repeat petition, review request or
    不满意 within 90 days), 参评率 (rated ÷ rateable), 满意率 ((满意 + 基本满意) ÷ rated,
    per rated party: the handling unit and the petition office), the 12345 three rates from
    the hotline's own call-backs — 响应率 (contacted ÷ valid call-backs), 解决率 (solved ÷
    valid call-backs), 12345 满意率 ((满意 + 0.9 × 基本满意) ÷ valid call-backs) — and their
    weighted score (default 10 % / 50 % / 40 %), 重复信访率, 回访率, 包案化解率,
    督办件按期率.

督办件按期率 and 包案化解率 come from casework's ``casework.case.supervised`` and
``casework.case.leader_assigned`` (folded in ``fold.py``). One part of 督办件按期率's
denominator — a supervision unanswered past its due time — depends on the time of the read,
not only on the events: it is counted from the facts when read (``counters.AS_OF_COUNTERS``),
so a rebuild reproduces it as of the same time.

Volumes include 去市/赴省/进京 (``VISIT_LEVELS``: where a visit was received, from the
case's source, channel, the national marker of an item handed down and the level of the desk
that registered it — intake's ``received_level``; a desk visit from before intake recorded the
level counts as 去市, as it did before).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import Settings


@dataclass(frozen=True)
class Rate:
    code: str
    name: str  # 中文
    label: str  # English
    numerator: tuple[tuple[str, float], ...]  # (counter, weight)
    denominator: tuple[str, ...]
    definition: str
    available: bool = True

    def numerator_of(self, c: Mapping[str, float]) -> float:
        return sum(c.get(name, 0) * w for name, w in self.numerator)

    def denominator_of(self, c: Mapping[str, float]) -> float:
        return sum(c.get(name, 0) for name in self.denominator)

    def value_of(self, c: Mapping[str, float]) -> float | None:
        """The rate in 0–1, or None when the denominator is zero (or the rate awaits events)."""
        d = self.denominator_of(c)
        if not self.available or not d:
            return None
        return self.numerator_of(c) / d


def _r(
    code: str,
    name: str,
    label: str,
    num: str | tuple[tuple[str, float], ...],
    den: str,
    definition: str,
    available: bool = True,
) -> Rate:
    numerator = ((num, 1.0),) if isinstance(num, str) else num
    return Rate(code, name, label, numerator, (den,), definition, available)


RATES: dict[str, Rate] = {
    r.code: r
    for r in (
        _r(
            "timely_acceptance",
            "及时受理率",
            "accepted on time",
            "accept_on_time",
            "accept_decided",
            "Acceptance decided (受理 or 不予受理) within its clock ÷ acceptance decisions. The "
            "clock is casework's (条例第23条, 15 days, or the local policy).",
        ),
        _r(
            "reply_on_time",
            "按期答复率",
            "replied on time",
            "reply_on_time",
            "replied",
            "First replies (答复) within the handling deadline, approved extensions included "
            "(an extension moves the deadline) ÷ replied cases.",
        ),
        _r(
            "close_on_time",
            "按期办结率",
            "closed on time",
            "closed_on_time",
            "closed",
            "Closed cases whose handling clock was met (first reply on time, no handling "
            "deadline missed; approved extensions included) ÷ closed cases.",
        ),
        _r(
            "closure",
            "办结率",
            "closure rate",
            "closed",
            "due_close",
            "Closed ÷ accepted cases, less those withdrawn before closing (a withdrawal ends "
            "the case without 办结).",
        ),
        _r(
            "resolution",
            "化解率",
            "resolution rate",
            "resolved",
            "due_close",
            "Cases closed as resolved (the closing act's verified outcome; after a re-handling "
            "the last closing counts) ÷ accepted cases less those withdrawn before closing.",
        ),
        _r(
            "one_time_resolution",
            "一次性化解率",
            "resolved at the first attempt",
            "resolved_once",
            "due_close",
            "Resolved with no repeat petition (a later petition naming the case as its prior, or "
            "one of the same person on the same matter found by the repeat check), "
            "no review request (复查/复核) and no 不满意 (either party) from receipt to 90 days "
            "after closing ÷ accepted cases less those withdrawn before closing. Provisional "
            "until 90 days after the period's last closing.",
        ),
        _r(
            "participation_unit",
            "参评率（责任单位）",
            "rated share, handling unit",
            "unit_rated",
            "rateable",
            "Cases with a rating of the handling unit (满意/基本满意/不满意) ÷ rateable cases "
            "(rated, or 超期未评价 once the window passed).",
        ),
        _r(
            "participation_office",
            "参评率（信访部门）",
            "rated share, petition office",
            "office_rated",
            "rateable",
            "Cases with a rating of the petition office ÷ rateable cases.",
        ),
        _r(
            "satisfaction_unit",
            "满意率（责任单位）",
            "satisfaction, handling unit",
            (("unit_satisfied", 1.0), ("unit_basic", 1.0)),
            "unit_rated",
            "(满意 + 基本满意) ÷ rated, for the handling unit; the latest evaluation of a case "
            "counts (a re-handled case is rated again).",
        ),
        _r(
            "satisfaction_office",
            "满意率（信访部门）",
            "satisfaction, petition office",
            (("office_satisfied", 1.0), ("office_basic", 1.0)),
            "office_rated",
            "(满意 + 基本满意) ÷ rated, for the petition office.",
        ),
        _r(
            "hotline_response",
            "响应率（12345）",
            "12345 response",
            "hl_contacted",
            "hl_valid",
            "Call-backs where the caller says the unit contacted them ÷ valid call-backs. A "
            "valid call-back is the hotline's latest call-back of a case (a later one "
            "supersedes an earlier one).",
        ),
        _r(
            "hotline_solution",
            "解决率（12345）",
            "12345 solved",
            "hl_solved",
            "hl_valid",
            "Call-backs where the caller says the matter was solved ÷ valid call-backs.",
        ),
        _r(
            "hotline_satisfaction",
            "满意率（12345）",
            "12345 satisfaction",
            (("hl_satisfied", 1.0), ("hl_basic", 0.9)),
            "hl_valid",
            "(满意 + 0.9 × 基本满意) ÷ valid call-backs.",
        ),
        _r(
            "repeat",
            "重复信访率",
            "repeat petitions",
            "repeat",
            "received",
            "Petitions received after an earlier petition of the same person on the same matter "
            "(同人同事), across every channel ÷ petitions received. A petition is a repeat when "
            "intake linked it to an earlier case (prior_case_ids) or when analytics' repeat "
            "check (GET /cases/{id}/repeats) found an earlier petition with a petitioner in "
            "common and basically the same claims (earlier_repeats > 0); every other received "
            "petition is a first petition (初信初访). The check runs when the petition is "
            "received; a petition received earlier but recorded later (history imported out of "
            "order) makes the one already recorded a repeat from then on.",
        ),
        _r(
            "revisit",
            "回访率",
            "call-back rate",
            "revisited",
            "replied",
            "Replied cases whose petitioner gave a rating or was called back by the hotline ÷ "
            "replied cases.",
        ),
        Rate(
            "leader_case_resolution",
            "包案化解率",
            "leader-owned cases resolved",
            (("leader_resolved", 1.0),),
            ("leader_due_close",),
            "领导包案 cases (a casework.case.leader_assigned event at any time) closed as resolved "
            "(the last closing's verified outcome, as 化解率 counts it) ÷ 包案 cases accepted, "
            "less those withdrawn before closing — the denominator of 化解率 restricted to 包案 "
            "cases, so the two compare. A 包案 case still open counts in the denominator, as an "
            "open case does for 化解率; those past the leader's resolve_by are shown beside it "
            "(leader_overdue, as of the read), and those resolved by resolve_by "
            "(leader_resolved_by_due).",
        ),
        Rate(
            "supervised_on_time",
            "督办件按期率",
            "supervised cases on time",
            (("supervised_on_time", 1.0),),
            ("supervised_on_time", "supervised_late", "supervised_overdue"),
            "督办件 (a casework.case.supervised event) whose every supervision got a reply — "
            "the first casework.case.replied (答复, 复查 or 复核意见) at or after that "
            "supervision — by its supervision_due_at ÷ 督办件 decided: every supervision replied, "
            "or a supervision replied after its due time, or one still unanswered past its due "
            "time (as of the read). A case supervised twice is on time only if both "
            "supervisions were answered in time; a late reply to either makes it late. A case "
            "whose supervision is unanswered and not yet due is in neither.",
        ),
    )
}

# Volumes (domain §5): letters, visits (individual in 人次; collective in 批 and 人次), calls,
# online; 去市/赴省/进京 (VISIT_LEVELS).
VOLUMES: dict[str, str] = {
    "received": "收件总量（件）",
    "people": "人次",
    "letters": "来信（件）",
    "visit_individual": "个体来访（次）",
    "visit_individual_people": "个体来访（人次）",
    "visit_collective_batches": "集体来访（批）",
    "visit_collective_people": "集体来访（人次）",
    "calls": "来电（件）",
    "online": "网上（件）",
    "platform": "平台转入（件）",
    "collective": "集体件",
    "repeat": "重复件",
    "first_petition": "初信初访",
    "visit_city": "去市（批）",
    "visit_city_people": "去市（人次）",
    "visit_city_collective": "去市集体访（批）",
    "visit_city_collective_people": "去市集体访（人次）",
    "visit_province": "赴省（批）",
    "visit_province_people": "赴省（人次）",
    "visit_province_collective": "赴省集体访（批）",
    "visit_province_collective_people": "赴省集体访（人次）",
    "visit_national": "进京（批）",
    "visit_national_people": "进京（人次）",
    "visit_national_collective": "进京集体访（批）",
    "visit_national_collective_people": "进京集体访（人次）",
}

# Counts shown with the volumes in the metrics API (not in the reports' volume tables).
EXTRA_VOLUMES: tuple[str, ...] = (
    "registered",
    "accepted",
    "supervised",  # 督办件
    "supervised_overdue",  # 督办逾期未答复 (as of the read)
    "leader_cases",  # 包案件
    "leader_closed",  # 包案已办结
    "leader_resolved_by_due",  # 包案按期化解 (closed as resolved by resolve_by)
    "leader_overdue",  # 包案逾期未办结 (as of the read)
)

VISIT_LEVELS: dict[str, str] = {
    "city": "去市: visits registered at a city-level petition office's desk in Minsheng "
    "(source visit, channel visit, and the desk's level — PetitionReceivedV1.received_level, "
    "the highest level of the registrar's unit's regions — is city). A visit registered at a "
    "district's, a street's or a community's desk is not 去市 (nor 赴省 or 进京). A desk "
    "visit whose event does not carry the level (from before intake recorded it) counts as "
    "去市, as it always did, so a rebuild of an old history gives the same figures.",
    "province": "赴省: visits the provincial petition platform transferred or assigned to us "
    "(source province_transfer or province_assign, form visit): the petitioners went to the "
    "provincial bureau in person; also a visit registered at a provincial-level desk "
    "(received_level province).",
    "national": "进京: visits handed down from the national bureau, as the item's data say — "
    "an item assigned from above or from the provincial platform (source assigned_from_above, "
    "province_transfer, province_assign) whose external ids hold a national_case_no, or whose "
    "source label names 国家信访局 / 国家信访信息系统 / 进京, with form visit. Counted as 进京 "
    "only (not also 赴省).",
}
"""Where the visits of 去市/赴省/进京 were received (``counters.visit_level``); each level is
counted in 批 (every visit one batch, whatever its size) and 人次 (people_count summed), and
its collective visits (≥ 5 people) again in 批 and 人次, as the visit volumes are. Other
visits (e.g. an item assigned from above with no national marker) are in none of the three."""


def hotline_score(counters: Mapping[str, float], settings: Settings) -> float | None:
    """The 12345 weighted score in points (0–100): weights of 响应率 / 解决率 / 满意率 from
    settings (default 10 / 50 / 40)."""
    rates = [
        RATES[code].value_of(counters)
        for code in ("hotline_response", "hotline_solution", "hotline_satisfaction")
    ]
    if any(r is None for r in rates):
        return None
    weights = (
        settings.analytics_weight_response,
        settings.analytics_weight_solution,
        settings.analytics_weight_satisfaction,
    )
    total = sum(weights)
    if not total:
        return None
    return 100 * sum(w * r for w, r in zip(weights, rates, strict=True) if r is not None) / total
