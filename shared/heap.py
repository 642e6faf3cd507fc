"""The garbage collector's pace for long-running processes.

CPython's cyclic collector walks every tracked object in a full (oldest-generation) pass.
A service holds a few hundred thousand long-lived objects from its imports (FastAPI,
SQLAlchemy, pydantic, the reference data); measured on the casework API under load, a full
pass came about once a second and took up to 85 ms — the whole tail of the latency
(p99 75 ms at p50 9 ms). Setting the objects alive at startup aside (``gc.freeze``: they are
never garbage) and collecting the youngest generation every 50,000 allocations instead of
700 keeps the passes short and rare; cycles are still collected."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNG_THRESHOLD = 50_000
_settled = False


def settle() -> None:
    """After a server has started: collect, set everything alive aside, and collect the
    youngest generation less often from now on. Once per process (a process that starts
    several apps, as the tests do, pays for the full pass once)."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])


@contextlib.contextmanager
def rare_collections() -> Iterator[None]:
    """The same for the length of a bulk run (an import allocates and drops a batch's worth
    of objects again and again); undone afterwards."""
    threshold, settled = gc.get_threshold(), gc.get_freeze_count() > 0
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if not settled:  # a settled server keeps its heap set aside
            gc.unfreeze()
