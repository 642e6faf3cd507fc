"""``minsheng analytics hotspots`` and ``minsheng analytics repeats``: the text analytics from
the command line.

Each reads the analytics read model (``analytics.case_text``) by default, or a partner file
with ``--csv PATH --mapping teddy2020`` (tests, and a fresh clone without a database). The
``add_hotspots`` / ``add_repeats`` functions take the ``analytics`` group's sub-parsers and
are listed in ``minsheng.analytics_cli.COMMANDS``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.analytics.text.records import Petition

SHANGHAI_HINT = "dates are local days (Asia/Shanghai); --to is inclusive"


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from None


def _bounds(args: argparse.Namespace) -> tuple[datetime | None, datetime | None]:
    from datetime import timedelta

    from shared.clock import SHANGHAI

    start = datetime.combine(args.date_from, time(), SHANGHAI) if args.date_from else None
    end = (
        datetime.combine(args.date_to + timedelta(days=1), time(), SHANGHAI)
        if args.date_to
        else None
    )
    return start, end


def load(args: argparse.Namespace, start: datetime | None, end: datetime | None) -> list[Petition]:
    """Petitions from ``--csv`` or from the read model."""
    from services.analytics.text.records import between, read_csv

    if args.csv:
        return list(between(read_csv(args.csv, mapping=args.mapping), start, end))
    return asyncio.run(_from_read_model(start, end))


async def _from_read_model(start: datetime | None, end: datetime | None) -> list[Petition]:
    from sqlalchemy import select

    from services.analytics.models import case_text
    from services.analytics.text.records import Petition
    from shared.db import Database
    from shared.settings import get_settings

    query = select(case_text)
    if start is not None:
        query = query.where(case_text.c.received_at >= start)
    if end is not None:
        query = query.where(case_text.c.received_at < end)
    db = Database(get_settings())
    try:
        async with db.transaction("analytics") as conn:
            rows = (await conn.execute(query)).mappings().all()
    finally:
        await db.dispose()
    return [
        Petition(
            case_id=r["case_id"],
            title=r["title"] or "",
            content=r["content"] or "",
            person_keys=tuple(r["person_keys"] or ()),
            region_code=r["region_code"],
            category_code=r["category_code"],
            source=r["source"],
            people_count=r["people_count"] or 1,
            received_at=r["received_at"],
            likes=r["public_attention"],
        )
        for r in rows
    ]


def _source_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="date_from", type=_day, help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", type=_day, help="last day, inclusive")
    p.add_argument("--csv", help="read this file instead of the read model")
    p.add_argument("--mapping", default="teddy2020", help="how --csv rows map (teddy2020)")
    p.add_argument("--json", action="store_true", help="JSON instead of a table")


# --- hotspots -------------------------------------------------------------------------------


def cmd_hotspots(args: argparse.Namespace) -> int:
    from services.analytics.text.hotspots import hotspots

    start, end = _bounds(args)
    records = load(args, start, end)
    found = hotspots(records, start, end, args.top)
    if args.json:
        json.dump(
            {
                "from": args.date_from.isoformat() if args.date_from else None,
                "to": args.date_to.isoformat() if args.date_to else None,
                "petitions": len(records),
                "hotspots": [h.as_dict() for h in found],
            },
            sys.stdout,
            ensure_ascii=False,
            indent=2,
        )
        print()
        return 0
    print(f"{len(records):,} petitions; top {len(found)} hotspots")
    for h in found:
        span = f"{h.first_at:%Y-%m-%d}…{h.last_at:%Y-%m-%d}" if h.first_at and h.last_at else "—"
        print(
            f"{h.rank:>2}. {h.name}  score {h.score:.2f}  {h.size} petitions, {h.people} people, "
            f"{h.likes} likes, growth ×{h.growth:.2f}, {span}"
        )
        print(f"    terms: {' '.join(h.key_terms)}")
        for title in h.titles:
            print(f"    · {title}")
    return 0


def add_hotspots(asub: Any) -> None:
    p = asub.add_parser(
        "hotspots",
        help="clusters by topic × place × time, ranked by size, growth and likes",
        description=SHANGHAI_HINT,
    )
    _source_arguments(p)
    p.add_argument("--top", type=int, default=10)
    p.set_defaults(func=cmd_hotspots)


# --- repeats --------------------------------------------------------------------------------


def cmd_repeats(args: argparse.Namespace) -> int:
    from services.analytics.text.repeats import links_for

    start, end = _bounds(args)
    records = load(args, start, end)
    rows: list[dict[str, Any]] = []
    for petition, check in links_for(records):
        if check.repeats or args.all:
            rows.append(
                {
                    "case_id": petition.case_id,
                    "title": petition.title,
                    "first": check.is_first,
                    "repeats": [
                        {"case_id": x.case_id, "similarity": x.similarity, "reasons": x.reasons}
                        for x in check.repeats
                    ],
                    "same_matter": [
                        {"case_id": x.case_id, "similarity": x.similarity}
                        for x in check.same_matter
                    ],
                }
            )
    if args.json:
        result = {"petitions": len(records), "with_repeats": rows}
        json.dump(result, sys.stdout, ensure_ascii=False)
        print()
        return 0
    linked = sum(1 for r in rows if r["repeats"])
    print(f"{len(records):,} petitions; {linked:,} repeat an earlier one (同人 + 同事)")
    for r in rows[: args.limit]:
        links = ", ".join(f"{x['case_id']} ({x['similarity']:.2f})" for x in r["repeats"])
        print(f"{r['case_id']}  {r['title'][:40]}  → {links or '初信初访'}")
    return 0


def add_repeats(asub: Any) -> None:
    p = asub.add_parser(
        "repeats",
        help="repeat petitions (same person + same matter) and first petitions",
        description=SHANGHAI_HINT,
    )
    _source_arguments(p)
    p.add_argument("--all", action="store_true", help="list first petitions too")
    p.add_argument("--limit", type=int, default=50, help="rows printed (not with --json)")
    p.set_defaults(func=cmd_repeats)


def register(asub: Any) -> None:
    """Both commands, for a group that does not list them itself."""
    add_hotspots(asub)
    add_repeats(asub)
