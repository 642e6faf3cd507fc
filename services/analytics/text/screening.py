"""Dispute screening (矛盾纠纷排查): each case's risk level with its reasons, the screening
ledger (排查台账) and zero reports (零报告).

Owns the rules of domain §4 as pure functions over :class:`Petition` records: threats (扬言)
from a lexicon written as data with context rules, brewing collective petitions, skip-level
petitions (越级), high-risk categories, repeat petitions, signals of failure and sensitive
periods from a configurable calendar. The read model persists the ledger; an arq cron job
runs :func:`screen` in periodic sweeps.

Scoring (points add up; the level follows the total):

=========================================================  ======
reason                                                     points
=========================================================  ======
threat of self-harm or violence (自杀, 跳楼, 同归于尽 …)       5
threat of going to Beijing or of a mass gathering, 堵路 …      4
collective: a visit of ≥ 5 people, or ≥ 20 petitioners         4
brewing collective: ≥ 5 petitioners on one matter in window    3
skip-level (越级) while pending lower                          3
repeat petition (≥ 3 earlier: 3)                               2
high-risk category (征地拆迁, 欠薪, 企业改制, 环境污染, 物业,        2
涉法涉诉, 退役军人)
overdue, 不满意, review requested                          2 each
extended, ≥ 3 transfers                                    1 each
sensitive period ahead or under way (only with other reasons)  2
=========================================================  ======

Levels: ≥ 5 red (红), 3–4 orange (橙), 2 yellow (黄), below blue (蓝, general). Ledger items are
made for yellow and above, due in 3 / 7 / 15 days for red / orange / yellow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from services.analytics.text.records import Petition
from services.analytics.text.repeats import RepeatIndex, fingerprint
from services.analytics.text.terms import normalize
from shared.reference import categories, regions

Level = Literal["red", "orange", "yellow", "blue"]
LEVELS: tuple[Level, ...] = ("red", "orange", "yellow", "blue")
LEVEL_NAMES = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
DUE_DAYS: dict[Level, int] = {"red": 3, "orange": 7, "yellow": 15, "blue": 30}
LEDGER_LEVELS: frozenset[Level] = frozenset({"red", "orange", "yellow"})


def level_for(score: int) -> Level:
    if score >= 5:
        return "red"
    if score >= 3:
        return "orange"
    if score >= 2:
        return "yellow"
    return "blue"


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # threat.self_harm, collective.visit, skip_level, high_risk.demolition …
    points: int
    detail: str  # what was found, in Chinese for the ledger: "扬言：跳楼"


@dataclass(frozen=True, slots=True)
class Assessment:
    case_id: str
    level: Level
    score: int
    reasons: tuple[Reason, ...]

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


# --- threats (扬言) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThreatTerm:
    """One lexicon entry. ``needs_intent``: the word has everyday senses (聚集 of shops, a
    road 堵 by works), so it counts only after a marker of intent (我们 … 将/要/只能 …)."""

    kind: Literal["self_harm", "violence", "beijing", "gathering"]
    pattern: str
    needs_intent: bool = False
    not_after: tuple[str, ...] = ()  # what, just before the phrase, gives it another sense


THREAT_LEXICON: tuple[ThreatTerm, ...] = (
    *(
        ThreatTerm("self_harm", p)
        for p in (
            "自焚",
            "跳楼",
            "跳河",
            "跳江",
            "喝农药",
            "服毒",
            "割腕",
            "上吊",
            "寻短见",
            "不想活",
            "活不下去",
            "以死明志",
            "以死相逼",
            "死给你们看",
            "一死了之",
        )
    ),
    ThreatTerm("self_harm", "自杀", not_after=("慢性",)),
    ThreatTerm("self_harm", "轻生", not_after=("年",)),
    *(
        ThreatTerm("violence", p)
        for p in (
            "同归于尽",
            "报复社会",
            "血债血还",
            "杀了他",
            "杀了他们",
            "砍死",
            "弄死",
            "炸掉",
            "炸药包",
            "放火烧",
            "拼了这条命",
            "鱼死网破",
        )
    ),
    *(
        ThreatTerm("beijing", p)
        for p in (
            "进京上访",
            "进京",
            "赴京",
            "上京",
            "上访到北京",
            "去北京上访",
            "到北京上访",
            "中南海",
            "国家信访局",
            "天安门",
        )
    ),
    *(
        ThreatTerm("beijing", p, needs_intent=True)
        for p in ("去北京", "到北京", "告到北京", "上北京", "找中央")
    ),
    *(ThreatTerm("gathering", p) for p in ("集体上访", "组织上访", "联名上访", "游行示威")),
    *(
        ThreatTerm("gathering", p, needs_intent=True)
        for p in (
            "聚集",
            "堵路",
            "堵门",
            "围堵",
            "静坐",
            "上街",
            "冲击",
            "拉横幅",
            "打横幅",
            "游行",
            "示威",
            "维权行动",
            "上访",
        )
    ),
)
THREAT_POINTS = {"self_harm": 5, "violence": 5, "beijing": 4, "gathering": 4}
THREAT_NAMES = {"self_harm": "自伤", "violence": "暴力", "beijing": "进京", "gathering": "聚集"}

# A negation shortly before the phrase: "不会去北京", "防止人员聚集", "从未想过自杀".
NEGATIONS = (
    "不会",
    "不想",
    "不要",
    "不是",
    "不能",
    "没有",
    "没",
    "从未",
    "绝不",
    "决不",
    "并非",
    "并不",
    "无意",
    "防止",
    "避免",
    "以免",
    "禁止",
    "严禁",
    "杜绝",
    "劝阻",
    "不得",
    "谨防",
)
# What marks the writer's own intent before an ambiguous word.
INTENT = (
    "准备",
    "打算",
    "将",
    "要",
    "就",
    "会",
    "只能",
    "只好",
    "被迫",
    "组织",
    "相约",
    "扬言",
    "不惜",
    "继续",
    "再不",
    "否则",
    "不然",
)
# After the phrase: it is an event reported or a place type, not a threat.
NOT_THREAT_AFTER = ("事件", "新闻", "报道", "案件", "区域", "场所", "地", "区", "效应", "产业")
NEGATION_WINDOW = 6  # characters before the phrase where a negation vetoes it
INTENT_WINDOW = 12  # characters before an ambiguous phrase where intent must appear
_QUOTES = re.compile(r"“[^”]{0,40}”|\"[^\"]{0,40}\"|「[^」]{0,40}」|《[^》]{0,60}》")
_CLAUSE = re.compile(r"[，。！？；,.!?;\n]")


@dataclass(frozen=True, slots=True)
class ThreatHit:
    kind: str
    phrase: str
    position: int


def _clause_before(text: str, start: int, width: int) -> str:
    before = text[max(0, start - width) : start]
    parts = _CLAUSE.split(before)
    return parts[-1] if parts else before


def threats(text: str) -> list[ThreatHit]:
    """扬言 found in ``text``, one hit per kind (the first), context rules applied: quoted
    phrases (titles, slogans, someone else's words) are blanked; a negation in the same clause
    just before vetoes; ambiguous words need intent; reported events and place types
    (跳楼事件, 人员聚集场所) are no threats."""
    body = normalize(text)
    body = _QUOTES.sub(lambda m: " " * len(m.group()), body)
    hits: dict[str, ThreatHit] = {}
    taken: list[tuple[int, int]] = []  # a longer phrase wins over one it contains
    for term in sorted(THREAT_LEXICON, key=lambda t: -len(t.pattern)):
        if term.kind in hits:
            continue
        for m in re.finditer(re.escape(term.pattern), body):
            start, end = m.span()
            if any(a <= start and end <= b for a, b in taken):
                continue
            near = _clause_before(body, start, NEGATION_WINDOW)
            if any(n in near for n in NEGATIONS):
                continue
            if term.not_after and body[:start].endswith(term.not_after):
                continue
            if body[end : end + 2].startswith(NOT_THREAT_AFTER):
                continue
            if term.needs_intent:
                context = _clause_before(body, start, INTENT_WINDOW)
                if not any(w in context for w in INTENT):
                    continue
            hits[term.kind] = ThreatHit(term.kind, term.pattern, start)
            taken.append((start, end))
            break
    return sorted(hits.values(), key=lambda h: h.position)


# --- high-risk categories -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RiskTopic:
    code: str
    name: str
    category_codes: tuple[str, ...]  # the reference categories of this topic
    keywords: tuple[str, ...]  # for cases not yet categorised (or categorised elsewhere)


HIGH_RISK_TOPICS: tuple[RiskTopic, ...] = (
    RiskTopic(
        "demolition",
        "征地拆迁",
        ("C13.01",),
        ("征地", "拆迁", "房屋征收", "征收补偿", "安置房", "强拆"),
    ),
    RiskTopic(
        "unpaid_wages",
        "欠薪",
        ("C02.01.01", "C02.01.02"),
        ("欠薪", "讨薪", "拖欠工资", "拖欠农民工", "农民工工资", "工资拖欠", "血汗钱"),
    ),
    RiskTopic(
        "restructuring", "企业改制", ("C02.05",), ("企业改制", "改制", "买断工龄", "下岗职工")
    ),
    RiskTopic(
        "pollution",
        "环境污染",
        ("C05.01", "C05.02", "C05.03", "C05.04"),
        ("污染", "偷排", "排污", "臭气", "废气", "黑臭", "粉尘"),
    ),
    RiskTopic("property", "物业", ("C01.01",), ("物业公司", "物业费", "业委会", "物业管理")),
    RiskTopic(
        "litigation",
        "涉法涉诉",
        ("C08.04",),
        ("判决", "法院", "执行难", "申诉", "检察院", "错案", "冤案"),
    ),
    RiskTopic("veterans", "退役军人", ("C11.04",), ("退役军人", "退伍", "复员", "转业", "老兵")),
)


def high_risk_topics(petition: Petition) -> list[RiskTopic]:
    """The high-risk topics of a case: by its category (the reference tree's flag) and,
    for matters the category does not tell, by keywords of title and text."""
    found: list[RiskTopic] = []
    code = petition.category_code
    if code:
        for topic in HIGH_RISK_TOPICS:
            if any(categories.is_within(code, c) for c in topic.category_codes):
                found.append(topic)
    body = normalize(petition.text)
    for topic in HIGH_RISK_TOPICS:
        if topic not in found and any(k in body for k in topic.keywords):
            found.append(topic)
    if not found and code:
        category = categories.get(code)
        if category is not None and category.high_risk:
            found.append(RiskTopic("category", category.name, (code,), ()))
    return found


# --- sensitive periods --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SensitivePeriod:
    name: str
    start: date
    end: date  # inclusive


@dataclass(frozen=True, slots=True)
class SensitiveCalendar:
    """The periods that raise a sweep's attention, and how many days before each the
    screening already counts it (matters must be settled before the period begins)."""

    periods: tuple[SensitivePeriod, ...]
    lead_days: int = 15

    def active(self, day: date) -> tuple[SensitivePeriod, ...]:
        lead = timedelta(days=self.lead_days)
        return tuple(p for p in self.periods if p.start - lead <= day <= p.end)


def _spring_festival(year: int) -> tuple[date, date] | None:
    try:
        import chinese_calendar
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    try:
        days = [
            d
            for d in chinese_calendar.get_holidays(date(year, 1, 10), date(year, 3, 1))
            if chinese_calendar.get_holiday_detail(d)[1] == "Spring Festival"
        ]
    except NotImplementedError:  # a year the package does not know yet
        return None
    return (min(days), max(days)) if days else None


def default_calendar(years: Iterable[int], *, lead_days: int = 15) -> SensitiveCalendar:
    """全国两会 (3–15 March), 春节 (the statutory holiday, from ``chinesecalendar``), 国庆
    (1–7 October) and 元旦 for each year. Offices add their own (a party congress, a local
    anniversary) by building a :class:`SensitiveCalendar` themselves."""
    periods: list[SensitivePeriod] = []
    for year in sorted(set(years)):
        periods.append(SensitivePeriod("元旦", date(year, 1, 1), date(year, 1, 3)))
        spring = _spring_festival(year)
        if spring:
            periods.append(SensitivePeriod("春节", *spring))
        periods.append(SensitivePeriod("全国两会", date(year, 3, 3), date(year, 3, 15)))
        periods.append(SensitivePeriod("国庆", date(year, 10, 1), date(year, 10, 7)))
    return SensitiveCalendar(tuple(periods), lead_days=lead_days)


# --- skip-level (越级) --------------------------------------------------------------------

_LEVEL_RANK = {"province": 0, "city": 1, "district": 2, "street": 3, "community": 4}


def _rank(code: str) -> int | None:
    region = regions.get(code)
    if region is not None:
        return _LEVEL_RANK[region.level]
    if len(code) == 6 and code.isdigit():  # GB/T 2260 shape for codes we do not list
        return 0 if code.endswith("0000") else 1 if code.endswith("00") else 2
    if len(code) in (9, 12) and code.isdigit():
        return 3 if len(code) == 9 else 4
    return None


def skip_level(petition: Petition) -> list[str]:
    """The lower-level regions where the same matter is still pending while this petition
    goes to a higher level (越级). Empty when not skip-level."""
    if not petition.region_code or not petition.pending_levels:
        return []
    here = _rank(petition.region_code)
    if here is None:
        return []
    found = []
    for code in petition.pending_levels:
        lower = _rank(code)
        if lower is not None and lower > here:
            found.append(code)
    return found


# --- collective (集体访) --------------------------------------------------------------------

COLLECTIVE_VISIT = 5  # a visit of ≥ 5 people is a collective visit
BREWING_PEOPLE = 5  # distinct petitioners on one matter within the window
LARGE_COLLECTIVE = 20
WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class MatterGroup:
    """Petitions of different people on one matter within the window."""

    case_ids: tuple[str, ...]
    people: int  # distinct person keys, plus people of cases with no key

    @property
    def size(self) -> int:
        return len(self.case_ids)


def matter_groups(
    petitions: Sequence[Petition], *, window_days: int = WINDOW_DAYS
) -> list[MatterGroup]:
    """Groups of the same matter (the repeat index's same-matter rule, any person) whose
    members lie within ``window_days`` of a neighbour; largest first."""
    ordered = sorted(
        petitions,
        key=lambda p: (p.received_at.timestamp() if p.received_at else float("-inf"), p.case_id),
    )
    index = RepeatIndex()
    parent = list(range(len(ordered)))
    position = {p.case_id: i for i, p in enumerate(ordered)}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    window = timedelta(days=window_days)
    for i, petition in enumerate(ordered):
        fp = fingerprint(petition)
        result = index.check(fp, limit=200)
        for link in result.links:
            j = position[link.case_id]
            other = ordered[j]
            if (
                petition.received_at
                and other.received_at
                and petition.received_at - other.received_at > window
            ):
                continue
            parent[find(i)] = find(j)
        index.add(fp)
    members: dict[int, list[int]] = {}
    for i in range(len(ordered)):
        members.setdefault(find(i), []).append(i)
    groups = []
    for ids in members.values():
        keys: set[str] = set()
        anonymous = 0
        for i in ids:
            p = ordered[i]
            if p.person_keys:
                keys.update(p.person_keys)
            else:
                anonymous += max(1, p.people_count)
        groups.append(
            MatterGroup(tuple(ordered[i].case_id for i in ids), people=len(keys) + anonymous)
        )
    groups.sort(key=lambda g: (-g.people, -g.size, g.case_ids))
    return groups


# --- assessment ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Context:
    """What a sweep knows beyond the case itself."""

    as_of: date | None = None
    calendar: SensitiveCalendar | None = None
    brewing_people: int = 0  # distinct petitioners on this case's matter within the window
    earlier_repeats: int = 0  # earlier petitions of the same person on the same matter
    many_transfers: int = 3


def assess(petition: Petition, context: Context | None = None) -> Assessment:
    """The case's risk level and the reasons, by the documented scoring."""
    ctx = context or Context()
    reasons: list[Reason] = []
    for hit in threats(petition.text):
        reasons.append(
            Reason(
                f"threat.{hit.kind}",
                THREAT_POINTS[hit.kind],
                f"扬言{THREAT_NAMES[hit.kind]}：{hit.phrase}",
            )
        )
    if petition.people_count >= LARGE_COLLECTIVE or ctx.brewing_people >= LARGE_COLLECTIVE:
        people = max(petition.people_count, ctx.brewing_people)
        reasons.append(Reason("collective.large", 4, f"集体访：{people}人"))
    elif petition.people_count >= COLLECTIVE_VISIT:
        reasons.append(Reason("collective.visit", 4, f"集体访：{petition.people_count}人来访"))
    elif ctx.brewing_people >= BREWING_PEOPLE:
        reasons.append(
            Reason("collective.brewing", 3, f"苗头性集体访：同一事项{ctx.brewing_people}人反映")
        )
    pending = skip_level(petition)
    if pending:
        reasons.append(Reason("skip_level", 3, f"越级：下级仍在办理（{'、'.join(pending)}）"))
    if ctx.earlier_repeats >= 3:
        reasons.append(Reason("repeat.many", 3, f"重复信访：此前{ctx.earlier_repeats}次"))
    elif ctx.earlier_repeats > 0:
        reasons.append(Reason("repeat", 2, f"重复信访：此前{ctx.earlier_repeats}次"))
    topics = high_risk_topics(petition)
    if topics:
        names = "、".join(t.name for t in topics)
        reasons.append(Reason(f"high_risk.{topics[0].code}", 2, f"高风险类别：{names}"))
    if petition.overdue:
        reasons.append(Reason("failure.overdue", 2, "超期未办结"))
    if petition.dissatisfied:
        reasons.append(Reason("failure.dissatisfied", 2, "群众不满意"))
    if petition.review_requested:
        reasons.append(Reason("failure.review", 2, "申请复查复核"))
    if petition.extended:
        reasons.append(Reason("failure.extended", 1, "延期办理"))
    if petition.transfers >= ctx.many_transfers:
        reasons.append(Reason("failure.transfers", 1, f"多次转办：{petition.transfers}次"))
    if reasons and ctx.calendar is not None:
        day = ctx.as_of or (petition.received_at.date() if petition.received_at else None)
        periods = ctx.calendar.active(day) if day else ()
        if periods:
            names = "、".join(dict.fromkeys(p.name for p in periods))
            reasons.append(Reason("sensitive_period", 2, f"敏感时期：{names}"))
    score = sum(r.points for r in reasons)
    return Assessment(petition.case_id, level_for(score), score, tuple(reasons))


def screen(
    petitions: Sequence[Petition],
    *,
    as_of: date | None = None,
    calendar: SensitiveCalendar | None = None,
    window_days: int = WINDOW_DAYS,
) -> list[Assessment]:
    """A sweep over a batch: each case assessed with the batch's same-matter groups
    (brewing collective petitions) and repeat counts; most severe first."""
    groups = matter_groups(petitions, window_days=window_days)
    people_of: dict[str, int] = {}
    for group in groups:
        for case_id in group.case_ids:
            people_of[case_id] = group.people
    repeats: dict[str, int] = {}
    for petition, check in _history(petitions):
        repeats[petition.case_id] = check
    if calendar is None:
        years = {p.received_at.year for p in petitions if p.received_at}
        if as_of is not None:
            years.add(as_of.year)
        calendar = default_calendar(years | {y + 1 for y in years})
    out = [
        assess(
            p,
            Context(
                as_of=as_of,
                calendar=calendar,
                brewing_people=people_of.get(p.case_id, 1),
                earlier_repeats=repeats.get(p.case_id, 0),
            ),
        )
        for p in petitions
    ]
    out.sort(key=lambda a: (LEVELS.index(a.level), -a.score, a.case_id))
    return out


def _history(petitions: Sequence[Petition]) -> Iterable[tuple[Petition, int]]:
    from services.analytics.text.repeats import links_for

    for petition, check in links_for(petitions):
        yield petition, check.earlier_repeats


# --- ledger (排查台账) and zero reports (零报告) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerItem:
    case_id: str
    matter: str
    level: Level
    reasons: tuple[str, ...]
    owner_unit: str
    found_on: date
    due_on: date


def owner_by_duty(petition: Petition) -> str:
    """The default owner: the case's own unit, else the duty of its category, else its
    region's office."""
    if petition.owner_unit:
        return petition.owner_unit
    if petition.category_code:
        category = categories.get(petition.category_code)
        if category is not None:
            return f"duty:{category.duty.code}"
    return f"region:{petition.region_code or 'unknown'}"


def ledger(
    assessments: Iterable[Assessment],
    petitions: Iterable[Petition],
    *,
    found_on: date,
    owner_of: Callable[[Petition], str] = owner_by_duty,
    due_days: Mapping[Level, int] = DUE_DAYS,
    levels: frozenset[Level] = LEDGER_LEVELS,
) -> list[LedgerItem]:
    """Screening-ledger items for the risks at ``levels``: matter, level, reasons, owner and
    the due date by level; most severe first."""
    by_id = {p.case_id: p for p in petitions}
    items = []
    for a in assessments:
        if a.level not in levels or a.case_id not in by_id:
            continue
        p = by_id[a.case_id]
        items.append(
            LedgerItem(
                case_id=a.case_id,
                matter=p.title,
                level=a.level,
                reasons=tuple(r.detail for r in a.reasons),
                owner_unit=owner_of(p),
                found_on=found_on,
                due_on=found_on + timedelta(days=due_days[a.level]),
            )
        )
    items.sort(key=lambda i: (LEVELS.index(i.level), i.due_on, i.case_id))
    return items


@dataclass(frozen=True, slots=True)
class ZeroReport:
    """零报告: the unit screened and found no risk item in the period."""

    owner_unit: str
    period_start: date
    period_end: date
    items: int = field(default=0)


def zero_reports(
    units: Iterable[str], items: Iterable[LedgerItem], *, period_start: date, period_end: date
) -> list[ZeroReport]:
    """A zero report for each unit with no ledger item in the period."""
    busy = {i.owner_unit for i in items if period_start <= i.found_on <= period_end}
    return [
        ZeroReport(unit, period_start, period_end)
        for unit in sorted(set(units))
        if unit not in busy
    ]
