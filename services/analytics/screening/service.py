"""The screening sweep and the ledger's reads.

A sweep (arq cron, hourly; ``minsheng analytics screen`` on demand) assesses every open case
with ``text.screening.assess``: the same-matter groups among the open cases (brewing collective
petitions) and the case's earlier repeats as stored by repeat detection (the whole history,
not only the open cases). It then, in one transaction under an advisory lock:

* upserts ``case_risk`` (level, score, reasons) and drops the rows of cases no longer open;
* upserts one ``screening_item`` per case at yellow or above: a new item is found today and due
  by its level; an existing one keeps its ``found_on`` (the due date follows a changed level);
  items of cases no longer at risk are marked ``cleared``.

Nothing is written to the ledger when nothing changed, so a second sweep on the same day leaves
it as it was; each sweep notes its day in ``screening_run`` (first and last run, count), and a
zero report (零报告) is given only for a period with a sweep on at least one of its days
(:func:`zero_report_rows` raises :class:`NotScreened` otherwise).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics import casetext
from services.analytics.text.records import Petition
from services.analytics.text.screening import (
    Assessment,
    Context,
    LedgerItem,
    ZeroReport,
    assess,
    default_calendar,
    ledger,
    matter_groups,
    zero_reports,
)

LOCK = 0x5C2EE9  # one sweep at a time


@dataclass(frozen=True)
class SweepResult:
    assessed: int
    items: int  # open ledger items after the sweep
    new_items: int
    cleared: int


def assess_all(
    petitions: Sequence[Petition], earlier: dict[str, int], as_of: date
) -> list[Assessment]:
    groups = matter_groups(petitions)
    people = {case_id: g.people for g in groups for case_id in g.case_ids}
    calendar = default_calendar({as_of.year, as_of.year + 1})
    return [
        assess(
            p,
            Context(
                as_of=as_of,
                calendar=calendar,
                brewing_people=people.get(p.case_id, 1),
                earlier_repeats=earlier.get(p.case_id, 0),
            ),
        )
        for p in petitions
    ]


async def sweep(db: AsyncConnection, *, as_of: date, now: datetime) -> SweepResult | None:
    """One sweep; ``None`` when another is running."""
    if not await db.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK}):
        return None
    loaded = await casetext.load(db, open_only=True)
    petitions = [p for p, _ in loaded]
    rows = {p.case_id: r for p, r in loaded}
    earlier = {p.case_id: int(r.earlier_repeats) for p, r in loaded}
    assessments = await asyncio.to_thread(assess_all, petitions, earlier, as_of)
    items = ledger(assessments, petitions, found_on=as_of)
    ids = [a.case_id for a in assessments]
    await db.execute(
        text(
            "INSERT INTO analytics.case_risk AS x (case_id, level, score, reasons, region_code, "
            "accusation, assessed_on) SELECT * FROM unnest(CAST(:ids AS text[]), "
            "CAST(:lv AS text[]), CAST(:sc AS int[]), CAST(:rs AS jsonb[]), "
            "CAST(:rg AS text[]), CAST(:acc AS boolean[]), CAST(:on AS date[])) "
            "ON CONFLICT (case_id) DO UPDATE SET level = EXCLUDED.level, score = EXCLUDED.score, "
            "reasons = EXCLUDED.reasons, region_code = EXCLUDED.region_code, "
            "accusation = EXCLUDED.accusation, assessed_on = EXCLUDED.assessed_on "
            "WHERE (x.level, x.score, x.reasons, x.region_code, x.accusation) IS DISTINCT FROM "
            "(EXCLUDED.level, EXCLUDED.score, EXCLUDED.reasons, EXCLUDED.region_code, "
            "EXCLUDED.accusation)"
        ),
        {
            "ids": ids,
            "lv": [a.level for a in assessments],
            "sc": [a.score for a in assessments],
            "rs": [
                orjson.dumps(
                    [{"code": r.code, "points": r.points, "detail": r.detail} for r in a.reasons]
                ).decode()
                for a in assessments
            ],
            "rg": [rows[i].region_code for i in ids],
            "acc": [bool(rows[i].accusation) for i in ids],
            "on": [as_of] * len(ids),
        },
    )
    await db.execute(
        text("DELETE FROM analytics.case_risk WHERE NOT (case_id = ANY(CAST(:ids AS text[])))"),
        {"ids": ids},
    )
    new_items = 0
    if items:
        inserted = await db.execute(
            text(
                "INSERT INTO analytics.screening_item AS x (case_id, matter, level, "
                "reasons, owner_unit, region_code, accusation, found_on, due_on, status, "
                "updated_at) SELECT c, m, l, string_to_array(r, chr(31)), o, rg, acc, "
                "CAST(:on AS date), d, 'open', CAST(:now AS timestamptz) "
                "FROM unnest(CAST(:c AS text[]), "
                "CAST(:m AS text[]), CAST(:l AS text[]), CAST(:r AS text[]), "
                "CAST(:o AS text[]), CAST(:rg AS text[]), CAST(:acc AS boolean[]), "
                "CAST(:d AS date[])) AS u(c, m, l, r, o, rg, acc, d) "
                "ON CONFLICT (case_id) DO UPDATE SET matter = EXCLUDED.matter, "
                "level = EXCLUDED.level, reasons = EXCLUDED.reasons, "
                "owner_unit = EXCLUDED.owner_unit, region_code = EXCLUDED.region_code, "
                "accusation = EXCLUDED.accusation, "
                "due_on = x.found_on + (EXCLUDED.due_on - EXCLUDED.found_on), "
                "status = 'open', updated_at = EXCLUDED.updated_at "
                "WHERE (x.matter, x.level, x.reasons, x.owner_unit, x.region_code, "
                "x.accusation, x.status) IS DISTINCT FROM (EXCLUDED.matter, "
                "EXCLUDED.level, EXCLUDED.reasons, EXCLUDED.owner_unit, "
                "EXCLUDED.region_code, EXCLUDED.accusation, 'open') "
                "RETURNING (xmax = 0) AS inserted"
            ),
            {
                "c": [i.case_id for i in items],
                "m": [i.matter for i in items],
                "l": [i.level for i in items],
                "r": [chr(31).join(i.reasons) for i in items],
                "o": [i.owner_unit for i in items],
                "rg": [rows[i.case_id].region_code for i in items],
                "acc": [bool(rows[i.case_id].accusation) for i in items],
                "d": [i.due_on for i in items],
                "on": as_of,
                "now": now,
            },
        )
        new_items = sum(1 for flag in inserted.scalars() if flag)
    cleared = (
        await db.execute(
            text(
                "UPDATE analytics.screening_item SET status = 'cleared', updated_at = :now "
                "WHERE status = 'open' AND NOT (case_id = ANY(CAST(:ids AS text[]))) "
                "RETURNING case_id"
            ),
            {"ids": [i.case_id for i in items], "now": now},
        )
    ).all()
    await db.execute(
        text(
            "INSERT INTO analytics.screening_run AS x (as_of, first_at, last_at, runs, assessed, "
            "items) VALUES (:on, :now, :now, 1, :n, :items) ON CONFLICT (as_of) DO UPDATE SET "
            "first_at = least(x.first_at, EXCLUDED.first_at), "
            "last_at = greatest(x.last_at, EXCLUDED.last_at), runs = x.runs + 1, "
            "assessed = EXCLUDED.assessed, items = EXCLUDED.items"
        ),
        {"on": as_of, "now": now, "n": len(assessments), "items": len(items)},
    )
    return SweepResult(len(assessments), len(items), new_items, len(cleared))


class NotScreened(Exception):
    """No screening sweep has run on any day of the period: nothing can be claimed about its
    risk items, so no zero report (零报告) is given."""

    def __init__(self, start: date, end: date, last_sweep: date | None) -> None:
        super().__init__(f"no screening sweep in {start}..{end}")
        self.start, self.end, self.last_sweep = start, end, last_sweep


@dataclass(frozen=True)
class Coverage:
    """The sweeps that ran in a period: the first and last day, and the last one's time."""

    first_day: date
    last_day: date
    last_at: datetime


