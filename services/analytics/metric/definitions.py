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
            "Resolved with no repeat petition (a later petition naming the case as its prior), "
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
            "Petitions naming an earlier petition on the same matter (同人同事, as linked at "
            "intake) ÷ petitions received.",
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
        _r(
            "leader_case_resolution",
            "包案化解率",
            "leader-owned cases resolved",
            "resolved",
            "due_close",
            "Awaits casework's 领导包案 events: no event says which cases a leader owns yet.",
            available=False,
        ),
        _r(
            "supervised_on_time",
            "督办件按期率",
            "supervised cases on time",
            "closed_on_time",
            "closed",
            "Awaits casework's 督办 events: no event says which cases are under supervision yet.",
            available=False,
        ),
    )
}

# Volumes (domain §5): letters, visits (individual in 人次; collective in 批 and 人次), calls,
# online.
VOLUMES: dict[str, str] = {
    "received": "收件总量（件）",
    "people": "人次",
    "letters": "来信（件）",
    "visit_individual": "个体来访（批）",
    "visit_individual_people": "个体来访（人次）",
    "visit_collective_batches": "集体来访（批）",
    "visit_collective_people": "集体来访（人次）",
    "calls": "来电（件）",
    "online": "网上（件）",
    "platform": "平台转入（件）",
    "collective": "集体件",
    "repeat": "重复件",
    "first_petition": "初信初访",
}


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
