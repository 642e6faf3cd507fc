"""``minsheng analytics …``: the analytics service's commands.

``add_parser`` makes the ``analytics`` group; each command is one ``_add_<name>`` function
registered in ``COMMANDS`` (add yours there: it gets the group's sub-parsers)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
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


from minsheng.analytics_routing_cli import add_route, add_train_router  # noqa: E402
from minsheng.analytics_text_cli import add_hotspots, add_repeats  # noqa: E402

COMMANDS: list[Callable[[Any], None]] = [
    _add_rebuild,
    _add_screen,
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
