"""Request and response models of the deadline and holiday API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.casework.deadline.engine import DayNote, Due
from services.casework.deadline.holidays import Loaded, YearListing


class HolidayDayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: date
    kind: Literal["holiday", "workday"]
    name: str = Field(min_length=1, max_length=40)


class HolidayYearIn(BaseModel):
    """A year's holidays and make-up working days as the State Council notice lists them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source": "国办发明电〔2098〕1号",
                    "days": [
                        {"day": "2099-01-01", "kind": "holiday", "name": "元旦"},
                        {"day": "2099-01-04", "kind": "workday", "name": "元旦调休"},
                    ],
                }
            ]
        },
    )

    source: str = Field(
        min_length=1, max_length=200, description="the notice, e.g. 国办发明电〔2026〕N号"
    )
    days: list[HolidayDayIn] = Field(max_length=366)


class HolidayDayOut(BaseModel):
    day: date
    kind: str
    name: str
    entered_at: datetime
    entered_by: str


class HolidayYearOut(BaseModel):
    year: int
    known: bool = Field(description="the library knows the year or it was loaded in full")
    library_knows: bool
    loaded_at: datetime | None
    loaded_by: str | None
    source: str | None
    days: list[HolidayDayOut]
    recomputed: int | None = Field(
        default=None, description="clocks recounted by this load (PUT only)"
    )

    @classmethod
    def of(cls, listing: YearListing, loaded: Loaded | None = None) -> HolidayYearOut:
        return cls(
            year=listing.year,
            known=listing.known,
            library_knows=listing.library_knows,
            loaded_at=listing.loaded_at,
            loaded_by=listing.loaded_by,
            source=listing.source,
            days=[HolidayDayOut(**d.__dict__) for d in listing.days],
            recomputed=None if loaded is None else loaded.recomputed,
        )


class DayNoteOut(BaseModel):
    day: date
    ordinal: int | None
    reason: str
    known: bool

    @classmethod
    def of(cls, n: DayNote) -> DayNoteOut:
        return cls(day=n.day, ordinal=n.ordinal, reason=n.reason, known=n.known)


class DeadlineOut(BaseModel):
    """When a clock is due, with the days counted and skipped."""

    start: datetime
    due_at: datetime
    basis: Literal["calendar_days", "working_days", "hours"]
    amount: int
    provisional: bool
    unknown_years: list[int]
    moved: bool = Field(description="a calendar-day end moved to the next working day")
    calendar: str
    counted: list[DayNoteOut]
    skipped: list[DayNoteOut]
    explanation: list[str]

    @classmethod
    def of(cls, d: Due) -> DeadlineOut:
        return cls(
            start=d.start,
            due_at=d.due_at,
            basis=d.basis,
            amount=d.amount,
            provisional=d.provisional,
            unknown_years=list(d.unknown_years),
            moved=d.moved,
            calendar=d.calendar_origin,
            counted=[DayNoteOut.of(n) for n in d.counted],
            skipped=[DayNoteOut.of(n) for n in d.skipped],
            explanation=d.explain(),
        )
