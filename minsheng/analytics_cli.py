"""``minsheng analytics …``: the analytics service's commands.

``add_parser`` makes the ``analytics`` group; each command is one ``_add_<name>`` function
registered in ``COMMANDS`` (add yours there: it gets the group's sub-parsers)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

from shared.settings import get_settings


def cmd_rebuild(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from services.analytics.metric.rebuild import count_events, rebuild
    from shared.db import Database

    async def run() -> int:
        db = Database(get_settings())
        try:
            total = await count_events(db)
            with tqdm(total=total, unit="ev", desc="analytics rebuild", disable=args.quiet) as bar:
                result = await rebuild(db, page=args.page, progress=bar.update)
        finally:
            await db.dispose()
        print(
            f"rebuilt from {result.events:,} events ({result.caught_up:,} caught up at the "
            f"swap) in {result.seconds:.1f} s: {result.rate:,.0f} events/s"
        )
        return 0

    return asyncio.run(run())


def _add_rebuild(asub: Any) -> None:
    r = asub.add_parser(
        "rebuild",
        help="rebuild the read model (facts, texts, rollups) from the event history",
    )
    r.add_argument("--page", type=int, default=2000, help="events per batch")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_rebuild)


def cmd_screen(args: argparse.Namespace) -> int:
    from services.analytics.screening.service import sweep
    from shared.clock import SHANGHAI, system_clock
    from shared.db import Database

    async def run() -> int:
        db = Database(get_settings())
        now = system_clock.now()
        as_of = args.as_of or now.astimezone(SHANGHAI).date()
        try:
            async with db.transaction("analytics") as conn:
                result = await sweep(conn, as_of=as_of, now=now)
        finally:
            await db.dispose()
        if result is None:
            print("another sweep is running; nothing done")
            return 1
        print(
            f"screened {result.assessed:,} open cases on {as_of}: {result.items:,} ledger items "
            f"({result.new_items:,} new, {result.cleared:,} cleared)"
        )
        return 0

    return asyncio.run(run())


def _add_screen(asub: Any) -> None:
    from datetime import date

    s = asub.add_parser(
        "screen",
        help="screening sweep now: risk levels of open cases, the ledger (排查台账)",
    )
    s.add_argument("--as-of", type=date.fromisoformat, help="the sweep's day (default today)")
    s.set_defaults(func=cmd_screen)


REPORTS = ("daily", "weekly", "monthly")
TABLES = ("statistics", "screening-ledger", "screening-summary", "resolution-summary")


def cmd_report(args: argparse.Namespace) -> int:
    """A report (HTML or PDF) or a statistics table (.xlsx) of one region, written to a file."""
    from datetime import timedelta

    from services.analytics.metric.service import Scope
    from services.analytics.report import document, render, xlsx
    from shared.db import Database
    from shared.identity.scope import region_prefix

    prefix = region_prefix(args.region)
    if prefix is None:
        print(f"not a region code: {args.region}")
        return 2
    scope = Scope((prefix,), args.discipline)
    settings = get_settings()
    today = date.today()
    if args.kind in REPORTS and args.format == "xlsx":
        print("reports are html or pdf; the tables are xlsx")
        return 2
    if args.kind in TABLES and args.format not in (None, "xlsx"):
        print("the statistics tables are xlsx")
        return 2

    async def run() -> bytes:
        db = Database(settings)
        try:
            async with db.transaction("analytics") as conn:
                if args.kind in REPORTS:
                    doc = await render.build(
                        conn,
                        args.kind,
                        scope,
                        settings,
                        args.date or render.default_date(args.kind, today),
                    )
                    if (args.format or "pdf") == "html":
                        return document.html(doc).encode()
                    return await asyncio.to_thread(document.pdf_bytes, doc)
                end = args.end or today - timedelta(days=1)
                start = args.start or end.replace(day=1)
                if args.kind == "statistics":
                    return await xlsx.statistics_table(conn, scope, settings, start, end)
                if args.kind == "screening-ledger":
                    return await xlsx.screening_table(conn, scope, start, end)
                if args.kind == "screening-summary":
                    return await xlsx.screening_summary(conn, scope, start, end)
                return await xlsx.resolution_summary(conn, scope, settings, start, end)
        finally:
            await db.dispose()

    body = asyncio.run(run())
    args.output.write_bytes(body)
    print(f"{args.kind} ({args.region}) → {args.output} ({len(body):,} bytes)")
    return 0


def _add_report(asub: Any) -> None:
    from pathlib import Path

    r = asub.add_parser(
        "report",
        help="日快报 / 周预警 / 月研判 as HTML or PDF, or a statistics table as .xlsx, to a file",
    )
    r.add_argument("kind", choices=(*REPORTS, *TABLES))
    r.add_argument(
        "--date",
        type=date.fromisoformat,
        help="daily: the day ending 12:00 (default today); weekly: the last day (default "
        "yesterday); monthly: any day of the month (default last month)",
    )
    r.add_argument("--start", type=date.fromisoformat, help="tables: first day")
    r.add_argument("--end", type=date.fromisoformat, help="tables: last day (default yesterday)")
    r.add_argument("--region", default="440300", help="region code (default 440300, the city)")
    r.add_argument(
        "--discipline", action="store_true", help="accusations in lists and breakdowns too"
    )
    r.add_argument("--format", choices=("html", "pdf", "xlsx"), help="default pdf (tables: xlsx)")
    r.add_argument("--output", type=Path, required=True)
    r.set_defaults(func=cmd_report)


from minsheng.analytics_routing_cli import add_route, add_train_router  # noqa: E402
from minsheng.analytics_text_cli import add_hotspots, add_repeats  # noqa: E402

COMMANDS: list[Callable[[Any], None]] = [
    _add_rebuild,
    _add_screen,
    _add_report,
    add_hotspots,
    add_repeats,
    add_train_router,
    add_route,
]


def add_parser(sub: Any) -> None:
    a = sub.add_parser("analytics", help="analytics: read model, metrics, reports")
    asub = a.add_subparsers(dest="analytics_command", required=True)
    for add in COMMANDS:
        add(asub)
