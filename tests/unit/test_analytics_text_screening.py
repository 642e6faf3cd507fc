"""Dispute screening: each rule with cases that must and must not trigger it, levels, ledger
and zero reports (invented texts)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from services.analytics.text.records import Petition
from services.analytics.text.screening import (
    Context,
    SensitiveCalendar,
    SensitivePeriod,
    assess,
    default_calendar,
    high_risk_topics,
    ledger,
    level_for,
    matter_groups,
    screen,
    skip_level,
    threats,
    zero_reports,
)
from shared.clock import SHANGHAI

T0 = datetime(2024, 5, 6, 10, 0, tzinfo=SHANGHAI)


def petition(case_id: str = "x", text: str = "小区路灯坏了，请修理。", **kw: object) -> Petition:
    fields: dict[str, object] = {
        "case_id": case_id,
        "title": kw.pop("title", "路灯不亮"),
        "content": text,
        "region_code": "440306",
        "received_at": T0,
    }
    fields.update(kw)
    return Petition(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("再拖下去我只能从楼上跳楼了", "self_harm"),
        ("实在活不下去了，工资一年没发", "self_harm"),
        ("逼急了就和他们同归于尽", "violence"),
        ("再不解决我就去北京上访", "beijing"),
        ("如果再拖欠工资，我们只能去北京讨说法", "beijing"),
        ("我们业主将集体到市政府门口静坐", "gathering"),
        ("下周一全体村民准备堵路", "gathering"),
        ("我们要拉横幅讨薪", "gathering"),
        ("如不解决，业主将联名上访", "gathering"),
    ],
)
def test_threats_found(text: str, kind: str) -> None:
    assert [h.kind for h in threats(text)] == [kind]


@pytest.mark.parametrize(
    "text",
    [
        "我们不会去北京，只希望尽快解决",  # negation
        "我从没想过自杀，只想讨个说法",
        "小区发生跳楼事件后物业仍不整改",  # an event reported
        "请防止人员聚集，做好防疫",  # a caution
        "商铺聚集区噪音大",  # a place type
        "广生村为修路堵路，交通拥堵",  # a road blocked by works
        "网上有篇“我要跳楼”的帖子",  # quoted
        "北京路路灯坏了",  # a street name
        "开发商在小区门口拉横幅卖房",  # no intent of the writer
        "过着慢性自杀一样的日子",
        "医疗事故夺走了年轻生命",
    ],
)
def test_threat_context_rules_avoid_false_hits(text: str) -> None:
    assert threats(text) == []


def test_high_risk_by_category_and_by_keywords() -> None:
    by_code = high_risk_topics(petition(category_code="C13.01.02", text="房屋征收补偿标准"))
    assert [t.code for t in by_code] == ["demolition"]
    by_words = high_risk_topics(petition(text="包工头拖欠工资半年，农民工工资一直没发"))
    assert [t.code for t in by_words] == ["unpaid_wages"]
    assert high_risk_topics(petition(category_code="C11.04.01", text="退役安置"))[0].code == (
        "veterans"
    )
    assert high_risk_topics(petition(category_code="C03.01", text="学校放学时间太早")) == []


def test_skip_level_needs_a_lower_pending_region() -> None:
    city_level = petition(region_code="440300", pending_levels=("440306",))
    assert skip_level(city_level) == ["440306"]
    same_level = petition(region_code="440306", pending_levels=("440306",))
    assert skip_level(same_level) == []
    assert skip_level(petition(region_code="440300")) == []
    a = assess(city_level)
    assert "skip_level" in a.reason_codes and a.level == "orange"


def test_failure_signals_and_levels() -> None:
    plain = assess(petition())
    assert plain.level == "blue" and plain.reasons == ()
    overdue = assess(petition(overdue=True))
    assert overdue.level == "yellow" and overdue.reason_codes == ("failure.overdue",)
    many = assess(petition(overdue=True, dissatisfied=True, review_requested=True, transfers=4))
    assert many.level == "red" and many.score == 7
    assert "failure.transfers" in many.reason_codes
    assert assess(petition(transfers=2)).reasons == ()
    assert assess(petition(extended=True)).level == "blue"
    assert [level_for(s) for s in (0, 1, 2, 3, 4, 5, 9)] == [
        "blue",
        "blue",
        "yellow",
        "orange",
        "orange",
        "red",
        "red",
    ]


def test_threat_alone_is_red_and_reasons_say_why() -> None:
    a = assess(petition(text="工资再不发我就去跳楼"))
    assert a.level == "red"
    assert a.reasons[0].code == "threat.self_harm" and "跳楼" in a.reasons[0].detail


def test_collective_visit_and_brewing() -> None:
    assert "collective.visit" in assess(petition(people_count=6)).reason_codes
    assert "collective.visit" not in assess(petition(people_count=4)).reason_codes
    brewing = assess(petition(), Context(brewing_people=7))
    assert "collective.brewing" in brewing.reason_codes and brewing.level == "orange"
    assert assess(petition(), Context(brewing_people=4)).reasons == ()
    assert "collective.large" in assess(petition(), Context(brewing_people=30)).reason_codes


def _neighbours(n: int, *, days_apart: int = 1) -> list[Petition]:
    return [
        petition(
            f"n{i}",
            title="锦绣花园旁搅拌站夜间施工噪音扰民",
            text="锦绣花园小区旁边的搅拌站每天晚上施工到凌晨，噪音和粉尘严重影响居民休息，"
            "请依法查处违建搅拌站。",
            person_keys=(f"person:{i}",),
            received_at=T0 + timedelta(days=i * days_apart),
        )
        for i in range(n)
    ]


def test_matter_groups_count_distinct_people_within_the_window() -> None:
    rows = [*_neighbours(6), petition("other", text="学校门口早上拥堵，请增派交警")]
    groups = matter_groups(rows)
    assert groups[0].people == 6 and set(groups[0].case_ids) == {f"n{i}" for i in range(6)}
    spread = matter_groups(_neighbours(6, days_apart=60), window_days=30)
    assert max(g.people for g in spread) == 1


def test_screen_finds_brewing_collective_and_repeats() -> None:
    rows = _neighbours(5)
    again = petition(
        "again",
        title="再次反映锦绣花园旁搅拌站夜间施工噪音扰民",
        text="锦绣花园小区旁边的搅拌站还在晚上施工，噪音粉尘严重，请依法查处违建搅拌站。",
        person_keys=("person:0",),
        received_at=T0 + timedelta(days=10),
    )
    out = {a.case_id: a for a in screen([*rows, again], as_of=date(2024, 5, 20))}
    assert "collective.brewing" in out["n1"].reason_codes
    assert "repeat" in out["again"].reason_codes
    assert "repeat" not in out["n0"].reason_codes  # the first petition of the matter


def test_sensitive_period_amplifies_only_cases_with_a_risk() -> None:
    cal = SensitiveCalendar((SensitivePeriod("全国两会", date(2024, 3, 3), date(2024, 3, 15)),))
    ctx = Context(as_of=date(2024, 2, 25), calendar=cal)  # 7 days before: within the lead
    risky = assess(petition(overdue=True), ctx)
    assert "sensitive_period" in risky.reason_codes and risky.level == "orange"
    assert assess(petition(), ctx).reasons == ()
    after = assess(petition(overdue=True), Context(as_of=date(2024, 4, 1), calendar=cal))
    assert "sensitive_period" not in after.reason_codes


def test_default_calendar_has_the_national_periods() -> None:
    cal = default_calendar([2024])
    names = {p.name for p in cal.periods}
    assert {"全国两会", "国庆", "春节", "元旦"} <= names
    spring = next(p for p in cal.periods if p.name == "春节")
    assert spring.start <= date(2024, 2, 10) <= spring.end  # 2024 lunar new year


def test_ledger_and_zero_reports() -> None:
    rows = [
        petition("r", text="再不解决就跳楼", owner_unit="unit:a"),
        petition("o", overdue=True, transfers=3, owner_unit="unit:a"),
        petition("y", overdue=True, owner_unit="unit:b"),
        petition("b", owner_unit="unit:c"),
    ]
    found = date(2024, 5, 6)
    items = ledger([assess(p) for p in rows], rows, found_on=found)
    assert [(i.case_id, i.level) for i in items] == [
        ("r", "red"),
        ("o", "orange"),
        ("y", "yellow"),
    ]
    assert items[0].due_on == found + timedelta(days=3)
    assert items[1].due_on == found + timedelta(days=7)
    assert items[2].due_on == found + timedelta(days=15)
    assert items[0].owner_unit == "unit:a" and items[0].reasons
    zero = zero_reports(
        ["unit:a", "unit:b", "unit:c", "unit:d"],
        items,
        period_start=date(2024, 5, 1),
        period_end=date(2024, 5, 31),
    )
    assert [z.owner_unit for z in zero] == ["unit:c", "unit:d"]
