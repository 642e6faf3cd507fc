"""Tables of the casework schema."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Identity, Index, Table, Text, text
from sqlalchemy.dialects.postgresql import UUID

from shared.bus.tables import bus_tables
from shared.db import make_metadata

metadata = make_metadata("casework")
bus = bus_tables(metadata)

case = Table(
    "case",
    metadata,
    Column("case_id", UUID(as_uuid=True), primary_key=True),  # allocated by intake
    Column("tracking_no", Text, nullable=False, unique=True),
    Column("source", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("category_code", Text),
    Column("region_code", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("accusation", Boolean, nullable=False, server_default=text("false")),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_case_status", "status"),
    Index("ix_case_region_code", "region_code"),
)

# Who did what, when and why: never rewritten.
case_history = Table(
    "case_history",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("action", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("from_status", Text),
    Column("to_status", Text),
    Column("reason", Text),
    Column("public", Boolean, nullable=False, server_default=text("false")),
    Index("ix_case_history_case_id", "case_id", "id"),
)
