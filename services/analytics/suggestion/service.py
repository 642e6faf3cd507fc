"""On ``intake.petition.received``: the routing suggestion and the repeat check of each new
petition, stored in ``analytics.case_repeat`` and published to casework from analytics' own
outbox, in the consumer's transaction (so once per petition, whatever the redeliveries).

Repeat links are kept both ways: when a petition repeats an earlier case, that case's row
gets the link back, and if the earlier case was received *later* in time (history imported
out of order) it loses its first-petition flag. Each changed case is published again; the
latest ``analytics.repeat.suggested`` of a case is its current answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics import routing
from services.analytics.routing.service import get_model
from services.analytics.suggestion.index import store_of
from services.analytics.text.records import Petition
from services.analytics.text.repeats import Fingerprint, Link, RepeatCheck, fingerprint
from shared.bus import BusContext
from shared.bus.outbox import publish_many
from shared.events.analytics import RepeatLinkV1, RepeatSuggestedV1, RoutingSuggestedV1
from shared.events.envelope import Envelope, EventPayload
from shared.events.intake import PetitionReceivedV1

PRODUCER = "analytics"


def petition_of(e: PetitionReceivedV1) -> Petition:
    keys = set(e.person_keys) | ({e.person_key} if e.person_key else set())
    return Petition(
        case_id=e.case_id,
        title=e.title,
        content=e.content,
        person_keys=tuple(sorted(keys)),
        region_code=e.region_code,
        category_code=e.category_code,
        source=e.source,
        people_count=e.people_count,
        received_at=e.received_at,
        likes=e.public_attention,
    )


def _analyse(
    events: list[PetitionReceivedV1],
) -> tuple[list[routing.Suggestion], str, list[Fingerprint]]:
    """The CPU work (model, jieba, MinHash), run off the event loop."""
    suggestions = routing.suggest_many([f"{e.title}\n{e.content}" for e in events])
    version = get_model().info.version
    return suggestions, version, [fingerprint(petition_of(e)) for e in events]


def _links(links: tuple[Link, ...]) -> list[dict[str, Any]]:
    return [
        {"case_id": x.case_id, "similarity": x.similarity, "reasons": list(x.reasons)}
        for x in links
    ]


async def on_received(db: AsyncConnection, envs: list[Envelope], ctx: BusContext) -> set[str]:
    """Check and store each petition; returns the cases whose ``case_repeat`` row this wrote
    or changed (the petitions themselves and the earlier cases linked back), whose facts the
    fold then brings up to date (``metric.store.fold_events(repeat_ids=…)``)."""
    events = [PetitionReceivedV1.model_validate(env.payload) for env in envs]
    touched: set[str] = {e.case_id for e in events}
    if not events:
        return touched
    suggestions, version, fps = await asyncio.to_thread(_analyse, events)
    store = store_of(ctx)
    await store.catch_up(db)
    checks: list[RepeatCheck] = []
    for fp in fps:  # check, then index: later petitions of the batch see earlier ones
        checks.append(store.index.check(fp))
        store.index.add(fp)
    now = ctx.clock.now()
    inserted = set(
        (
            await db.execute(
                text(
                    "INSERT INTO analytics.case_repeat (case_id, fingerprint, received_at, "
                    "region_code, accusation, first_petition, earlier_repeats, repeats, "
                    "same_matter, checked_at) SELECT * FROM unnest(CAST(:ids AS text[]), "
                    "CAST(:fps AS bytea[]), CAST(:at AS timestamptz[]), CAST(:reg AS text[]), "
                    "CAST(:acc AS boolean[]), CAST(:first AS boolean[]), CAST(:n AS int[]), "
                    "CAST(:rep AS jsonb[]), CAST(:same AS jsonb[]), CAST(:now AS timestamptz[])) "
                    "ON CONFLICT (case_id) DO NOTHING RETURNING case_id"
                ),
                {
                    "ids": [e.case_id for e in events],
                    "fps": [fp.to_bytes() for fp in fps],
                    "at": [e.received_at for e in events],
                    "reg": [e.region_code for e in events],
                    "acc": [e.accusation for e in events],
                    "first": [c.is_first for c in checks],
                    "n": [c.earlier_repeats for c in checks],
                    "rep": [orjson.dumps(_links(c.repeats)).decode() for c in checks],
                    "same": [orjson.dumps(_links(c.same_matter)).decode() for c in checks],
                    "now": [now] * len(events),
                },
            )
        ).scalars()
    )
    out: list[tuple[EventPayload, str]] = []
    for e, s, check in zip(events, suggestions, checks, strict=True):
        if e.case_id not in inserted:
            continue  # seen before (a replay): its suggestions were published then
        if s.label:
            out.append(
                (
                    RoutingSuggestedV1(
                        case_id=e.case_id,
                        label=s.label,
                        category_code=s.category_code,
                        confidence=min(1.0, max(0.0, float(s.confidence))),
                        model_version=version,
                        suggested_at=now,
                    ),
                    e.case_id,
                )
            )
        out.append(
            (
                RepeatSuggestedV1(
                    case_id=e.case_id,
                    first_petition=check.is_first,
                    earlier_repeats=check.earlier_repeats,
                    links=[RepeatLinkV1(**x) for x in _links(check.repeats)],
                    checked_at=now,
                ),
                e.case_id,
            )
        )
    for e, check in zip(events, checks, strict=True):
        if e.case_id in inserted:
            for link in check.repeats:
                changed = await _link_back(db, link, e, now)
                if changed is not None:
                    out.append((changed, changed.case_id))
                    touched.add(changed.case_id)
    await publish_many(db, producer=PRODUCER, events=out, clock=ctx.clock)
    return touched


async def _link_back(
    db: AsyncConnection, link: Link, e: PetitionReceivedV1, now: Any
) -> RepeatSuggestedV1 | None:
    """The reverse link on the earlier-indexed case; it is no first petition any more if
    ``e`` was received before it."""
    back = {"case_id": e.case_id, "similarity": link.similarity, "reasons": list(link.reasons)}
    row = (
        await db.execute(
            text(
                "UPDATE analytics.case_repeat SET "
                "first_petition = first_petition AND NOT coalesce(received_at > :t, false), "
                "earlier_repeats = earlier_repeats "
                "+ CASE WHEN received_at > :t THEN 1 ELSE 0 END, "
                "repeats = repeats || CAST(:link AS jsonb), checked_at = :now "
                "WHERE case_id = :id AND NOT repeats @> CAST(:probe AS jsonb) "
                "RETURNING case_id, first_petition, earlier_repeats, repeats"
            ),
            {
                "t": e.received_at,
                "link": orjson.dumps([back]).decode(),
                "probe": orjson.dumps([{"case_id": e.case_id}]).decode(),
                "id": link.case_id,
                "now": now,
            },
        )
    ).first()
    if row is None:
        return None
    return RepeatSuggestedV1(
        case_id=row.case_id,
        first_petition=row.first_petition,
        earlier_repeats=row.earlier_repeats,
        links=[RepeatLinkV1.model_validate(x) for x in row.repeats],
        checked_at=now,
    )
