"""The report crons: times from the environment (MINSHENG_ANALYTICS_*), the periods each
scheduled run covers, and when arq fires them (Asia/Shanghai wall time)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from arq.cron import next_cron
from pydantic import ValidationError

from services.analytics import schedule, worker
from services.analytics.report import render


def _fire(job: object, after: datetime) -> datetime:
    return next_cron(
        after,
        month=getattr(job, "month"),
        day=getattr(job, "day"),
        weekday=getattr(job, "weekday"),
        hour=getattr(job, "hour"),
        minute=getattr(job, "minute"),
        second=0,
        microsecond=0,
    )


def test_default_crons_fire_daily_weekly_and_monthly() -> None:
    schedule.report_schedule.cache_clear()
    jobs = {j.name: j for j in worker.report_crons()}
    daily, weekly, monthly = (
        jobs["cron:daily_reports"],
        jobs["cron:weekly_reports"],
        jobs["cron:monthly_reports"],
    )
    after = datetime(2025, 3, 5, 9, 30)  # a Wednesday, Shanghai wall time
    assert _fire(daily, after) == datetime(2025, 3, 5, 12, 5)
    assert _fire(weekly, after) == datetime(2025, 3, 10, 8, 0)  # the next Monday
    assert _fire(monthly, after) == datetime(2025, 4, 1, 8, 0)
    assert all(j.unique and not j.run_at_startup for j in jobs.values())
    assert worker.worker_settings().timezone == worker.CRON_TIMEZONE


def test_times_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINSHENG_ANALYTICS_DAILY_REPORT_AT", "12:30")
    monkeypatch.setenv("MINSHENG_ANALYTICS_WEEKLY_REPORT_WEEKDAY", "Fri")
    monkeypatch.setenv("MINSHENG_ANALYTICS_WEEKLY_REPORT_AT", "17:45")
    monkeypatch.setenv("MINSHENG_ANALYTICS_MONTHLY_REPORT_DAY", "3")
    monkeypatch.setenv("MINSHENG_ANALYTICS_MONTHLY_REPORT_AT", "09:15")
    schedule.report_schedule.cache_clear()
    try:
        jobs = {j.name: j for j in worker.report_crons()}
        after = datetime(2025, 3, 5, 9, 30)
        assert _fire(jobs["cron:daily_reports"], after) == datetime(2025, 3, 5, 12, 30)
        assert _fire(jobs["cron:weekly_reports"], after) == datetime(2025, 3, 7, 17, 45)
        assert _fire(jobs["cron:monthly_reports"], after) == datetime(2025, 4, 3, 9, 15)
    finally:
        schedule.report_schedule.cache_clear()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DAILY_REPORT_AT", "25:00"),
        ("WEEKLY_REPORT_AT", "8h"),
        ("WEEKLY_REPORT_WEEKDAY", "monday"),
        ("MONTHLY_REPORT_DAY", "31"),
    ],
)
def test_bad_times_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"MINSHENG_ANALYTICS_{name}", value)
    with pytest.raises(ValidationError):
        schedule.ReportSchedule()


def test_periods_of_the_scheduled_runs() -> None:
    # a Monday run: the week Monday–Sunday before
    end = schedule.weekly_report_day(date(2025, 3, 10))
    assert render.period_of("weekly", end) == (date(2025, 3, 3), date(2025, 3, 9))
    # the 1st: the previous month, across a year end and a leap February too
    assert render.period_of("monthly", schedule.monthly_report_day(date(2025, 4, 1))) == (
        date(2025, 3, 1),
        date(2025, 3, 31),
    )
    assert render.period_of("monthly", schedule.monthly_report_day(date(2025, 1, 1))) == (
        date(2024, 12, 1),
        date(2024, 12, 31),
    )
    assert render.period_of("monthly", schedule.monthly_report_day(date(2024, 3, 1))) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
    )
