"""The deadline engine's counting (domain §2) on the real holiday schedules.

Every expected date below is worked out by hand from the State Council's notices
(国办发明电): the holidays and make-up working days (调休) are written next to each case, so a
reader can check them without the code under test.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.casework.deadline import engine, policy
from services.casework.deadline.calendar import WorkCalendar, library_knows
from shared.clock import SHANGHAI

LIB = WorkCalendar()  # chinesecalendar and weekends, no overrides


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def due_iso(start: str, **kw: object) -> str:
    return engine.due(at(start), calendar=LIB, **kw).due_at.isoformat()  # type: ignore[arg-type]


# --- the domain example --------------------------------------------------------------------


def test_domain_example_calendar_days() -> None:
    # received 2025-09-28 (a make-up Sunday); day 15 is Monday 2025-10-13, a working day
    d = engine.due(at("2025-09-28T10:00:00+08:00"), days=15, calendar=LIB)
    assert d.due_at.isoformat() == "2025-10-13T23:59:59+08:00"
    assert not d.provisional and not d.moved
    assert [n.ordinal for n in d.counted] == list(range(1, 16))
    assert d.counted[0].day == date(2025, 9, 29)  # the start day is not counted


def test_domain_example_working_days() -> None:
    # 09-29 Mon 1, 09-30 Tue 2, 10-01..10-08 holidays, 10-09 Thu 3, 10-10 Fri 4,
    # 10-11 Sat (make-up) 5
    d = engine.due(at("2025-09-28T10:00:00+08:00"), days=5, working_days=True, calendar=LIB)
    assert d.due_at.isoformat() == "2025-10-11T23:59:59+08:00"
    assert [n.day for n in d.counted] == [
        date(2025, 9, 29),
        date(2025, 9, 30),
        date(2025, 10, 9),
        date(2025, 10, 10),
        date(2025, 10, 11),
    ]
    assert [n.day for n in d.skipped] == [date(2025, 10, i) for i in range(1, 9)]
    assert "make-up workday" in d.counted[-1].reason
    assert "国庆节" in d.skipped[0].reason
    assert "中秋" in d.skipped[5].reason  # 2025-10-06 is Mid-Autumn


def test_start_day_is_the_local_date() -> None:
    # 2025-09-27T20:00Z is 2025-09-28 04:00 in Shanghai: the same clock as the domain example
    assert due_iso("2025-09-27T20:00:00Z", days=15) == "2025-10-13T23:59:59+08:00"


# --- golden cases around Spring Festival and National Day, 2024–2026 -----------------------

GOLDEN = [
    # 2024 Spring Festival: holidays 02-10 (Sat) .. 02-17 (Sat); make-up 02-04 (Sun), 02-18 (Sun)
    # 02-08 Thu 1, 02-09 Fri 2, holidays, 02-18 Sun (make-up) 3, 02-19 Mon 4, 02-20 Tue 5
    ("2024-02-07T09:00:00+08:00", 5, True, "2024-02-20T23:59:59+08:00"),
    # day 15 is 02-16 (holiday), 02-17 holiday, 02-18 a make-up Sunday: the end
    ("2024-02-01T09:00:00+08:00", 15, False, "2024-02-18T23:59:59+08:00"),
    # 02-03 Sat skipped, 02-04 Sun is a make-up working day
    ("2024-02-02T17:30:00+08:00", 1, True, "2024-02-04T23:59:59+08:00"),
    # 2024 National Day: holidays 10-01 (Tue) .. 10-07 (Mon); make-up 09-29 (Sun), 10-12 (Sat)
    # 09-28 Sat skip, 09-29 Sun 1, 09-30 Mon 2, holidays, 10-08 3, 10-09 4, 10-10 5
    ("2024-09-27T09:00:00+08:00", 5, True, "2024-10-10T23:59:59+08:00"),
    # … 10-11 Fri 6, 10-12 Sat (make-up) 7, 10-13 Sun skip, 10-14 8, 10-15 9, 10-16 10
    ("2024-09-27T09:00:00+08:00", 10, True, "2024-10-16T23:59:59+08:00"),
    # day 15 is 10-05 (holiday); 10-06, 10-07 holidays; 10-08 Tue
    ("2024-09-20T09:00:00+08:00", 15, False, "2024-10-08T23:59:59+08:00"),
    # 60 days from 08-05: 26 days to 08-31, 30 in September, day 60 is 10-04 (holiday) → 10-08
    ("2024-08-05T09:00:00+08:00", 60, False, "2024-10-08T23:59:59+08:00"),
    # 2025 Spring Festival: holidays 01-28 (Tue) .. 02-04 (Tue); make-up 01-26 (Sun), 02-08 (Sat)
    # 01-25 Sat skip, 01-26 Sun 1, 01-27 Mon 2, holidays, 02-05 3, 02-06 4, 02-07 5
    ("2025-01-24T09:00:00+08:00", 5, True, "2025-02-07T23:59:59+08:00"),
    ("2025-01-24T09:00:00+08:00", 6, True, "2025-02-08T23:59:59+08:00"),  # 02-08 Sat make-up
    # hotline general 7 days from 01-27: day 7 is 02-03 (holiday), 02-04 holiday, 02-05 Wed
    ("2025-01-27T09:00:00+08:00", 7, False, "2025-02-05T23:59:59+08:00"),
    # day 15 from 01-14 is 01-29 (holiday) → first working day after is 02-05
    ("2025-01-14T09:00:00+08:00", 15, False, "2025-02-05T23:59:59+08:00"),
    # 2025 National Day + Mid-Autumn: holidays 10-01 .. 10-08; make-up 09-28 (Sun), 10-11 (Sat)
    # 30 days from 09-05: day 25 is 09-30, day 30 is 10-05 (holiday) → 10-09 Thu
    ("2025-09-05T09:00:00+08:00", 30, False, "2025-10-09T23:59:59+08:00"),
    # sign within 1 working day from 09-30 evening: 10-01 .. 10-08 holidays → 10-09
    ("2025-09-30T17:00:00+08:00", 1, True, "2025-10-09T23:59:59+08:00"),
    # 2026 Spring Festival: holidays 02-15 (Sun) .. 02-23 (Mon); make-up 02-14 (Sat), 02-28 (Sat)
    # 02-12 Thu 1, 02-13 Fri 2, 02-14 Sat (make-up) 3, holidays, 02-24 Tue 4, 02-25 Wed 5
    ("2026-02-11T09:00:00+08:00", 5, True, "2026-02-25T23:59:59+08:00"),
    # … 02-26 Thu 6, 02-27 Fri 7, 02-28 Sat (make-up) 8
    ("2026-02-11T09:00:00+08:00", 8, True, "2026-02-28T23:59:59+08:00"),
    # day 15 from 02-03 is 02-18 (holiday) → 02-24 Tue
    ("2026-02-03T09:00:00+08:00", 15, False, "2026-02-24T23:59:59+08:00"),
    # 60 days from 2025-12-29: 2 to 12-31, 31 in January, day 60 is 02-27 (Fri, working)
    ("2025-12-29T09:00:00+08:00", 60, False, "2026-02-27T23:59:59+08:00"),
    # 2026 Mid-Autumn 09-25 (Fri) .. 09-27 (Sun); National Day 10-01 (Thu) .. 10-07 (Wed);
    # make-up 09-20 (Sun), 10-10 (Sat)
    # 09-25..27 skip, 09-28 1, 09-29 2, 09-30 3, holidays, 10-08 Thu 4, 10-09 Fri 5
    ("2026-09-24T09:00:00+08:00", 5, True, "2026-10-09T23:59:59+08:00"),
    ("2026-09-24T09:00:00+08:00", 6, True, "2026-10-10T23:59:59+08:00"),  # 10-10 Sat make-up
    ("2026-09-19T09:00:00+08:00", 1, True, "2026-09-20T23:59:59+08:00"),  # 09-20 Sun make-up
    # day 15 from 09-18 is 10-03 (holiday) → 10-08 Thu
    ("2026-09-18T09:00:00+08:00", 15, False, "2026-10-08T23:59:59+08:00"),
]


@pytest.mark.parametrize(("start", "days", "working", "expected"), GOLDEN)
def test_golden_day_clocks(start: str, days: int, working: bool, expected: str) -> None:
    d = engine.due(at(start), days=days, working_days=working, calendar=LIB)
    assert d.due_at.isoformat() == expected
    assert not d.provisional
    assert d.due_at.date().isoformat() == expected[:10]
    assert d.basis == ("working_days" if working else "calendar_days")


HOURS = [
    # hour clocks run through holidays and nights
    ("2024-02-10T22:30:00+08:00", 2, "2024-02-11T00:30:00+08:00"),  # emergency, Spring Festival
    ("2024-02-09T18:00:00+08:00", 24, "2024-02-10T18:00:00+08:00"),  # utilities
    ("2025-09-30T20:00:00+08:00", 24, "2025-10-01T20:00:00+08:00"),
    ("2026-10-01T23:00:00+08:00", 2, "2026-10-02T01:00:00+08:00"),
    ("2026-02-16T01:00:00Z", 2, "2026-02-16T11:00:00+08:00"),  # shown in Shanghai time
]


@pytest.mark.parametrize(("start", "hours", "expected"), HOURS)
def test_golden_hour_clocks(start: str, hours: int, expected: str) -> None:
    d = engine.due(at(start), hours=hours, calendar=LIB)
    assert d.due_at.isoformat() == expected
    assert d.basis == "hours" and not d.provisional and d.notes == ()


def test_moved_end_is_explained() -> None:
    d = engine.due(at("2024-02-01T09:00:00+08:00"), days=15, calendar=LIB)
    assert d.moved
    assert [n.day for n in d.skipped] == [date(2024, 2, 17)]
    assert "calendar end moved to next working day" in d.notes[-1].reason
    assert any("calendar end moved" in line for line in d.explain())


@pytest.mark.parametrize(
    ("kind", "start", "expected"),
    [
        # statutory rules through the engine: each basis
        ("register", "2025-09-28T10:00:00+08:00", "2025-10-13T23:59:59+08:00"),  # 15 days
        ("object", "2025-09-28T10:00:00+08:00", "2025-10-11T23:59:59+08:00"),  # 5 working days
        ("sign", "2026-02-13T16:00:00+08:00", "2026-02-14T23:59:59+08:00"),  # 1 working day
        # 60 days from 2025-08-06: 25 to 08-31, 30 in September, day 60 is 10-05 → 10-09
        ("handle", "2025-08-06T10:00:00+08:00", "2025-10-09T23:59:59+08:00"),
    ],
)
def test_statutory_rules_counted(kind: str, start: str, expected: str) -> None:
    rule = policy.choose(kind, {"region_code": "440306", "source": "letter"})
    d = engine.due(
        at(start), days=rule.days, hours=rule.hours, working_days=rule.working_days, calendar=LIB
    )
    assert d.due_at.isoformat() == expected


# --- unknown years and overrides -----------------------------------------------------------


def test_far_future_is_provisional_on_weekends() -> None:
    # 2031-12-10 + 60 days = 2032-02-08, a Sunday (2032-01-01 is a Thursday) → Monday 02-09
    d = engine.due(at("2031-12-10T09:00:00+08:00"), days=60, calendar=LIB)
    assert d.due_at.isoformat() == "2032-02-09T23:59:59+08:00"
    assert d.provisional and d.unknown_years == (2032,)
    assert any("PROVISIONAL" in line for line in d.explain())
    # working days in an unknown year: weekends only. 2031-12-10 is a Wednesday:
    # 12-11 Thu 1, 12-12 Fri 2, weekend, 12-15 Mon 3
    w = engine.due(at("2031-12-10T09:00:00+08:00"), days=3, working_days=True, calendar=LIB)
    assert w.due_at.isoformat() == "2031-12-15T23:59:59+08:00"
    assert w.provisional and w.unknown_years == (2031,)


def test_december_2026_clock_does_not_crash() -> None:
    # 2026-12-10 + 60 days = 2027-02-08 (Monday); 2027 is past chinesecalendar 1.11
    d = engine.due(at("2026-12-10T09:00:00+08:00"), days=60, calendar=LIB)
    assert d.due_at.date() >= date(2027, 2, 8)
    assert d.provisional == (not library_knows(2027))
    with pytest.raises(NotImplementedError):  # the library itself still raises for 2099
        chinese_calendar.is_workday(date(2099, 1, 5))


def test_override_wins_over_library() -> None:
    cal = WorkCalendar(
        {
            date(2025, 10, 13): ("holiday", "区级停工日"),  # a Monday the library calls working
            date(2025, 10, 12): ("workday", "补班"),  # a Sunday the library calls a weekend
        }
    )
    # 15 days from 09-27 end on Sunday 10-12, now a working day
    assert engine.due(at("2025-09-27T09:00:00+08:00"), days=15, calendar=cal).due_at == datetime(
        2025, 10, 12, 23, 59, 59, tzinfo=SHANGHAI
    )
    # 15 days from 09-28 end on 10-13, now a holiday → 10-14
    d = engine.due(at("2025-09-28T09:00:00+08:00"), days=15, calendar=cal)
    assert d.due_at.date() == date(2025, 10, 14) and d.moved
    assert "override" in d.notes[-2].reason
    # the library alone disagrees
    assert not LIB.info(date(2025, 10, 12)).workday
    assert cal.info(date(2025, 10, 12)).source == "override"


def test_loaded_year_is_known() -> None:
    cal = WorkCalendar().with_year(2032, [(date(2032, 2, 9), "holiday", "春节")])
    assert cal.is_known_year(2032) and not WorkCalendar().is_known_year(2032)
    d = engine.due(at("2031-12-10T09:00:00+08:00"), days=60, calendar=cal)
    # 02-08 Sunday, 02-09 now a holiday → 02-10
    assert d.due_at.date() == date(2032, 2, 10) and not d.provisional


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        engine.due(at("2025-01-01T00:00:00+08:00"), calendar=LIB)
    with pytest.raises(ValueError):
        engine.due(at("2025-01-01T00:00:00+08:00"), days=1, hours=1, calendar=LIB)
    with pytest.raises(ValueError):
        engine.due(datetime(2025, 1, 1), days=1, calendar=LIB)


# --- properties ----------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2004, 1, 1), max_value=datetime(2034, 12, 31), timezones=st.just(SHANGHAI)
)


@settings(max_examples=300, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=70))
def test_working_days_property(start: datetime, n: int) -> None:
    d = engine.due(start, days=n, working_days=True, calendar=LIB)
    last = d.due_at.date()
    assert LIB.is_workday(last)
    between = [start.date() + timedelta(days=i) for i in range(1, (last - start.date()).days + 1)]
    assert sum(LIB.is_workday(x) for x in between) == n
    assert d.due_at.time().isoformat() == "23:59:59"


@settings(max_examples=300, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=90))
def test_calendar_days_property(start: datetime, n: int) -> None:
    d = engine.due(start, days=n, calendar=LIB)
    last = d.due_at.date()
    nominal = start.date() + timedelta(days=n)
    assert last >= nominal and LIB.is_workday(last)
    # every day from the nominal end up to the real end is a day off
    assert all(
        not LIB.is_workday(nominal + timedelta(days=i)) for i in range((last - nominal).days)
    )
    assert d.moved == (last != nominal)
