"""The worker's in-memory repeat index and how it stays equal to ``analytics.case_repeat``.

Each process keeps one :class:`~services.analytics.text.repeats.RepeatIndex` (in the bus
context's ``extras``). It is filled from the stored fingerprints on first use (at worker
start) and, before every check, catches up with rows another process wrote since (``seq``
above the highest seen); the process's own new cases are added as it checks them. No
segmentation at start: the rows hold the fingerprints' bytes.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.text.repeats import Fingerprint, RepeatIndex
from shared.bus import BusContext
from shared.logging import get_logger

log = get_logger(__name__)

PAGE = 50_000


class RepeatStore:
    def __init__(self) -> None:
        self.index = RepeatIndex()
        self.seq = 0

    async def catch_up(self, db: AsyncConnection) -> int:
        """Index the fingerprints stored since the last call; returns how many were new."""
        added = 0
        while True:
            rows = (
                await db.execute(
                    text(
                        "SELECT seq, fingerprint FROM analytics.case_repeat WHERE seq > :s "
                        "ORDER BY seq LIMIT :n"
                    ),
                    {"s": self.seq, "n": PAGE},
                )
            ).all()
            if not rows:
                return added
            added += self.index.add_many(Fingerprint.from_bytes(bytes(r[1])) for r in rows)
            self.seq = rows[-1][0]
            if len(rows) < PAGE:
                return added


def store_of(ctx: BusContext) -> RepeatStore:
    store = ctx.extras.get("repeats")
    if not isinstance(store, RepeatStore):
        store = ctx.extras["repeats"] = RepeatStore()
    return store


async def warm_up(ctx: BusContext) -> None:
    """Worker start: build the index from PostgreSQL before the first event."""
    store = store_of(ctx)
    async with ctx.db.transaction("analytics") as db:
        n = await store.catch_up(db)
    log.info("analytics.repeats.index_built", cases=n)
