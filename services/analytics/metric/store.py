"""The read model's SQL: lock and save fact rows, add rollup deltas, keep the text rows, the
daily volumes and the hotline's call-backs — set-based, a handful of statements per batch.

Every statement names its tables through a :class:`Target`, so the live consumer and the
rebuild (which fills shadow tables) run the very same code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.metric import fold
from services.analytics.metric.counters import COUNTERS, GRAINS, RollupKey, contributions
from services.analytics.models import case_fact
from shared.clock import SHANGHAI
from shared.events.casework import CaseRegisteredV1
from shared.events.envelope import Envelope, EventPayload
from shared.events.intake import HotlineEvaluationReceivedV1, PetitionReceivedV1

FACT_COLUMNS: tuple[str, ...] = tuple(c.name for c in case_fact.columns)


@dataclass(frozen=True)
class Target:
    """The tables written: the live ones (suffix ``""``) or a rebuild's shadow copies."""

    suffix: str = ""

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return f"analytics.{name}{self.suffix}"


LIVE = Target()
SHADOW = Target("__rebuild")


def _json(rows: list[dict[str, Any]]) -> str:
    return orjson.dumps(rows).decode()


async def lock_facts(db: AsyncConnection, ids: Iterable[str], t: Target) -> dict[str, fold.Fact]:
    """The fact rows of ``ids``, created blank where missing, locked in id order (so two
    batches touching the same cases cannot deadlock, and a concurrent first event of the same
    case waits instead of being overwritten)."""
    keys = sorted(set(ids))
    await db.execute(
        text(
            f"INSERT INTO {t.case_fact} (case_id) "
            "SELECT unnest(CAST(:ids AS text[])) ORDER BY 1 ON CONFLICT DO NOTHING"
        ),
        {"ids": keys},
    )
    rows = await db.execute(
        text(
            f"SELECT * FROM {t.case_fact} WHERE case_id = ANY(CAST(:ids AS text[])) "  # noqa: S608
            "ORDER BY case_id FOR UPDATE"
        ),
        {"ids": keys},
    )
    return {r.case_id: dict(r._mapping) for r in rows}


async def save_facts(db: AsyncConnection, facts: list[fold.Fact], t: Target) -> None:
    if not facts:
        return
    sets = ", ".join(f"{c} = r.{c}" for c in FACT_COLUMNS if c != "case_id")
    await db.execute(
        text(
            f"UPDATE {t.case_fact} f SET {sets} "  # noqa: S608
            f"FROM jsonb_populate_recordset(NULL::{t.case_fact}, CAST(:rows AS jsonb)) r "
            "WHERE f.case_id = r.case_id"
        ),
        {"rows": _json(facts)},
    )


def deltas(
    before: dict[str, fold.Fact], after: dict[str, fold.Fact]
) -> dict[tuple[str, RollupKey], Counter[str]]:
    """Σ contribution(after) − contribution(before) over the changed facts (zeros dropped)."""
    out: dict[tuple[str, RollupKey], Counter[str]] = {}
    for case_id, new in after.items():
        old = before[case_id]
        if old == new:
            continue
        for key, c in contributions(new).items():
            out.setdefault(key, Counter()).update(c)
        for key, c in contributions(old).items():
            out.setdefault(key, Counter()).subtract(c)
    return {k: v for k, v in out.items() if any(v.values())}


async def add_rollups(
    db: AsyncConnection, delta: dict[tuple[str, RollupKey], Counter[str]], t: Target
) -> None:
    for grain in GRAINS:
        table = getattr(t, f"rollup_{grain}")
        keys = sorted(k for g, k in delta if g == grain)  # a fixed order: no deadlocks
        if not keys:
            continue
        rows = []
        for k in keys:
            c = delta[(grain, k)]
            row: dict[str, Any] = {
                "period": k[0],
                "region_code": k[1],
                "accusation": k[2],
                "dim": k[3],
                "value": k[4],
            }
            row.update({name: c.get(name, 0) for name in COUNTERS})
            rows.append(row)
        sets = ", ".join(f"{c} = x.{c} + EXCLUDED.{c}" for c in COUNTERS)
        await db.execute(
            text(
                f"INSERT INTO {table} AS x "  # noqa: S608
                f"SELECT * FROM jsonb_populate_recordset(NULL::{table}, CAST(:rows AS jsonb)) "
                f"ON CONFLICT (period, region_code, accusation, dim, value) DO UPDATE SET {sets}"
            ),
            {"rows": _json(rows)},
        )


