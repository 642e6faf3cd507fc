"""Tables of the notify schema."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from shared.bus.tables import bus_tables
from shared.db import make_metadata

metadata = make_metadata("notify")
bus = bus_tables(metadata)

# One row per (event, recipient, channel): re-delivering an event cannot send twice.
message = Table(
    "message",
    metadata,
    Column("message_id", UUID(as_uuid=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("recipient_hash", Text, nullable=False),
    Column("channel", Text, nullable=False),  # sms | email | inbox
    Column("kind", Text, nullable=False),  # receipt | otp | …
    Column("case_id", UUID(as_uuid=True)),
    Column("recipient_enc", Text, nullable=False),
    Column("body_enc", Text, nullable=False),  # bodies may hold a query code or one-time code
    Column("status", Text, nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column(
        "next_attempt_at", DateTime(timezone=True), nullable=False, server_default=text("now()")
    ),
    Column("leased_until", DateTime(timezone=True)),
    Column("provider_ref", Text),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("event_id", "recipient_hash", "channel"),
    Index("ix_message_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    Index("ix_message_case_id", "case_id"),
)
