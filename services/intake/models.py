"""Tables of the intake schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.bus.tables import bus_tables
from shared.db import make_metadata
from shared.signing.tables import nonce_table

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
    Column("urgency", Text, nullable=False, server_default=text("'normal'")),
    Column("source_category", Text),  # the source's own label
    Column("address_enc", Text),
    Column("lat", Float),
    Column("lng", Float),
    Column("source_deadline", DateTime(timezone=True)),
    Column("quality_flags", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("public_attention", Integer),
    Column("registered_by", Text),  # first-contact responsibility (首问负责)
    Column("raw_enc", Text),  # the partner's record as received, encrypted
    Column("revision", Integer, nullable=False, server_default=text("1")),
    Column("updated_at", DateTime(timezone=True)),
    Index("ix_petition_person_id", "person_id"),
    Index("ix_petition_received_at", "received_at"),
)

# Everyone who signed or came, in order; identifiers encrypted, linked people by keyed hash.
petitioner = Table(
    "petitioner",
    metadata,
    Column("case_id", UUID(as_uuid=True), ForeignKey("intake.petition.case_id"), primary_key=True),
    Column("ordinal", SmallInteger, primary_key=True),
    Column("person_id", UUID(as_uuid=True), ForeignKey("intake.person.person_id")),
    Column("representative", Boolean, nullable=False, server_default=text("false")),
    Column("pii_enc", Text, nullable=False),  # {name, phone, id_number, address, unverified}
    Index("ix_petitioner_person_id", "person_id"),
)

# A partner's own id for a petition (12345 order_no, provincial case no, mailbox id, import
# row id): the idempotency key of pushes, with the revision last applied.
external_ref = Table(
    "external_ref",
    metadata,
    Column("system", Text, primary_key=True),
    Column("external_id", Text, primary_key=True),
    Column("case_id", UUID(as_uuid=True), ForeignKey("intake.petition.case_id"), nullable=False),
    Column("revision", Integer, nullable=False, server_default=text("1")),
    Column("received_on", Date, nullable=False),  # Asia/Shanghai day, for reconciliation
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("ix_external_ref_case_id", "case_id"),
    Index("ix_external_ref_system_received_on", "system", "received_on"),
)

# The history of a petition as intake saw it: amendments, supplements, corrections,
# cancellations. The original record is never overwritten without a row here.
petition_history = Table(
    "petition_history",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("action", Text, nullable=False),  # amended | supplemented | corrected | withdrawn …
    Column("actor", Text, nullable=False),
    Column("revision", Integer),
    Column("changes_enc", Text),  # the fields before and after, encrypted
    Index("ix_petition_history_case_id", "case_id", "id"),
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
    # the case's first running deadline after this milestone (casework's clocks)
    Column("due_at", DateTime(timezone=True)),
    # on an assignment / transfer (交办/转送, 改派): the lead unit's name (its id when the
    # event names none), as the partners are told it; NULL on every other milestone
    Column("lead_unit_name", Text),
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


# The hotline's own call-backs to callers (12345 回访), one per (order, visit time).
hotline_evaluation = Table(
    "hotline_evaluation",
    metadata,
    Column("order_no", Text, primary_key=True),
    Column("visited_at", DateTime(timezone=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), nullable=False),
    Column("contacted", Boolean, nullable=False),
    Column("solved", Boolean),
    Column("rating", Text),
    Column("comment_enc", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# Partner nonces accepted within the replay window (integrations §0), in PostgreSQL so that
# flushing Redis does not reopen replay.
partner_nonce = nonce_table(metadata)


# Earlier petitions on the same matter that a partner named (the province's prior_case_nos),
# resolved to our case where we know it.
prior_case_link = Table(
    "prior_case_link",
    metadata,
    Column("case_id", UUID(as_uuid=True), ForeignKey("intake.petition.case_id"), primary_key=True),
    Column("system", Text, primary_key=True),
    Column("prior_external_id", Text, primary_key=True),
    Column("prior_case_id", UUID(as_uuid=True)),
)

# A repeat push of a known petition with different content: nothing changes, but the copy is
# kept for audit (integrations §3).
external_copy = Table(
    "external_copy",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("system", Text, nullable=False),
    Column("external_id", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("raw_hash", Text, nullable=False),
    Column("raw_enc", Text, nullable=False),
    UniqueConstraint("system", "external_id", "raw_hash"),
)


# Files a petitioner attached; the bytes live in the object store (the data dir in the
# embedded run), addressed by their sha256.
attachment = Table(
    "attachment",
    metadata,
    Column("attachment_id", UUID(as_uuid=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), ForeignKey("intake.petition.case_id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("media_type", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("storage_key", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("ix_attachment_case_id", "case_id"),
)