_TEXT_RECEIVED = (
    "person_keys",
    "prior_case_ids",
    "source",
    "channel",
    "received_at",
    "people_count",
    "collective",
    "accusation",
    "public_attention",
)


# what an amendment may change in ``case_text`` (person keys, last: a desk correction of the
# petitioners)
_TEXT_AMENDABLE = ("title", "content", "region_code", "category_code", "person_keys")


async def save_texts(db: AsyncConnection, changes: list[fold.TextChange], t: Target) -> None:
    """Receipts fill the row; amendments (revision > 0) change title, content, region and
    category when newer. Either may come first."""
    received = [
        {"case_id": c.case_id, "revision": 0, **c.values} for c in changes if not c.revision
    ]
    amended = [
        {"case_id": c.case_id, "revision": c.revision, **c.values} for c in changes if c.revision
    ]
    if received:
        keep = ", ".join(f"{c} = EXCLUDED.{c}" for c in _TEXT_RECEIVED if c not in _TEXT_AMENDABLE)
        amendable = ", ".join(
            f"{c} = CASE WHEN x.revision = 0 THEN EXCLUDED.{c} "
            f"ELSE coalesce(x.{c}, EXCLUDED.{c}) END"
            for c in _TEXT_AMENDABLE[:-1]
        )
        # an amendment that came first and changed no petitioners left '{}' (NOT NULL)
        amendable += (
            ", person_keys = CASE WHEN x.revision = 0 OR x.person_keys = '{}' "
            "THEN EXCLUDED.person_keys ELSE x.person_keys END"
        )
        await db.execute(
            text(
                f"INSERT INTO {t.case_text} AS x "  # noqa: S608
                "SELECT * FROM jsonb_populate_recordset("
                f"NULL::{t.case_text}, CAST(:rows AS jsonb)) "
                f"ON CONFLICT (case_id) DO UPDATE SET {keep}, {amendable}"
            ),
            {"rows": _json(received)},
        )
    for row in amended:  # rare: one statement each
        sets = ", ".join(
            f"{c} = CASE WHEN EXCLUDED.revision > x.revision "
            f"THEN coalesce(EXCLUDED.{c}, x.{c}) ELSE x.{c} END"
            for c in _TEXT_AMENDABLE[:-1]
        )
        sets += (
            ", person_keys = CASE WHEN EXCLUDED.revision > x.revision "
            "AND CAST(:person_keys AS text[]) IS NOT NULL THEN EXCLUDED.person_keys "
            "ELSE x.person_keys END"
        )
        await db.execute(
            text(
                f"INSERT INTO {t.case_text} AS x (case_id, revision, title, content, "  # noqa: S608
                "region_code, category_code, person_keys) VALUES (:case_id, :revision, :title, "
                ":content, :region_code, :category_code, "
                "coalesce(CAST(:person_keys AS text[]), '{}')) "
                f"ON CONFLICT (case_id) DO UPDATE SET {sets}, "
                "revision = greatest(x.revision, EXCLUDED.revision)"
            ),
            {
                "case_id": row["case_id"],
                "revision": row["revision"],
                **{c: row.get(c) for c in _TEXT_AMENDABLE},
            },
        )


VolumeKey = tuple[date, str, str, str]


async def add_volumes(db: AsyncConnection, counts: Counter[VolumeKey], t: Target) -> None:
    if not counts:
        return
    keys = sorted(counts)
    await db.execute(
        text(
            f"INSERT INTO {t.daily_volume} AS x (day, metric, dimension, value, count) "  # noqa: S608
            "SELECT * FROM unnest(CAST(:d AS date[]), CAST(:m AS text[]), CAST(:dim AS text[]), "
            "CAST(:v AS text[]), CAST(:n AS bigint[])) "
            "ON CONFLICT (day, metric, dimension, value) "
            "DO UPDATE SET count = x.count + EXCLUDED.count"
        ),
        {
            "d": [k[0] for k in keys],
            "m": [k[1] for k in keys],
            "dim": [k[2] for k in keys],
            "v": [k[3] for k in keys],
            "n": [counts[k] for k in keys],
        },
    )


