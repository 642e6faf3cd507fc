"""Counting a deadline (domain §2). Pure: no database, no clock; the calendar is given.

The rules, as Chinese procedure counts periods:

* **The start day is not counted.** A clock started at any time on 2025-09-28 counts its
  first day on 2025-09-29. Days are dates in Asia/Shanghai, whatever the offset of the start.
* **Calendar days** count every day, holidays and weekends included. When the last day is not
  a working day, the period ends on the next working day ("calendar end moved to next working
  day"): 15 days from 2025-09-22 would end on 2025-10-07, a National Day holiday, and so end on
  2025-10-09.
* **Working days** count only working days: make-up working days (调休上班) count, holidays
  and ordinary weekends do not. 5 working days from 2025-09-28 end on the make-up Saturday
  2025-10-11.
* A day clock is due at **23:59:59** of its last day, Asia/Shanghai.
* **Hour clocks** (hotline emergencies) run continuously: due at the start plus the hours.
* A day clock is **provisional** when any day the count had to ask the calendar about lies in
  a year the calendar does not know (weekends were assumed). A calendar-day clock asks only
  about its last day (and the days it moves over), so a 60-day clock started in December
  depends on the new year's schedule only through its end.

Extensions and pauses are not special here: the clock is counted again from its start with
``days + extended days + paused days`` (see ``clocks``), under the same basis. A working-day
extension therefore counts further working days after the original last day; a calendar-day
extension counts from the *statutory* last day, and the move to the next working day applies
only to the final end, not to the original one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from services.casework.deadline.calendar import WEEKDAYS_ZH, WorkCalendar
from shared.clock import SHANGHAI

Basis = Literal["calendar_days", "working_days", "hours"]
END_OF_DAY = time(23, 59, 59)
# A period longer than this is a mistake (no statutory clock is near ten years).
MAX_DAYS = 3660


@dataclass(frozen=True)
class DayNote:
    """One day the count looked at: counted (with its ordinal) or skipped, and why."""

    day: date
    counted: bool
    ordinal: int | None  # 1-based position among the counted days
    reason: str
    known: bool  # False: the year was not known, weekends were assumed

    def line(self) -> str:
        ordinal = "" if self.ordinal is None else str(self.ordinal)
        mark = f"counted  {ordinal:>3}" if self.counted else "skipped     "
        weekday = WEEKDAYS_ZH[self.day.weekday()]
        return f"{self.day.isoformat()} 周{weekday}  {mark}  {self.reason}"


@dataclass(frozen=True)
class Due:
    """A computed deadline with what was counted and skipped."""

    start: datetime
    due_at: datetime
    basis: Basis
    amount: int  # days or hours
    provisional: bool
    notes: tuple[DayNote, ...]
    moved: bool  # a calendar-day period whose last day was not a working day
    unknown_years: tuple[int, ...]
    calendar_origin: str

    @property
    def counted(self) -> tuple[DayNote, ...]:
        return tuple(n for n in self.notes if n.counted)

    @property
    def skipped(self) -> tuple[DayNote, ...]:
        return tuple(n for n in self.notes if not n.counted)

    def explain(self) -> list[str]:
        """The explanation an official reads, one line each (the due time is not included)."""
        start_local = self.start.astimezone(SHANGHAI)
        lines = [f"start {start_local.isoformat(timespec='seconds')}"]
        if self.basis == "hours":
            lines.append(
                f"{self.amount} hour(s), counted continuously (hour clocks ignore the calendar)"
            )
            return lines
        unit = "working day(s)" if self.basis == "working_days" else "calendar day(s)"
        lines.append(f"{self.amount} {unit}; the start day {start_local.date()} is not counted")
        lines.append(f"calendar: {self.calendar_origin}")
        lines.extend(n.line() for n in self.notes)
        if self.moved:
            lines.append(
                "the last calendar day was not a working day: "
                "calendar end moved to next working day"
            )
        lines.append(f"due at 23:59:59 of {self.due_at.date().isoformat()} (Asia/Shanghai)")
        if self.provisional:
            years = ", ".join(str(y) for y in self.unknown_years)
            lines.append(
                f"PROVISIONAL: the holidays of {years} are not known yet; ordinary weekends "
                "were assumed, and the deadline is recomputed when the year is loaded"
            )
        return lines


def end_of(day: date) -> datetime:
    """23:59:59 of ``day`` in Asia/Shanghai."""
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


def due(
    start: datetime,
    *,
    days: int | None = None,
    hours: int | None = None,
    working_days: bool = False,
    calendar: WorkCalendar,
) -> Due:
    """When a clock started at ``start`` of ``days`` (calendar or working) or ``hours`` is due.

    Exactly one of ``days`` and ``hours`` is given; ``start`` must carry its offset.
    """
    if (days is None) == (hours is None):
        raise ValueError("give exactly one of days and hours")
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if hours is not None:
        if hours < 0:
            raise ValueError("hours must not be negative")
        return Due(
            start=start,
            due_at=(start + timedelta(hours=hours)).astimezone(SHANGHAI),
            basis="hours",
            amount=hours,
            provisional=False,
            notes=(),
            moved=False,
            unknown_years=(),
            calendar_origin=calendar.origin,
        )
    assert days is not None
    if not 0 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 0 and {MAX_DAYS}")
    first = start.astimezone(SHANGHAI).date()
    if working_days:
        notes, last, moved = _count_working(first, days, calendar)
    else:
        notes, last, moved = _count_calendar(first, days, calendar)
    unknown = sorted({n.day.year for n in notes if not n.known})
    return Due(
        start=start,
        due_at=end_of(last),
        basis="working_days" if working_days else "calendar_days",
        amount=days,
        provisional=bool(unknown),
        notes=tuple(notes),
        moved=moved,
        unknown_years=tuple(unknown),
        calendar_origin=calendar.origin,
    )


def _count_working(first: date, days: int, cal: WorkCalendar) -> tuple[list[DayNote], date, bool]:
    notes: list[DayNote] = []
    counted = 0
    day = first
    while counted < days:
        day += timedelta(days=1)
        if len(notes) > MAX_DAYS * 3:
            raise ValueError("no working days found: check the holiday overrides")
        info = cal.info(day)
        if info.workday:
            counted += 1
            notes.append(DayNote(day, True, counted, info.reason, info.known))
        else:
            notes.append(DayNote(day, False, None, info.reason, info.known))
    return notes, day, False


def _count_calendar(first: date, days: int, cal: WorkCalendar) -> tuple[list[DayNote], date, bool]:
    # Every day counts; only the last day decides anything (whether it is a working day).
    # The days before it are annotated when their year is known, for the reader only.
    notes: list[DayNote] = []
    for i in range(1, days):
        day = first + timedelta(days=i)
        reason = "calendar day"
        if cal.is_known_year(day.year):
            info = cal.info(day)
            if not info.workday:
                reason = f"calendar day ({info.reason}, counted all the same)"
        notes.append(DayNote(day, True, i, reason, True))
    last = first + timedelta(days=days)
    if days == 0:
        return notes, last, False
    info = cal.info(last)
    if info.workday:
        notes.append(DayNote(last, True, days, f"last day, {info.reason}", info.known))
        return notes, last, False
    notes.append(DayNote(last, True, days, f"last day, but {info.reason}", info.known))
    day = last
    while True:
        day += timedelta(days=1)
        if (day - last).days > MAX_DAYS:
            raise ValueError("no working day found: check the holiday overrides")
        info = cal.info(day)
        if info.workday:
            notes.append(
                DayNote(
                    day,
                    True,
                    None,
                    f"calendar end moved to next working day ({info.reason})",
                    info.known,
                )
            )
            return notes, day, True
        notes.append(DayNote(day, False, None, info.reason, info.known))