async def sweep_coverage(db: AsyncConnection, start: date, end: date) -> Coverage | None:
    """The sweeps run on the days ``[start, end]``; ``None`` when there was none."""
    row = (
        await db.execute(
            text(
                "SELECT min(as_of) AS a, max(as_of) AS b, max(last_at) AS last_at "
                "FROM analytics.screening_run WHERE as_of BETWEEN :s AND :e"
            ),
            {"s": start, "e": end},
        )
    ).one()
    return None if row.a is None else Coverage(row.a, row.b, row.last_at)


async def ledger_rows(
    db: AsyncConnection,
    *,
    prefixes: tuple[str, ...],
    accusations: bool,
    start: date,
    end: date,
    status: str | None,
    level: str | None,
) -> list[dict[str, Any]]:
    """The ledger items found in ``[start, end]`` within the prefixes, most severe first."""
    where = "region_code LIKE ANY(CAST(:prefixes AS text[])) AND found_on BETWEEN :s AND :e"
    params: dict[str, Any] = {"prefixes": [p + "%" for p in prefixes], "s": start, "e": end}
    if not accusations:
        where += " AND NOT accusation"
    if status:
        where += " AND status = :status"
        params["status"] = status
    if level:
        where += " AND level = :level"
        params["level"] = level
    rows = await db.execute(
        text(
            "SELECT case_id, matter, level, reasons, owner_unit, region_code, found_on, due_on, "  # noqa: S608 - fixed fragments
            f"status FROM analytics.screening_item WHERE {where} "
            "ORDER BY array_position(ARRAY['red','orange','yellow','blue'], level), due_on, "
            "case_id"
        ),
        params,
    )
    return [dict(r._mapping) for r in rows]


async def zero_report_rows(
    db: AsyncConnection, *, prefixes: tuple[str, ...], accusations: bool, start: date, end: date
) -> list[ZeroReport]:
    """零报告: each unit handling cases in the jurisdiction (lead unit or petition office) with
    no ledger item found in the period. Raises :class:`NotScreened` when no sweep ran on any
    day of the period: "no risk item" would then only mean "not screened yet"."""
    if await sweep_coverage(db, start, end) is None:
        last = await db.scalar(text("SELECT max(as_of) FROM analytics.screening_run"))
        raise NotScreened(start, end, last)
    acc = "" if accusations else " AND NOT accusation"
    like = "region_code LIKE ANY(CAST(:prefixes AS text[]))"
    params = {"prefixes": [p + "%" for p in prefixes], "s": start, "e": end}
    units = (
        await db.execute(
            text(
                "SELECT DISTINCT u FROM analytics.case_fact, "  # noqa: S608 - fixed fragments
                "unnest(ARRAY[unit_id, office_unit_id]) AS u "
                f"WHERE u IS NOT NULL AND {like}{acc}"
            ),
            params,
        )
    ).scalars()
    found = (
        await db.execute(
            text(
                "SELECT case_id, owner_unit, found_on FROM analytics.screening_item "  # noqa: S608 - fixed fragments
                f"WHERE found_on BETWEEN :s AND :e AND {like}{acc}"
            ),
            params,
        )
    ).all()
    items = [
        LedgerItem(r.case_id, "", "yellow", (), r.owner_unit, r.found_on, r.found_on) for r in found
    ]
    return zero_reports(list(units), items, period_start=start, period_end=end)