async def add_callbacks(
    db: AsyncConnection, events: list[HotlineEvaluationReceivedV1], t: Target
) -> None:
    if not events:
        return
    await db.execute(
        text(
            f"INSERT INTO {t.hotline_callback} (case_id, visited_at, day, contacted, solved, "  # noqa: S608
            "rating) SELECT * FROM unnest(CAST(:c AS text[]), CAST(:v AS timestamptz[]), "
            "CAST(:d AS date[]), CAST(:contacted AS boolean[]), CAST(:solved AS boolean[]), "
            "CAST(:rating AS text[])) ON CONFLICT DO NOTHING"
        ),
        {
            "c": [e.case_id for e in events],
            "v": [e.visited_at for e in events],
            "d": [e.visited_at.astimezone(SHANGHAI).date() for e in events],
            "contacted": [e.contacted for e in events],
            "solved": [e.solved for e in events],
            "rating": [e.rating for e in events],
        },
    )


def _volumes(events: list[EventPayload]) -> Counter[VolumeKey]:
    counts: Counter[VolumeKey] = Counter()
    for e in events:
        if isinstance(e, PetitionReceivedV1):
            day = e.received_at.astimezone(SHANGHAI).date()
            for dim, value in (
                ("all", "all"),
                ("channel", e.channel),
                ("source", e.source),
                ("category", e.category_code),
                ("region", e.region_code),
            ):
                counts[(day, "received", dim, value or "unknown")] += 1
        elif isinstance(e, CaseRegisteredV1):
            day = e.registered_at.astimezone(SHANGHAI).date()
            counts[(day, "registered", "all", "all")] += 1
            counts[(day, "registered", "region", e.region_code)] += 1
    return counts


# What the repeat check found per case, from its own rows (``analytics.case_repeat``, kept
# across a rebuild): the earlier repeats it counted, and the receipt of the first linked
# petition of the same person received after the case (its links are kept both ways).
_REPEATS_SQL = (
    "SELECT r.case_id, r.earlier_repeats, ("
    "SELECT min(o.received_at) FROM jsonb_array_elements(r.repeats) AS l "
    "JOIN analytics.case_repeat o ON o.case_id = l->>'case_id' "
    "WHERE o.received_at > r.received_at) AS later_at "
    "FROM analytics.case_repeat r WHERE "
)

RepeatFound = tuple[int, Any]  # (earlier repeats, first later repeat's receipt or None)


async def read_repeats(db: AsyncConnection, ids: Iterable[str]) -> dict[str, RepeatFound]:
    """The repeat check's answer for each of ``ids`` that it has checked."""
    keys = sorted(set(ids))
    if not keys:
        return {}
    rows = await db.execute(
        text(_REPEATS_SQL + "r.case_id = ANY(CAST(:ids AS text[]))"), {"ids": keys}
    )
    return {r.case_id: (int(r.earlier_repeats), r.later_at) for r in rows}


async def apply_repeats(db: AsyncConnection, t: Target, chunk: int = 5000) -> int:
    """The rebuild's step before the rollups: every checked case's answer applied to its fact
    in ``t`` (the same :func:`fold.apply_repeat` the live handler applies in the transaction
    that wrote the answer). Facts are not created: a check without a folded receipt adds
    nothing. Returns the facts changed."""
    after, changed_total = "", 0
    while True:
        rows = (
            await db.execute(
                text(_REPEATS_SQL + "r.case_id > :after ORDER BY r.case_id LIMIT :n"),
                {"after": after, "n": chunk},
            )
        ).all()
        if not rows:
            return changed_total
        after = rows[-1].case_id
        found = await db.execute(
            text(
                f"SELECT * FROM {t.case_fact} WHERE case_id = ANY(CAST(:ids AS text[])) "  # noqa: S608
                "ORDER BY case_id FOR UPDATE"
            ),
            {"ids": [r.case_id for r in rows]},
        )
        facts = {r.case_id: dict(r._mapping) for r in found}
        changed = []
        for r in rows:
            f = facts.get(r.case_id)
            if f is None:
                continue
            old = dict(f)
            fold.apply_repeat(f, int(r.earlier_repeats), r.later_at)
            if f != old:
                changed.append(f)
        await save_facts(db, changed, t)
        changed_total += len(changed)


