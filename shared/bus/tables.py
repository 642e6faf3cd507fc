"""The bus's tables, created inside each service's own schema by its Alembic history.

* ``outbox_event`` — the event log of this service (kept: it is the history analytics rebuilds
  from); written in the transaction of the state change.
* ``outbox_aggregate`` — the last ``aggregate_seq`` of each aggregate.
* ``outbox_delivery`` — one row per (event, subscriber); acknowledged only when the
  subscriber reports it recorded the event; re-sent when its lease runs out.
* ``inbox`` — events this service consumed, written in the transaction of their effect.
* ``bus_failure`` — attempts of events whose handler failed.
* ``dead_letter`` — one store for events and outbound deliveries that gave up; an operator
  lists and replays them (``minsheng deliveries``).
* ``idempotency_key`` — stored answers to client retries (integrations §5).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID


def bus_tables(metadata: MetaData) -> dict[str, Table]:
    outbox_event = Table(
        "outbox_event",
        metadata,
        Column("position", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("type", Text, nullable=False),
        Column("version", SmallInteger, nullable=False),
        Column("aggregate_id", Text, nullable=False),
        Column("aggregate_seq", Integer, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("trace_id", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        UniqueConstraint("aggregate_id", "aggregate_seq"),
    )
    outbox_aggregate = Table(
        "outbox_aggregate",
        metadata,
        Column("aggregate_id", Text, primary_key=True),
        Column("last_seq", Integer, nullable=False),
    )
    outbox_delivery = Table(
        "outbox_delivery",
        metadata,
        Column("delivery_id", BigInteger, Identity(always=True), primary_key=True),
        Column("position", BigInteger, nullable=False),
        Column("consumer", Text, nullable=False),
        Column("aggregate_id", Text, nullable=False),
        Column("leased_until", DateTime(timezone=True)),
        Column("dispatch_count", Integer, nullable=False, server_default=text("0")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("acked_at", DateTime(timezone=True)),
        Index(
            "ix_outbox_delivery_pending",
            "consumer",
            "delivery_id",
            postgresql_where=text("acked_at IS NULL"),
        ),
        Index(
            "ix_outbox_delivery_pending_aggregate",
            "consumer",
            "aggregate_id",
            "delivery_id",
            postgresql_where=text("acked_at IS NULL"),
        ),
        Index(
            "ix_outbox_delivery_leased",
            "consumer",
            "leased_until",
            postgresql_where=text("acked_at IS NULL AND leased_until IS NOT NULL"),
        ),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("producer", Text, nullable=False),
        Column("type", Text, nullable=False),
        Column("aggregate_id", Text, nullable=False),
        Column("aggregate_seq", Integer, nullable=False),
        Column("outcome", Text, nullable=False, server_default=text("'done'")),
        Column(
            "recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")
        ),
    )
    bus_failure = Table(
        "bus_failure",
        metadata,
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("attempts", Integer, nullable=False),
        Column("last_error", Text, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )
    dead_letter = Table(
        "dead_letter",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("kind", Text, nullable=False),  # 'event' | 'delivery'
        Column("ref", Text, nullable=False),  # event id, or the outbound delivery's id
        Column("target", Text, nullable=False),  # the consuming service or the partner/channel
        Column("payload", JSONB, nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("state", Text, nullable=False, server_default=text("'failed'")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("replayed_at", DateTime(timezone=True)),
        Index("ix_dead_letter_state", "state"),
    )
    idempotency_key = Table(
        "idempotency_key",
        metadata,
        Column("key_hash", Text, primary_key=True),  # hash of caller, method, path and key
        Column("request_hash", Text, nullable=False),
        Column("status_code", SmallInteger, nullable=False),
        Column("response_body", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        Index("ix_idempotency_key_expires_at", "expires_at"),
    )
    return {
        "outbox_event": outbox_event,
        "outbox_aggregate": outbox_aggregate,
        "outbox_delivery": outbox_delivery,
        "inbox": inbox,
        "bus_failure": bus_failure,
        "dead_letter": dead_letter,
        "idempotency_key": idempotency_key,
    }
