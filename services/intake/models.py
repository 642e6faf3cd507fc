"""Tables of the intake schema."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from shared.bus.tables import bus_tables
from shared.db import make_metadata

metadata = make_metadata("intake")
bus = bus_tables(metadata)

person = Table(
    "person",
    metadata,
    Column("person_id", UUID(as_uuid=True), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# Keyed hashes of a person's identifiers (phone, ID number): the same person across channels.
person_identifier = Table(
    "person_identifier",
    metadata,
    Column("kind", Text, primary_key=True),
    Column("value_hash", Text, primary_key=True),
    Column("person_id", UUID(as_uuid=True), ForeignKey("intake.person.person_id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("ix_person_identifier_person_id", "person_id"),
)

petition = Table(
    "petition",
    metadata,
    Column("case_id", UUID(as_uuid=True), primary_key=True),
    Column("tracking_no", Text, nullable=False, unique=True),
    Column("query_code_hash", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("title", Text, nullable=False),  # redacted of phone and ID numbers
    Column("content", Text, nullable=False),  # redacted of phone and ID numbers
    Column("original_enc", Text),  # the text as submitted, encrypted
    Column("category_code", Text),
    Column("region_code", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("people_count", SmallInteger, nullable=False, server_default=text("1")),
    Column("anonymous", Boolean, nullable=False, server_default=text("false")),
    Column("accusation", Boolean, nullable=False, server_default=text("false")),
    Column("person_id", UUID(as_uuid=True), ForeignKey("intake.person.person_id")),
    Column("pii_enc", Text),  # encrypted {name, phone, id_number, address}
    Column("status", Text, nullable=False, server_default=text("'received'")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("ix_petition_person_id", "person_id"),
    Index("ix_petition_received_at", "received_at"),
)

# The public tracking view, projected from casework's milestones.
public_milestone = Table(
    "public_milestone",
    metadata,
    Column("case_id", UUID(as_uuid=True), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("milestone", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("case_id", "milestone", "occurred_at"),
)

# Brute-force guard of the tracking view (integrations §5). In PostgreSQL so a Redis flush
# does not reopen guessing.
tracking_guard = Table(
    "tracking_guard",
    metadata,
    Column("tracking_no", Text, primary_key=True),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# One-time sign-in codes for citizens (sent by SMS through notify). Only keyed hashes stored.
otp_request = Table(
    "otp_request",
    metadata,
    Column("request_id", UUID(as_uuid=True), primary_key=True),
    Column("phone_hash", Text, nullable=False),
    Column("code_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("used_at", DateTime(timezone=True)),
    Index("ix_otp_request_phone_hash_created_at", "phone_hash", "created_at"),
)
