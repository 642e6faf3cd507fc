"""When the analytics worker stores the scheduled reports (Asia/Shanghai wall time), read from
the environment like every setting (prefix ``MINSHENG_ANALYTICS_``):

* ``MINSHENG_ANALYTICS_DAILY_REPORT_AT`` — the 日快报 of each district, every day (``12:05``:
  the report covers 12:00 the day before to 12:00);
* ``MINSHENG_ANALYTICS_WEEKLY_REPORT_WEEKDAY`` / ``…_WEEKLY_REPORT_AT`` — the 周预警 of the
  seven days to the day before (``mon`` at ``08:00``: Monday to Sunday of the last week);
* ``MINSHENG_ANALYTICS_MONTHLY_REPORT_DAY`` / ``…_MONTHLY_REPORT_AT`` — the 月研判 of the
  previous calendar month (day ``1`` at ``08:00``).

Kept here, next to the worker that reads them, rather than in ``shared/settings.py``: only the
worker's cron table needs them, and it reads them once at start."""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache

from arq.typing import WEEKDAYS  # mon, tues, wed, thurs, fri, sat, sun
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ReportSchedule(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MINSHENG_ANALYTICS_", extra="ignore")

    daily_report_at: str = "12:05"
    weekly_report_weekday: str = "mon"
    weekly_report_at: str = "08:00"
    # at most 28: every month has the day
    monthly_report_day: int = Field(default=1, ge=1, le=28)
    monthly_report_at: str = "08:00"

    @field_validator("daily_report_at", "weekly_report_at", "monthly_report_at")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v.strip()):
            raise ValueError('a wall time "HH:MM" (Asia/Shanghai)')
        return v.strip()

    @field_validator("weekly_report_weekday")
    @classmethod
    def _weekday(cls, v: str) -> str:
        v = v.strip().lower()
        if v not in WEEKDAYS:
            raise ValueError(f"one of {', '.join(WEEKDAYS)}")
        return v


def hour_minute(hhmm: str) -> tuple[int, int]:
    h, m = hhmm.split(":")
    return int(h), int(m)


@lru_cache
def report_schedule() -> ReportSchedule:
    return ReportSchedule()


def weekly_report_day(today: date) -> date:
    """The last day of the 周预警 stored on ``today``: the day before (so a Monday run covers
    Monday to Sunday of the previous week)."""
    return today - timedelta(days=1)


def monthly_report_day(today: date) -> date:
    """A day of the month whose 月研判 is stored on ``today``: the previous calendar month (its
    last day)."""
    return today.replace(day=1) - timedelta(days=1)
