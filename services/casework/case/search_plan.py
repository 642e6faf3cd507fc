"""How a search finds its first page among many cases.

A search requires every bigram of its words (``search.query``). PostgreSQL estimates such a
query as if the bigrams were independent: for 噪音扰民 (噪音 & 音扰 & 扰民, each in about 3 %
of the cases) it expects a few dozen matches among a million where there are 27,000, so it
fetches every match through the GIN index and sorts them all to show 25 (0.3–0.7 s at 1M).

A word's bigrams occur together, so the rarest of them bounds the share of matching cases
from above; ``pg_stats`` has the share of every common lexeme (the column keeps 10,000 of
them, so that the bigram across two words — 业电 in 物业电梯 — is seen as rare). When that
bound says the plain query may fetch ``MIN_ROWS`` cases or more (several terms, or, without
filters on the case's own columns, also one common word), the newest cases are read in
``updated_at`` order and the scan stops at the page's end or at
the end of a window: first ``PROBE`` cases; if that found some matches but not a page, a
larger window sized from the density it saw, up to ``WINDOW``. If a window fills the page,
its matches are exactly the first page (every case outside it is older). If not — the words
are rarer together than apart, or rare in the caller's scope — the page comes from the plain
query (GIN index), which is right for rare words. Either way the answer is the same; only
the cost differs; a wrong guess costs a few windows read, at most ``WINDOW`` cases each.

Without filters on the case's own columns (the workbench's "all" with at most a cursor), a
window is read from the index of ``case_signature`` — a narrow table of each case's
``updated_at`` and lexeme signature, kept by a trigger (migration ``20261124_1340_casework``)
— and a case lacking one of the query's bits is passed over in the index, so the case table
is read only for the few cases that may match (at 1M cases, for 噪音扰民: 199 of the 4,642
newest instead of all of them). With such filters (the handler's own queue, a status …) the
window is the case table's own ordered scan through the index that serves the filters.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select, text, true
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

    def worth_a_window(self, terms: list[str], *, signed: bool = True) -> bool:
        """Terms that may be common together. Read from ``case_signature`` (``signed``), one
        common whole word is worth a window too: its bit turns four cases in five away in the
        index, where PostgreSQL's own ordered scan reads each case's vector from the table
        (at 1M cases, 物业: 1,366 against 980 pages/s, SQL alone). From the case table itself
        (a page with filters), one term is estimated right and PostgreSQL plans it well."""
        whole = sum(not t.endswith(":*") for t in terms)
        return whole >= (1 if signed else 2) and (self.upper_share(terms) * self.rows >= MIN_ROWS)

    def rarest_first(self, terms: list[str]) -> list[str]:
        """``terms`` from the rarest to the most common (a rare term's signature bit turns
        most cases away at the first test)."""
        return sorted(terms, key=lambda t: self.shares.get(t, self.floor))

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
# a window tests at most this many of the query's bits (each one passes about a fifth of the
# cases that lack the words; four pass about one in six hundred)
TESTED_BITS = 4


def signature_bits(terms: list[str]) -> list[int]:
    """The distinct bits that every case matching ``terms`` has set in its
    ``case_signature.search_sig``: the same bit per lexeme as ``casework.search_signature``
    (the low ten bits of the first four bytes of the lexeme's md5). A prefix term (``字:*``)
    sets none."""
    bits: dict[int, None] = {}
    for term in terms:
        if not term.endswith(":*"):
            digest = hashlib.md5(term.encode(), usedforsecurity=False).digest()
            bits[int.from_bytes(digest[:4], "big") % SIGNATURE_BITS] = None
    return list(bits)


def signature(terms: list[str]) -> str:
    """``signature_bits`` as the signature's ``0``/``1`` text."""
    text_bits = bytearray(b"0" * SIGNATURE_BITS)
    for bit in signature_bits(terms):
        text_bits[bit] = ord("1")
    return text_bits.decode()


def signed_window(
    columns: list[Any],
    *,
    base: Any,
    signatures: Any,
    after: Any,
    bits: int,
    in_scope: Any,
    matches: Any,
    visible: Any,
    limit: Any,
) -> Select[Any]:
    """The first ``limit`` cases among the newest ``:window`` (after the cursor condition
    ``after``, on ``signatures``' columns, if any) that match ``matches`` and are ``visible``
    — an ordered scan that stops at ``limit``.

    The window is read from the index of ``signatures`` (``case_signature``: each case's
    ``updated_at`` and lexeme signature): a case lacking one of the query's ``bits`` bits
    (parameters ``bit0`` …, from ``signature_bits``) cannot match and is passed over there —
    each bit read alone, the first missing one deciding. The others are checked against the
    caller's scope by their key (``in_scope``, taking the window: ``case_id``), and only those
    in it are read from the case table (by key, one at a time, in the window's order —
    ``OFFSET 0`` keeps PostgreSQL from turning that into a join of every match) and tested
    for the words and the rest of the caller's visibility (``visible``). ``columns`` are the
    page's columns of ``base`` (the case table); ``matches`` and ``visible`` take that table.
    """
    inner = (
        select(signatures.c.updated_at, signatures.c.case_id, signatures.c.search_sig)
        .where(*([after] if after is not None else []))
        .order_by(signatures.c.updated_at.desc(), signatures.c.case_id.desc())
        .limit(bindparam("window", type_=Integer))
        .subquery("w")
    )
    row = (
        select(*columns)
        .where(base.c.case_id == inner.c.case_id, matches(base), visible(base))
        .offset(0)
        .lateral("c")
    )
    has_bits = [
        func.get_bit(inner.c.search_sig, bindparam(f"bit{i}", type_=Integer)) == 1
        for i in range(bits)
    ]
    return (
        select(*(row.c[c.name] for c in columns))
        .select_from(inner.join(row, true()))
        .where(*has_bits, in_scope(inner))
        .order_by(inner.c.updated_at.desc(), inner.c.case_id.desc())
        .limit(limit)
    )


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
    """The first ``limit`` cases among the newest ``:window`` of the case table that pass
    ``filters`` (through whatever index serves them, such as the handler's queue), match
    ``matches`` and are ``visible`` — an ordered scan that stops at ``limit``; for pages
    with filters on the case's own columns, which ``signed_window`` cannot apply in its index.

    ``base`` is the case table; ``columns`` the page's columns of it; ``matches`` and
    ``visible`` are callables taking the window (a subquery with the same column names).
    """
    needed = {c.name for c in columns} | {
        "search",
        "accusation",
        "accused_paths",
        "accused_staff",
        "case_id",
        "updated_at",
    }
    inner = (
        select(*(base.c[n] for n in sorted(needed)))
        .where(*filters)
        .order_by(*order)
        .limit(bindparam("window", type_=Integer))
        .subquery("w")
    )
    keys = [o.element.name for o in order]  # the order's columns, again on the window
    return (
        select(*(inner.c[c.name] for c in columns))
        .where(matches(inner), visible(inner))
        .order_by(*(inner.c[k].desc() for k in keys))
        .limit(limit)
    )
