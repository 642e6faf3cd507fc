"""The holiday override table (``casework.holiday``, ``casework.holiday_year``): an
administrator enters a year's holidays and make-up working days (调休) from the State
Council notice, for a year the chinesecalendar package does not know yet, or to correct it.

Loading a year replaces that year's rows, marks the year loaded (known in full, with the
notice as its source) and recounts the running clocks it touches (``clocks.recompute_year``),
so provisional deadlines become final, each with a recorded ``recompute`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.deadline import clocks
from services.casework.deadline.calendar import DayKind, library_knows
from shared.api.errors import ApiError, ErrorItem, bilingual
from shared.clock import Clock, system_clock

KINDS: tuple[DayKind, ...] = ("holiday", "workday")
MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass(frozen=True)
class HolidayDay:
    day: date
    kind: DayKind
    name: str


@dataclass(frozen=True)
class StoredDay:
    day: date
    kind: DayKind
    name: str
    entered_at: datetime
    entered_by: str


@dataclass(frozen=True)
class YearListing:
    year: int
    library_knows: bool
    loaded_at: datetime | None
    loaded_by: str | None
    source: str | None
    days: list[StoredDay]

    @property
    def known(self) -> bool:
        return self.library_knows or self.loaded_at is not None


@dataclass(frozen=True)
class Loaded:
    year: int
    days: int
    recomputed: int  # clocks whose due time or provisional flag changed


def check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ApiError(
            422, "invalid_year", f"年份须在{MIN_YEAR}至{MAX_YEAR}之间",
            f"the year must be between {MIN_YEAR} and {MAX_YEAR}", "year",
        )  # fmt: skip


def _validate(year: int, days: Sequence[HolidayDay], source: str) -> None:
    check_year(year)
    items: list[ErrorItem] = []
    if not source.strip():
        items.append(
            ErrorItem(
                "source", "source_required", bilingual("须注明依据（通知文号）", "name the notice")
            )
        )
    seen: set[date] = set()
    for i, d in enumerate(days):
        where = f"days[{i}]"
        if d.day.year != year:
            items.append(
                ErrorItem(
                    f"{where}.day",
                    "day_outside_year",
                    bilingual(f"日期不在{year}年内", f"the date is not in {year}"),
                )
            )
        if d.kind not in KINDS:
            items.append(
                ErrorItem(
                    f"{where}.kind",
                    "invalid_choice",
                    bilingual("类型须为 holiday 或 workday", "kind is holiday or workday"),
                )
            )
        if not d.name.strip():
            items.append(ErrorItem(f"{where}.name", "required", bilingual("须填写名称", "name it")))
        if d.day in seen:
            items.append(
                ErrorItem(f"{where}.day", "duplicate_day", bilingual("日期重复", "date repeated"))
            )
        seen.add(d.day)
    if items:
        raise ApiError.of(422, items)


async def load_year(
    db: AsyncConnection,
    *,
    year: int,
    days: Sequence[HolidayDay],
    source: str,
    actor: str,
    clock: Clock = system_clock,
) -> Loaded:
    """Replace ``year``'s override rows with ``days``, mark the year loaded from ``source``
    (e.g. 国办发明电〔2026〕N号) and recount the running clocks it touches. 422 with one item
    per bad day (``day_outside_year``, ``duplicate_day``, ``invalid_choice``, ``required``),
    ``source_required``, ``invalid_year``."""
    _validate(year, days, source)
    now = clock.now()
    # one year at a time: concurrent loads of the same year queue here
    await db.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('casework.holiday'), :y)"), {"y": year}
    )
    await db.execute(
        text("DELETE FROM casework.holiday WHERE day >= :a AND day < :b"),
        {"a": date(year, 1, 1), "b": date(year + 1, 1, 1)},
    )
    if days:
        await db.execute(
            text(
                "INSERT INTO casework.holiday (day, kind, name, entered_at, entered_by) "
                "SELECT d, k, n, :at, :by FROM unnest(CAST(:days AS date[]), "
                "CAST(:kinds AS text[]), CAST(:names AS text[])) AS t(d, k, n)"
            ),
            {
                "days": [d.day for d in days],
                "kinds": [d.kind for d in days],
                "names": [d.name.strip() for d in days],
                "at": now,
                "by": actor,
            },
        )
    await db.execute(
        text(
            "INSERT INTO casework.holiday_year (year, loaded_at, loaded_by, source) "
            "VALUES (:y, :at, :by, :src) ON CONFLICT (year) DO UPDATE SET "
            "loaded_at = EXCLUDED.loaded_at, loaded_by = EXCLUDED.loaded_by, "
            "source = EXCLUDED.source"
        ),
        {"y": year, "at": now, "by": actor, "src": source.strip()},
    )
    clocks.forget(db)
    changed = await clocks.recompute_year(db, year, clock=clock, actor=actor, note=source.strip())
    return Loaded(year=year, days=len(days), recomputed=changed)


async def list_year(db: AsyncConnection, year: int) -> YearListing:
    """``year``'s override rows, whether it was loaded (and from what), and whether the
    library knows it."""
    check_year(year)
    rows = (
        await db.execute(
            text(
                "SELECT day, kind, name, entered_at, entered_by FROM casework.holiday "
                "WHERE day >= :a AND day < :b ORDER BY day"
            ),
            {"a": date(year, 1, 1), "b": date(year + 1, 1, 1)},
        )
    ).all()
    loaded = (
        await db.execute(
            text("SELECT loaded_at, loaded_by, source FROM casework.holiday_year WHERE year = :y"),
            {"y": year},
        )
    ).one_or_none()
    return YearListing(
        year=year,
        library_knows=library_knows(year),
        loaded_at=loaded.loaded_at if loaded else None,
        loaded_by=loaded.loaded_by if loaded else None,
        source=loaded.source if loaded else None,
        days=[StoredDay(**r._mapping) for r in rows],
    )


def parse_csv(content: str) -> list[HolidayDay]:
    """Rows ``date,kind,name`` (``2027-02-06,holiday,春节``; kind ``holiday`` / ``workday``,
    or 休 / 班), an optional header row, ``#`` comments. ``ValueError`` names the bad line."""
    import csv
    import io

    out: list[HolidayDay] = []
    aliases = {"holiday": "holiday", "休": "holiday", "workday": "workday", "班": "workday"}
    for n, rec in enumerate(csv.reader(io.StringIO(content)), start=1):
        cells = [c.strip() for c in rec]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if n == 1 and cells[0].lower() in ("date", "day", "日期"):
            continue
        if len(cells) < 3:
            raise ValueError(f"line {n}: expected date,kind,name")
        try:
            day = date.fromisoformat(cells[0])
        except ValueError:
            raise ValueError(f"line {n}: {cells[0]!r} is not a date (YYYY-MM-DD)") from None
        kind = aliases.get(cells[1].lower())
        if kind is None:
            raise ValueError(f"line {n}: kind must be holiday or workday, not {cells[1]!r}")
        out.append(HolidayDay(day, "holiday" if kind == "holiday" else "workday", cells[2]))
    return out
