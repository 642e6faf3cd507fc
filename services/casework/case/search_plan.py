"""How a search finds its first page among many cases.

A search requires every bigram of its words (``search.query``). PostgreSQL estimates such a
query as if the bigrams were independent: for 噪音扰民 (噪音 & 音扰 & 扰民, each in about 3 %
of the cases) it expects a few dozen matches among a million where there are 27,000, so it
fetches every match through the GIN index and sorts them all to show 25 (0.3–0.7 s at 1M).

A word's bigrams occur together, so the rarest of them bounds the share of matching cases
from above; ``pg_stats`` has the share of every common lexeme (the column keeps 10,000 of
them, so that the bigram across two words — 业电 in 物业电梯 — is seen as rare). When a
query has several terms and that bound says the plain query may fetch ``MIN_ROWS`` cases or
more, the newest cases are read in ``updated_at`` order — the search condition checked
before the scope, which costs an index probe — and the scan stops at the page's end or at
the end of a window: first ``PROBE`` cases; if that found some matches but not a page, a
larger window sized from the density it saw, up to ``WINDOW``. If a window fills the page,
its matches are exactly the first page (every case outside it is older). If not — the words
are rarer together than apart, or rare in the caller's scope — the page comes from the plain
query (GIN index), which is right for rare words. Either way the answer is the same; only
the cost differs; a wrong guess costs a few windows read, at most ``WINDOW`` cases each.

A window is read from the newest-first index, which carries each case's lexeme signature
(``search_sig``, migration ``20261124_1250_casework``): a case lacking one of the query's
bits is passed over in the index, so the table is read only for the few cases that may match
(at 1M cases, for 噪音扰民: 199 of the 4,642 newest instead of all of them).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, String, bindparam, cast, select, text, true
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.ext.asyncio import AsyncConnection

# cases read in updated_at order: a first probe, and at most this many in all
PROBE = 10_000
WINDOW = 40_000
# the window is tried when the plain query may fetch at least this many matching cases
MIN_ROWS = 5_000
STATS_SECONDS = 600.0


@dataclass(frozen=True)
class TermStats:
    """The shares of cases holding each common lexeme (``pg_stats.most_common_elems``);
    any other lexeme is rarer than ``floor``."""

    shares: dict[str, float]
    floor: float
    rows: float  # the cases in the table (pg_class.reltuples)
    read_at: float

    def worth_a_window(self, terms: list[str]) -> bool:
        """Several whole terms that may be common together. One term is estimated right (its
        own share), and PostgreSQL plans it well by itself; its signature bit alone would
        pass about a fifth of the cases (a case's lexemes set about 19 % of the bits), each
        then read by key — measured slower than PostgreSQL's own ordered scan at 1M."""
        return sum(not t.endswith(":*") for t in terms) > 1 and (
            self.upper_share(terms) * self.rows >= MIN_ROWS
        )

    def upper_share(self, terms: list[str]) -> float:
        """The most a case share matching every term can be: the rarest term's share. A
        prefix term (``字:*``) bounds nothing."""
        bounds = [self.shares.get(t, self.floor) for t in terms if not t.endswith(":*")]
        return min(bounds, default=1.0)


_stats: dict[str, TermStats] = {}


async def term_stats(db: AsyncConnection) -> TermStats:
    """The search column's lexeme statistics, read at most every ``STATS_SECONDS`` per
    database (ANALYZE refreshes them; stale figures only change the plan, never the answer)."""
    key = str(db.engine.url)
    now = time.monotonic()
    known = _stats.get(key)
    if known is not None and now - known.read_at < STATS_SECONDS:
        return known
    row = (
        await db.execute(
            text(
                "SELECT s.most_common_elems::text::text[] AS elems, "
                "s.most_common_elem_freqs AS f, c.reltuples "
                "FROM pg_class c LEFT JOIN pg_stats s ON s.schemaname = 'casework' "
                "AND s.tablename = 'case' AND s.attname = 'search' "
                "WHERE c.oid = 'casework.case'::regclass"
            )
        )
    ).first()
    if row is None or row.elems is None:
        stats = TermStats({}, 0.0, 0.0, now)  # never analysed: every term counts as rare
    else:
        elems, freqs = list(row.elems), list(row.f)
        # the frequencies are followed by their minimum, maximum and the null share
        floor = float(freqs[len(elems)])
        stats = TermStats(dict(zip(elems, freqs, strict=False)), floor, float(row.reltuples), now)
    _stats[key] = stats
    return stats


def next_window(window: int, found: int, wanted: int) -> int:
    """After a window of ``window`` cases held ``found`` (< ``wanted``) matches: a window
    twice the size the density seen asks for (at least double, at most ``WINDOW``), or 0 to
    stop — nothing seen in the probe, or ``WINDOW`` already read."""
    if window >= WINDOW or found == 0:
        return 0
    return min(WINDOW, max(2 * window, wanted * window * 2 // found))


SIGNATURE_BITS = 1024


def signature(terms: list[str]) -> str:
    """The bits (as ``0``/``1`` text) that every case matching ``terms`` has set in its
    ``search_sig``: the same bit per lexeme as ``casework.search_signature`` (the low ten bits
    of the first four bytes of the lexeme's md5). A prefix term (``字:*``) sets none."""
    bits = bytearray(b"0" * SIGNATURE_BITS)
    for term in terms:
        if not term.endswith(":*"):
            digest = hashlib.md5(term.encode(), usedforsecurity=False).digest()
            bits[int.from_bytes(digest[:4], "big") % SIGNATURE_BITS] = ord("1")
    return bits.decode()


def windowed(
    columns: list[Any],
    *,
    base: Any,
    filters: list[Any],
    matches: Any,
    visible: Any,
    order: list[Any],
    limit: Any,
) -> Select[Any]:
    """The first ``limit`` cases among the newest ``:window`` that pass ``filters``, match
    ``matches`` and are ``visible`` — an ordered scan that stops at ``limit``.

    The window is read from the newest-first index, which carries each case's signature:
    a case whose signature lacks one of the query's bits (parameter ``mask``: ``signature``
    of the query's terms) cannot match and is passed over there; only the others are read
    from the table (by key, one at a time, in the window's order — ``OFFSET 0`` keeps
    PostgreSQL from turning that into a join of every match) and tested for the words and
    the caller's scope. ``base`` is the case table; ``columns`` the page's columns of it;
    ``matches`` and ``visible`` are callables taking the table.
    """
    keys = [o.element.name for o in order]  # the order's columns, again on the window
    inner = (
        select(*(base.c[k] for k in keys), base.c.search_sig)
        .where(*filters)
        .order_by(*order)
        .limit(bindparam("window", type_=Integer))
        .subquery("w")
    )
    mask = cast(bindparam("mask", type_=String), BIT(SIGNATURE_BITS))
    row = (
        select(*columns)
        .where(base.c.case_id == inner.c.case_id, matches(base), visible(base))
        .offset(0)
        .lateral("c")
    )
    return (
        select(*(row.c[c.name] for c in columns))
        .select_from(inner.join(row, true()))
        .where(inner.c.search_sig.op("&")(mask) == mask)
        .order_by(*(inner.c[k].desc() for k in keys))
        .limit(limit)
    )
