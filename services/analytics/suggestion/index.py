"""The worker's in-memory repeat index and how it stays equal to ``analytics.case_repeat``.

Each process keeps one :class:`~services.analytics.text.repeats.RepeatIndex` (in the bus
context's ``extras``). It is filled from the stored fingerprints on first use (at worker
start) and, before every check, catches up with rows another process wrote since (``seq``
above the highest seen, and the lower numbers it skipped while their transactions were still
open); the process's own new cases are added as it checks them. No
segmentation at start: the rows hold the fingerprints' bytes.
"""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.text.repeats import Fingerprint, RepeatIndex
from shared.bus import BusContext
from shared.logging import get_logger

log = get_logger(__name__)

PAGE = 50_000
# A seq skipped by a catch-up belongs to a transaction not yet committed (or rolled back):
# it is looked for again on every catch-up for this long, then forgotten.
HOLE_SECONDS = 600.0


class RepeatStore:
    def __init__(self) -> None:
        self.index = RepeatIndex()
        self.seq = 0
        # seqs below ``seq`` not seen yet: rows whose transaction took its number before a
        # later one committed, and may still commit (seq -> when first missed)
        self.holes: dict[int, float] = {}

    async def catch_up(self, db: AsyncConnection) -> int:
        """Index the fingerprints stored since the last call, and those that have committed
        since in the holes earlier calls saw; returns how many were new."""
        added = await self._fill_holes(db)
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
            self._note_holes([r[0] for r in rows])
            self.seq = rows[-1][0]
            if len(rows) < PAGE:
                return added

    def _note_holes(self, seqs: list[int]) -> None:
        now = time.monotonic()
        last = self.seq
        for seq in seqs:
            if self.seq and seq > last + 1:  # not at the first load: a gap there is history
                for missing in range(last + 1, min(seq, last + 1 + 1000)):
                    self.holes.setdefault(missing, now)
            last = seq

    async def _fill_holes(self, db: AsyncConnection) -> int:
        if not self.holes:
            return 0
        now = time.monotonic()
        for seq, since in list(self.holes.items()):
            if now - since > HOLE_SECONDS:
                del self.holes[seq]  # rolled back, or a number the identity skipped
        if not self.holes:
            return 0
        rows = (
            await db.execute(
                text(
                    "SELECT seq, fingerprint FROM analytics.case_repeat "
                    "WHERE seq = ANY(CAST(:seqs AS bigint[]))"
                ),
                {"seqs": sorted(self.holes)},
            )
        ).all()
        for r in rows:
            self.holes.pop(r[0], None)
        return self.index.add_many(Fingerprint.from_bytes(bytes(r[1])) for r in rows)


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
