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


from minsheng.analytics_routing_cli import add_route, add_train_router  # noqa: E402
from minsheng.analytics_text_cli import add_hotspots, add_repeats  # noqa: E402

COMMANDS: list[Callable[[Any], None]] = [
    _add_rebuild,
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
