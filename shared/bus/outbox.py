"""Writing events: in the caller's transaction, next to the state change they describe."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache

import orjson
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.bus.topology import consumers_of, notify_channel
from shared.clock import Clock, system_clock
from shared.db.direct import fetch
from shared.events.envelope import Envelope, EventPayload
from shared.ids import uuid7
from shared.logging import current_trace_id


async def publish(
    db: AsyncConnection,
    *,
    producer: str,
    event: EventPayload,
    aggregate_id: str,
    clock: Clock = system_clock,
    occurred_at: datetime | None = None,
    trace_id: str | None = None,
    event_id: uuid.UUID | None = None,
) -> Envelope:
    """Append ``event`` to ``producer``'s outbox with one delivery per subscriber.

    The caller's transaction commits it together with the state change, or neither happens.
    ``aggregate_seq`` comes from a per-aggregate counter row whose lock is held to commit, so
    the events of one case are numbered in the order their transactions commit.
    """
    s = producer  # the producer's schema carries its name
    envelope = Envelope(
        event_id=event_id or uuid7(),
        type=event.type,
        version=event.version,
        occurred_at=occurred_at or clock.now(),
        producer=producer,
        trace_id=trace_id or current_trace_id(),
        aggregate_id=aggregate_id,
        aggregate_seq=0,
        payload=event.model_dump(mode="json"),
    )
    # The counter row's lock orders concurrent writers of one aggregate: seq and position
    # both follow commit order, and it is one round trip.
    row = (
        await db.execute(
            text(
                f"""
                WITH seq AS (
                    INSERT INTO {s}.outbox_aggregate (aggregate_id, last_seq) VALUES (:agg, 1)
                    ON CONFLICT (aggregate_id)
                    DO UPDATE SET last_seq = outbox_aggregate.last_seq + 1
                    RETURNING last_seq
                ), ev AS (
                    INSERT INTO {s}.outbox_event
                        (event_id, type, version, aggregate_id, aggregate_seq, occurred_at,
                         trace_id, payload)
                    SELECT :event_id, :type, :version, :agg, seq.last_seq, :occurred_at,
                           :trace_id, CAST(:payload AS jsonb)
                    FROM seq
                    RETURNING position, aggregate_seq
                ), dl AS (
                    INSERT INTO {s}.outbox_delivery (position, consumer, aggregate_id)
                    SELECT ev.position, c, :agg FROM ev, unnest(CAST(:consumers AS text[])) AS c
                )
                SELECT aggregate_seq, pg_notify(:channel, '') FROM ev
                """  # noqa: S608 - schema names come from code, never from input
            ),
            {
                "event_id": envelope.event_id,
                "type": envelope.type,
                "version": envelope.version,
                "agg": aggregate_id,
                "occurred_at": envelope.occurred_at,
                "trace_id": envelope.trace_id,
                "payload": orjson.dumps(envelope.payload).decode(),
                "consumers": consumers_of(envelope.type),
                "channel": notify_channel(s),
            },
        )
    ).one()
    envelope.aggregate_seq = row[0]
    return envelope


async def publish_many(
    db: AsyncConnection,
    *,
    producer: str,
    events: list[tuple[EventPayload, str]],
    clock: Clock = system_clock,
    trace_id: str | None = None,
) -> list[Envelope]:
    """``publish`` for many events (each with its aggregate id) in one statement, in order.
    Events of one aggregate get consecutive ``aggregate_seq`` in list order."""
    if not events:
        return []
    now = clock.now()
    trace = trace_id or current_trace_id()
    # built from values of the right types: validating each envelope again was a noticeable
    # part of publishing a large batch
    envelopes = [
        Envelope.model_construct(
            event_id=uuid7(),
            type=e.type,
            version=e.version,
            occurred_at=now,
            producer=producer,
            trace_id=trace,
            aggregate_id=agg,
            aggregate_seq=0,
            payload=e.model_dump(mode="json"),
        )
        for e, agg in events
    ]
    seqs = await _append(
        db,
        producer=producer,
        ids=[e.event_id for e in envelopes],
        events=[(e.type, e.version, e.aggregate_id) for e in envelopes],
        payloads=[orjson.dumps(e.payload).decode() for e in envelopes],
        occurred_at=now,
        trace_id=trace,
        new_aggregates=False,
    )
    for env in envelopes:
        env.aggregate_seq = seqs[env.event_id]
    return envelopes


async def append_new(
    db: AsyncConnection,
    *,
    producer: str,
    events: list[tuple[EventPayload, str]],
    clock: Clock = system_clock,
    trace_id: str | None = None,
) -> None:
    """``publish_many`` for the first events of new aggregates (ids just drawn, such as the
    case ids of a batch of new petitions), when the caller needs no envelopes back: the same
    rows, with less work on both sides. Each payload goes straight to its JSON (no envelope
    model and dict in between), and the aggregates' counter rows are inserted without looking
    for a conflict (an aggregate id that had been published before fails the statement on the
    counter's primary key: nothing is numbered twice)."""
    if not events:
        return
    now = clock.now()
    await _append(
        db,
        producer=producer,
        ids=[uuid7() for _ in events],
        events=[(e.type, e.version, agg) for e, agg in events],
        payloads=[e.model_dump_json() for e, _ in events],
        occurred_at=now,
        trace_id=trace_id or current_trace_id(),
        new_aggregates=True,
    )


@lru_cache(maxsize=32)
def _append_statement(s: str, new_aggregates: bool) -> TextClause:
    """The statement of ``_append`` for producer ``s`` (built once)."""
    on_conflict = (
        ""
        if new_aggregates
        else "ON CONFLICT (aggregate_id) "
        "DO UPDATE SET last_seq = outbox_aggregate.last_seq + EXCLUDED.last_seq"
    )
    # The wake-up is sent once per statement (an uncorrelated subquery runs once): a
    # transaction's identical notifications are delivered as one anyway.
    return text(
        f"""
        WITH input AS (
            SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS text[]),
                CAST(:versions AS smallint[]), CAST(:aggs AS text[]),
                CAST(:payloads AS jsonb[]), CAST(:consumers AS text[]))
                WITH ORDINALITY AS t(event_id, type, version, agg, payload, consumers, ord)
        ), counts AS (
            SELECT agg, count(*) AS n FROM input GROUP BY agg
        ), seq AS (
            INSERT INTO {s}.outbox_aggregate (aggregate_id, last_seq)
            SELECT agg, n FROM counts ORDER BY agg
            {on_conflict}
            RETURNING aggregate_id, last_seq
        ), numbered AS (
            SELECT input.*, seq.last_seq - counts.n
                   + row_number() OVER (PARTITION BY input.agg ORDER BY input.ord) AS aseq
            FROM input JOIN counts USING (agg) JOIN seq ON seq.aggregate_id = input.agg
        ), ev AS (
            INSERT INTO {s}.outbox_event
                (event_id, type, version, aggregate_id, aggregate_seq, occurred_at,
                 trace_id, payload)
            SELECT event_id, type, version, agg, aseq, :occurred_at, :trace_id, payload
            FROM numbered ORDER BY ord
            RETURNING position, event_id, aggregate_id, aggregate_seq
        ), dl AS (
            INSERT INTO {s}.outbox_delivery (position, consumer, aggregate_id)
            SELECT ev.position, c, ev.aggregate_id
            FROM ev JOIN input USING (event_id),
                 unnest(string_to_array(input.consumers, ',')) AS c
            ORDER BY ev.position, c
        )
        SELECT ev.event_id, ev.aggregate_seq, (SELECT pg_notify(:channel, '')) FROM ev
        """  # noqa: S608 - schema names come from code, never from input
    )


async def _append(
    db: AsyncConnection,
    *,
    producer: str,
    ids: list[uuid.UUID],
    events: list[tuple[str, int, str]],  # (type, version, aggregate id)
    payloads: list[str],  # JSON
    occurred_at: datetime,
    trace_id: str,
    new_aggregates: bool,
) -> dict[uuid.UUID, int]:
    """Insert the events, their deliveries and aggregate counters in one statement; returns
    each event's ``aggregate_seq``."""
    s = producer  # the producer's schema carries its name
    consumers: dict[str, str] = {}
    for type_, _, _ in events:
        if type_ not in consumers:
            consumers[type_] = ",".join(consumers_of(type_))
    rows = await fetch(
        db,
        _append_statement(s, new_aggregates),
        {
            "ids": ids,
            "types": [t for t, _, _ in events],
            "versions": [v for _, v, _ in events],
            "aggs": [a for _, _, a in events],
            "payloads": payloads,
            "consumers": [consumers[t] for t, _, _ in events],
            "occurred_at": occurred_at,
            "trace_id": trace_id,
            "channel": notify_channel(s),
        },
    )
    return {r[0]: r[1] for r in rows}
