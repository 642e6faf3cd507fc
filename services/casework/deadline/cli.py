"""The command line of the deadline engine (wired into ``minsheng`` by ``minsheng/cli.py``):

* ``minsheng deadline --start 2025-09-28T10:00:00+08:00 --days 15 [--working-days]`` (or
  ``--hours N``) prints the explanation, then the due time alone on the last line
  (``2025-10-13T23:59:59+08:00``). It reads the holiday overrides from the configured
  database when that answers, else counts on chinesecalendar and weekends, and says which.
* ``minsheng admin holidays load --year 2027 --file days.csv --source "国办发明电〔2026〕N号"``
  and ``minsheng admin holidays list --year 2027``.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from pathlib import Path

from services.casework.deadline import engine, holidays
from services.casework.deadline.calendar import WorkCalendar, load_calendar
from shared.api.errors import ApiError
from shared.db import Database
from shared.settings import Settings

DB_TIMEOUT_SECONDS = 5.0


def add_deadline_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--start", required=True, help="RFC 3339 time with offset")
    amount = p.add_mutually_exclusive_group(required=True)
    amount.add_argument("--days", type=int, help="days (calendar unless --working-days)")
    amount.add_argument("--hours", type=int, help="hours, counted continuously")
    p.add_argument("--working-days", action="store_true", help="count working days only")


def add_holiday_arguments(p: argparse.ArgumentParser) -> None:
    hsub = p.add_subparsers(dest="holidays_command", required=True)
    load = hsub.add_parser("load", help="replace a year's holidays and make-up days from a CSV")
    load.add_argument("--year", type=int, required=True)
    load.add_argument(
        "--file", type=Path, required=True, help="CSV rows date,kind,name (kind holiday|workday)"
    )
    load.add_argument("--source", required=True, help="the notice, e.g. 国办发明电〔2026〕N号")
    load.add_argument("--by", default="cli", help="who entered it (recorded)")
    lst = hsub.add_parser("list", help="a year's override rows")
    lst.add_argument("--year", type=int, required=True)


async def _database_calendar(settings: Settings) -> tuple[WorkCalendar | None, str]:
    """The calendar with the database overrides, or None and why not."""
    try:
        settings.database_url_for("casework")
    except Exception as exc:  # no URL configured
        return None, str(exc).split(":")[0]
    db = Database(settings, pool_size=1)
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS):
            async with db.transaction("casework") as conn:
                return await load_calendar(conn), ""
    except Exception as exc:  # unreachable, not migrated …: fall back, and say so
        return None, f"database not reachable ({type(exc).__name__})"
    finally:
        await db.dispose()


def parse_start(value: str) -> datetime:
    """An RFC 3339 time; the offset is required."""
    try:
        start = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise ValueError(f"--start {value!r} is not an RFC 3339 time") from None
    if start.tzinfo is None:
        raise ValueError(f"--start {value!r} needs an offset (e.g. +08:00)")
    return start


def deadline_main(settings: Settings, args: argparse.Namespace) -> int:
    try:
        start = parse_start(args.start)
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    calendar, why = asyncio.run(_database_calendar(settings))
    if calendar is None:
        calendar = WorkCalendar(
            origin=f"chinesecalendar and ordinary weekends only ({why}; override table not read)"
        )
    try:
        counted = engine.due(
            start,
            days=args.days,
            hours=args.hours,
            working_days=args.working_days,
            calendar=calendar,
        )
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    for line in counted.explain():
        print(line)
    print(counted.due_at.isoformat(timespec="seconds"))
    return 0


async def admin_holidays(settings: Settings, args: argparse.Namespace) -> int:
    """``minsheng admin holidays load|list``."""
    if args.holidays_command == "load":
        try:
            days = holidays.parse_csv(args.file.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            print(f"error: {args.file}: {exc}")
            return 2
    db = Database(settings, pool_size=1)
    try:
        async with db.transaction("casework") as conn:
            if args.holidays_command == "load":
                loaded = await holidays.load_year(
                    conn, year=args.year, days=days, source=args.source, actor=args.by
                )
                print(
                    f"loaded {loaded.days} day(s) of {loaded.year}; "
                    f"{loaded.recomputed} running clock(s) recounted"
                )
            listing = await holidays.list_year(conn, args.year)
    except ApiError as exc:
        for item in exc.items:
            print(f"error: {item.field or ''} {item.code}: {item.message}")
        return 2
    finally:
        await db.dispose()
    state = (
        f"loaded {listing.loaded_at:%Y-%m-%d %H:%M} by {listing.loaded_by} from {listing.source}"
        if listing.loaded_at
        else "not loaded"
    )
    print(
        f"{listing.year}: {state}; chinesecalendar "
        f"{'knows' if listing.library_knows else 'does not know'} it"
    )
    for d in listing.days:
        print(f"{d.day.isoformat()}  {d.kind:<8} {d.name}")
    return 0
