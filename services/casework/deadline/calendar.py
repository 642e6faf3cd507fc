"""The working-day calendar of mainland China, as the deadline engine counts it (domain §2).

Whether a date is a working day is decided, in this order:

1. an **override row** (table ``casework.holiday``: ``holiday`` or ``workday``), entered by an
   administrator from the State Council notice; it wins over everything else, so a wrong or
   missing entry in the library can be corrected;
2. the **chinesecalendar** package, which carries the official schedule with its make-up
   working days (调休) for the years it knows (2004–2026 in 1.11) and *raises*
   ``NotImplementedError`` for any other year;
3. **ordinary weekends** (Saturday and Sunday off), for a year nobody knows.

A year is *known* when the library knows it or it is listed in ``casework.holiday_year`` (its
holidays were entered in full). A deadline that looked at a day of an unknown year is
*provisional*: it is recomputed when that year is loaded (``clocks.recompute_year``).

:class:`WorkCalendar` is pure and immutable; :func:`load_calendar` reads the override table
into one. Without a database, ``WorkCalendar()`` is the library plus weekends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Literal

import chinese_calendar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

DayKind = Literal["holiday", "workday"]
WEEKDAYS_ZH = "一二三四五六日"


@dataclass(frozen=True)
class DayInfo:
    """What the calendar says about one date, with the reason in words."""

    day: date
    workday: bool
    reason: str  # "weekend", "holiday 国庆节 National Day", "make-up workday 调休 (春节)" …
    source: Literal["override", "library", "weekend"]
    known: bool  # False when the date's year is known to nobody: the answer is provisional


@lru_cache(maxsize=256)
def library_knows(year: int) -> bool:
    """Whether the installed chinesecalendar carries ``year`` (it raises for other years)."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _holiday_name(english: str | None) -> str:
    """``"National Day"`` → ``"国庆节 National Day"`` (the library names holidays in English)."""
    if not english:
        return ""
    for h in chinese_calendar.Holiday:
        if h.value == english:
            return f"{h.chinese} {english}"
    return english


@dataclass(frozen=True)
class WorkCalendar:
    """Working days with overrides > chinesecalendar > weekends (see the module docstring).

    ``overrides`` maps a date to its kind and name; ``loaded_years`` are the years whose
    holidays were entered in full; ``origin`` says where the overrides came from, for the
    explanation ("library and weekends only" when no database was read).
    """

    overrides: Mapping[date, tuple[DayKind, str]] = field(default_factory=dict)
    loaded_years: frozenset[int] = frozenset()
    origin: str = "chinesecalendar and ordinary weekends only (no override table read)"

    def is_known_year(self, year: int) -> bool:
        return year in self.loaded_years or library_knows(year)

    def info(self, day: date) -> DayInfo:
        known = self.is_known_year(day.year)
        over = self.overrides.get(day)
        if over is not None:
            kind, name = over
            if kind == "workday":
                return DayInfo(
                    day, True, f"make-up workday 调休上班 ({name}, override)", "override", known
                )
            return DayInfo(day, False, f"holiday {name} (override)", "override", known)
        if library_knows(day.year):
            on_holiday, english = chinese_calendar.get_holiday_detail(day)
            name = _holiday_name(english)
            weekend = day.weekday() >= 5
            if on_holiday:
                if name:
                    return DayInfo(day, False, f"holiday {name}", "library", True)
                return DayInfo(day, False, "weekend", "library", True)
            if weekend:
                return DayInfo(day, True, f"make-up workday 调休上班 ({name})", "library", True)
            return DayInfo(day, True, "working day", "library", True)
        if day.weekday() >= 5:
            reason = "weekend" + ("" if known else f" (year {day.year} not known: provisional)")
            return DayInfo(day, False, reason, "weekend", known)
        reason = "working day" + ("" if known else f" (year {day.year} not known: provisional)")
        return DayInfo(day, True, reason, "weekend", known)

    def is_workday(self, day: date) -> bool:
        return self.info(day).workday

    def with_year(self, year: int, days: Iterable[tuple[date, DayKind, str]]) -> WorkCalendar:
        """This calendar with ``year``'s override rows replaced by ``days`` and the year loaded."""
        kept = {d: v for d, v in self.overrides.items() if d.year != year}
        kept.update({d: (k, n) for d, k, n in days})
        return WorkCalendar(kept, self.loaded_years | {year}, self.origin)


async def load_calendar(db: AsyncConnection) -> WorkCalendar:
    """The calendar with every override row and loaded year of the database."""
    rows = (await db.execute(text("SELECT day, kind, name FROM casework.holiday"))).all()
    years = (await db.execute(text("SELECT year FROM casework.holiday_year"))).scalars().all()
    overrides: dict[date, tuple[DayKind, str]] = {r.day: (r.kind, r.name) for r in rows}
    return WorkCalendar(
        overrides,
        frozenset(int(y) for y in years),
        f"chinesecalendar with {len(overrides)} override row(s) and "
        f"{len(years)} loaded year(s) from the database",
    )
