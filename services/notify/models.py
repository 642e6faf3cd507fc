"""Tables of the notify schema.

* ``message`` — one outbound message per (event, recipient, channel) for the channels that
  leave the system (SMS, e-mail); the sender loop works through it.
* ``inbox_item`` — the citizen's in-app inbox (delivered on write), same uniqueness.
* ``staff_alert`` — the staff inbox of a unit (new assignment, deadlines, approvals).
* ``case_contact`` — what notify keeps of a case to reach its petitioner and partners later
  (sealed contact details, partner ids, the units involved), projected from casework's events.
* ``evaluation`` — the 回访 evaluation of a replied case (open → rated | expired).
* ``partner_callback`` — hotline status callbacks and provincial results, head of line per
  (partner, stream), retried for ever.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

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
    Column("channel", Text, nullable=False),  # sms | email
    Column("kind", Text, nullable=False),  # receipt | otp | acceptance | progress | reply | …
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
    # additive, notify issue
    Column("urgent", Boolean, nullable=False, server_default=text("false")),
    Column("template", Text),  # name@version of the wording
    Column("subject_enc", Text),  # e-mail subject
    Column("delivery_status", Text),  # the provider's receipt: delivered | undelivered
    Column("delivered_at", DateTime(timezone=True)),
    Column("held", Text),  # why the message waits: quiet_hours | rate_limited
    UniqueConstraint("event_id", "recipient_hash", "channel"),
    Index("ix_message_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    Index("ix_message_case_id", "case_id"),
    Index(
        "ix_message_recent_sms",
        "recipient_hash",
        "sent_at",
        postgresql_where=text("channel = 'sms' AND sent_at IS NOT NULL"),
    ),
)

inbox_item = Table(
    "inbox_item",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("recipient_hash", Text, nullable=False),  # the citizen's person key
    Column("case_id", UUID(as_uuid=True)),
    Column("tracking_no", Text),
    Column("kind", Text, nullable=False),
    Column("template", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("body_enc", Text, nullable=False),
    Column("link", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("read_at", DateTime(timezone=True)),
    UniqueConstraint("event_id", "recipient_hash"),
    Index("ix_inbox_item_recipient", "recipient_hash", "id"),
    Index("ix_inbox_item_case_id", "case_id"),
)

staff_alert = Table(
    "staff_alert",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("unit_id", Text, nullable=False),
    Column("kind", Text, nullable=False),  # assigned | deadline_approaching | … | approval
    Column("role", Text),  # only staff with this role see it (approvals: unit_lead)
    Column("case_id", UUID(as_uuid=True), nullable=False),
    Column("tracking_no", Text, nullable=False),
    Column("accusation", Boolean, nullable=False, server_default=text("false")),
    Column("text", Text, nullable=False),
    Column("due_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("read_at", DateTime(timezone=True)),
    UniqueConstraint("event_id", "unit_id", "kind"),
    Index("ix_staff_alert_unit", "unit_id", "id"),
)

case_contact = Table(
    "case_contact",
    metadata,
    Column("case_id", UUID(as_uuid=True), primary_key=True),
    Column("tracking_no", Text, nullable=False),
    Column("recipient_hash", Text),  # phone hash: the citizen's inbox key
    Column("pii_enc", Text),  # sealed-at-rest name, phone, e-mail
    Column("source", Text),
    Column("urgency", Text, nullable=False, server_default=text("'normal'")),
    Column("accusation", Boolean, nullable=False, server_default=text("false")),
    Column("external_ids", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("office_unit_id", Text),
    Column("lead_unit_id", Text),
    Column("lead_unit_name", Text),
    Column("co_unit_ids", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("in_progress_sent", Boolean, nullable=False, server_default=text("false")),
    Column("registered_at", DateTime(timezone=True)),
)

evaluation = Table(
    "evaluation",
    metadata,
    Column("case_id", UUID(as_uuid=True), primary_key=True),
    Column("tracking_no", Text, nullable=False),
    Column("recipient_hash", Text),
    Column("unit_id", Text),
    Column("unit_name", Text),
    Column("province_case_no", Text),
    Column("status", Text, nullable=False, server_default=text("'open'")),
    Column("invited_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("unit_rating", Text),
    Column("office_rating", Text),
    Column("reason", Text),  # redacted
    Column("rated_at", DateTime(timezone=True)),
    Column("channel", Text),  # link | citizen | expired | staff (casework's evaluate act)
    Index("ix_evaluation_open", "expires_at", postgresql_where=text("status = 'open'")),
    Index("ix_evaluation_recipient", "recipient_hash"),
)

partner_callback = Table(
    "partner_callback",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("partner", Text, nullable=False),  # hotline | exchange
    Column("stream", Text, nullable=False),  # order_no or province_case_no: head of line
    Column("event_id", UUID(as_uuid=True), nullable=False),  # what the partner de-duplicates
    Column("case_id", UUID(as_uuid=True)),
    Column("status_sent", Text, nullable=False),  # the status or milestone sent
    Column("body", JSONB, nullable=False),
    Column("state", Text, nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column(
        "next_attempt_at", DateTime(timezone=True), nullable=False, server_default=text("now()")
    ),
    Column("leased_until", DateTime(timezone=True)),
    Column("first_failed_at", DateTime(timezone=True)),
    Column("alerted_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("partner", "event_id"),
    Index(
        "ix_partner_callback_head",
        "partner",
        "stream",
        "id",
        postgresql_where=text("state = 'pending'"),
    ),
    Index("ix_partner_callback_due", "next_attempt_at", postgresql_where=text("state = 'pending'")),
    Index("ix_partner_callback_case_id", "case_id"),
)