async def add_unit_names(db: AsyncConnection, names: list[tuple[str, str, Any]], t: Target) -> None:
    """Upsert unit names: the latest by the event's time wins (ties: the larger name), so the
    table does not depend on the order events arrive in."""
    if not names:
        return
    latest: dict[str, tuple[Any, str]] = {}
    for unit_id, name, at in names:
        if unit_id not in latest or (at, name) > latest[unit_id]:
            latest[unit_id] = (at, name)
    keys = sorted(latest)
    await db.execute(
        text(
            f"INSERT INTO {t.unit_label} AS x (unit_id, name, named_at) "  # noqa: S608
            "SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:names AS text[]), "
            "CAST(:at AS timestamptz[])) "
            "ON CONFLICT (unit_id) DO UPDATE SET name = EXCLUDED.name, "
            "named_at = EXCLUDED.named_at WHERE (EXCLUDED.named_at, EXCLUDED.name) > "
            "(x.named_at, x.name)"
        ),
        {
            "ids": keys,
            "names": [latest[k][1] for k in keys],
            "at": [latest[k][0] for k in keys],
        },
    )


async def fold_events(
    db: AsyncConnection,
    envs: list[Envelope],
    t: Target = LIVE,
    *,
    rollups: bool = True,
    repeat_ids: Iterable[str] = (),
) -> int:
    """Fold a batch of events (each seen for the first time) into the read model ``t``.
    ``rollups=False`` (the rebuild) leaves the rollups to :func:`rollups_from_facts`.
    ``repeat_ids``: cases whose repeat check (``case_repeat``) was written or changed in this
    transaction; its answer is applied to their facts (:func:`fold.apply_repeat`) with the
    batch's events, in the same rollup deltas."""
    parsed: list[tuple[Envelope, EventPayload]] = []
    for env in envs:
        event = fold.parse(env)
        if event is not None:
            parsed.append((env, event))
    repeats = await read_repeats(db, repeat_ids)
    if not parsed and not repeats:
        return 0
    ids = {i for env, event in parsed for i in fold.case_ids(env, event)} | set(repeats)
    facts = await lock_facts(db, ids, t)
    before = {k: dict(v) for k, v in facts.items()}
    texts: list[fold.TextChange] = []
    for env, event in parsed:
        change = fold.apply(facts, env, event)
        if change is not None:
            texts.append(change)
    for case_id, (earlier, later_at) in repeats.items():
        fold.apply_repeat(facts[case_id], earlier, later_at)
    changed = [f for k, f in facts.items() if f != before[k]]
    await save_facts(db, changed, t)
    if rollups:
        await add_rollups(db, deltas(before, facts), t)
    await save_texts(db, texts, t)
    events = [e for _, e in parsed]
    await add_volumes(db, _volumes(events), t)
    await add_callbacks(db, [e for e in events if isinstance(e, HotlineEvaluationReceivedV1)], t)
    await add_unit_names(db, [n for e in events for n in fold.unit_names(e)], t)
    return len(parsed)


async def rollups_from_facts(db: AsyncConnection, t: Target, chunk: int = 5000) -> int:
    """The rollups of ``t`` as Σ contribution(fact) over its facts (the rebuild's last step);
    equal to what the live deltas add up to. Returns the rows written."""
    total: dict[tuple[str, RollupKey], Counter[str]] = {}
    after = ""
    while True:  # keyset pages: a cursor left open would block the swap's CREATE INDEX
        rows = (
            await db.execute(
                text(
                    f"SELECT * FROM {t.case_fact} WHERE case_id > :after "  # noqa: S608
                    "ORDER BY case_id LIMIT :n"
                ),
                {"after": after, "n": chunk},
            )
        ).all()
        if not rows:
            break
        after = rows[-1].case_id
        for row in rows:
            for key, c in contributions(dict(row._mapping)).items():
                total.setdefault(key, Counter()).update(c)
    keys = sorted(total)
    for i in range(0, len(keys), chunk):
        await add_rollups(db, {k: total[k] for k in keys[i : i + chunk]}, t)
    return len(keys)
