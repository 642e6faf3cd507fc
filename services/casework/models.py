"""Tables of the casework schema: cases, who they are with, the clocks, approvals, notices.

A case (办件) is registered under the id intake allocated. Who may see it is recorded in
``case_access`` (one row per org unit the case is with: the petition offices of its
jurisdiction, the lead and co-units, the discipline unit of an accusation); a staff member
sees the case when one of those units lies in their org subtree. Nothing here is ever
rewritten: ``case_history`` records every act with who, when and why; clocks are extended
and paused by recorded events, not by editing their dates.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, BIT, JSONB, TSVECTOR, UUID

from shared.bus.tables import bus_tables
from shared.db import make_metadata

metadata = make_metadata("casework")
bus = bus_tables(metadata)

# The open states of the workflow (``case.workflow.OPEN``, checked by a test), for the partial
# indexes the open-case queues use
OPEN_STATUSES = (
    "accepted",
    "assigned",
    "evaluated",
    "in_progress",
    "reexam_requested",
    "registered",
    "replied",
    "review_requested",
    "reviewed",
    "signed",
)
OPEN_STATUSES_SQL = ", ".join(f"'{s}'" for s in OPEN_STATUSES)

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
    # the petition as intake normalised it (title and content redacted of phone / ID numbers)
    Column("content", Text, nullable=False, server_default=text("''")),
    Column("urgency", Text, nullable=False, server_default=text("'normal'")),
    Column("people_count", Integer, nullable=False, server_default=text("1")),
    Column("collective", Boolean, nullable=False, server_default=text("false")),
    Column("anonymous", Boolean, nullable=False, server_default=text("false")),
    Column("person_keys", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("prior_case_ids", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("external_ids", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("source_deadline", DateTime(timezone=True)),
    # sealed contact details for notices (never opened outside the roles that unmask)
    Column("pii", JSONB),
    # 建议意见类 / 检举控告类 / 申诉求决类 (domain §2), decided at acceptance
    Column("handling_path", Text),
    Column("major", Boolean, nullable=False, server_default=text("false")),
    # the petition office that owns the case, and the units handling it now
    Column("office_unit_id", Text),
    Column("lead_unit_id", Text),
    Column("co_unit_ids", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("handler_id", UUID(as_uuid=True)),
    # the body that reviews (复查) or re-examines (复核) it, when requested
    Column("review_unit_id", Text),
    # accusations: the accused units (org paths) and staff, who never see the case
    Column("accused_paths", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("accused_staff", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("route_suggestion", JSONB),  # analytics' routing suggestion with its confidence
    Column("accepted_at", DateTime(timezone=True)),
    Column("replied_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("due_at", DateTime(timezone=True)),  # the running clock that is due first
    Column("contact_attempts", Integer, nullable=False, server_default=text("0")),
    Column("contacted", Boolean, nullable=False, server_default=text("false")),
    Column("transfers", Integer, nullable=False, server_default=text("0")),
    Column("evaluation", JSONB),
    Column("search", TSVECTOR),
    # under supervision (督办): the earliest due time of its current supervisions, else NULL
    Column("supervision_due_at", DateTime(timezone=True)),
    # 领导包案: the leader who owns the case and the five 落实 (leader, lead unit, handler,
    # deadline, measures); the history keeps every earlier one
    Column("leader", JSONB),
    Index("ix_case_status", "status"),
    Index("ix_case_region_code", "region_code"),
    # the handler's queue (mine), newest first, in the page's exact order
    Index("ix_case_handler_updated", "handler_id", text("updated_at DESC"), text("case_id DESC")),
    Index("ix_case_lead_unit", "lead_unit_id", "status"),
    Index("ix_case_due_at", "due_at"),
    # the workbench's newest-first pages (keyset on updated_at, case_id)
    Index("ix_case_updated_at", text("updated_at DESC"), text("case_id DESC")),
    # the unit queue's co-unit side (协办) reads open cases only: an index of those alone, so
    # that PostgreSQL need not AND the co-units with the (unselective) status index
    Index(
        "ix_case_co_unit_open",
        "co_unit_ids",
        postgresql_using="gin",
        postgresql_where=text(f"status IN ({OPEN_STATUSES_SQL})"),
    ),
    Index(
        "ix_case_lead_unit_updated", "lead_unit_id", text("updated_at DESC"), text("case_id DESC")
    ),
    Index("ix_case_search", "search", postgresql_using="gin"),
    # the workbench's supervised / leader-owned filters: newest-first over those cases only
    Index(
        "ix_case_supervised_updated",
        text("updated_at DESC"),
        text("case_id DESC"),
        postgresql_where=text("supervision_due_at IS NOT NULL"),
    ),
    Index(
        "ix_case_leader_owned_updated",
        text("updated_at DESC"),
        text("case_id DESC"),
        postgresql_where=text("leader IS NOT NULL"),
    ),
)

# Supervisions (督办) of a case, each with its own deadline: one per 督办 act and one per
# upheld 回访复核. Current until the case is replied to or ends (``ended_at``; ``met``: by
# its due time). Never deleted.
supervision = Table(
    "supervision",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), nullable=False),
    Column("unit_id", Text, nullable=False),  # the supervising unit
    Column("origin", Text, nullable=False),  # act | verify
    Column("reason", Text, nullable=False),
    Column("notice_no", Text),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("provisional", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("met", Boolean),
    CheckConstraint("origin IN ('act', 'verify')", name="origin"),
    Index("ix_supervision_case", "case_id", "created_at"),
)

# Who did what, when and why: never rewritten. ``details`` carries the act's own data
# (a contact's method and outcome, a mediation agreement, a reply's decisions …).
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
    Column("details", JSONB),
    Column("actor_unit_id", Text),
    Index("ix_case_history_case_id", "case_id", "id"),
)

# The org units a case is with (see the module docstring); scope = any row in one's subtree.
# Each case's ``updated_at`` and a signature of its search lexemes (one bit per lexeme,
# ``search_plan.signature``), kept by the trigger ``case_signature_kept`` on the case table
# (migration 20261124_1340): a narrow table, so that a search window walks the newest cases
# in its index alone (``search_plan.windowed``).
case_signature = Table(
    "case_signature",
    metadata,
    Column("case_id", UUID(as_uuid=True), ForeignKey("casework.case.case_id"), primary_key=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("search_sig", BIT(1024), nullable=False),
    Index(
        "ix_case_signature_updated",
        text("updated_at DESC"),
        text("case_id DESC"),
        postgresql_include=["search_sig"],
    ),
)

case_access = Table(
    "case_access",
    metadata,
    Column("case_id", UUID(as_uuid=True), primary_key=True),
    Column("unit_id", Text, primary_key=True),
    Column("unit_path", Text, nullable=False),
    Column("reason", Text, nullable=False),  # office | lead | co | review | discipline
    Column("since", DateTime(timezone=True), nullable=False),
    Index(
        "ix_case_access_path",
        "unit_path",
        "case_id",
        postgresql_ops={"unit_path": "text_pattern_ops"},
    ),
)

# A unit's assignment (交办 / 转送) and its answer: signed for (签收) or objected (异议).
assignment = Table(
    "assignment",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), nullable=False),
    Column("unit_id", Text, nullable=False),
    Column("role", Text, nullable=False),  # lead (主办) | co (协办)
    Column("mode", Text, nullable=False),  # assign (交办) | transfer (转送)
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Column("assigned_by", Text, nullable=False),
    Column("state", Text, nullable=False),  # pending | signed | objected | withdrawn
    Column("answered_at", DateTime(timezone=True)),
    Column("answered_by", Text),
    Column("reason", Text),
    Column("object_due_at", DateTime(timezone=True)),
    CheckConstraint("role IN ('lead', 'co')", name="role"),
    CheckConstraint("state IN ('pending', 'signed', 'objected', 'withdrawn')", name="state"),
    Index("ix_assignment_case", "case_id"),
    Index("ix_assignment_unit_state", "unit_id", "state"),
)

# Routing rules: region × category × source → lead unit and co-units. The most specific
# matching rule wins (longest region prefix, then longest category prefix, then source).
routing_rule = Table(
    "routing_rule",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("region_prefix", Text, nullable=False, server_default=text("''")),
    Column("category_prefix", Text, nullable=False, server_default=text("''")),
    Column("source", Text),  # null: any source
    Column("lead_unit_id", Text, nullable=False),
    Column("co_unit_ids", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    Index("ix_routing_rule_match", "region_prefix", "category_prefix"),
)

# One queue for the acts that need a head's sign-off.
approval = Table(
    "approval",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),  # extend | refuse | refuse_again | reply | divert
    Column("approver_unit_id", Text, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("request", JSONB, nullable=False),
    Column("state", Text, nullable=False, server_default=text("'pending'")),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", Text),
    Column("comment", Text),
    CheckConstraint("state IN ('pending', 'approved', 'returned')", name="state"),
    Index("ix_approval_unit_state", "approver_unit_id", "state"),
    Index(
        "ux_approval_pending",
        "case_id",
        "kind",
        unique=True,
        postgresql_where=text("state = 'pending'"),
    ),
)

# The legal clocks of a case (domain §2). Extensions and pauses are rows of their own.
case_clock = Table(
    "case_clock",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),  # register | accept | object | sign | handle | …
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("days", Integer),
    Column("hours", Integer),
    Column("working_days", Boolean, nullable=False, server_default=text("false")),
    Column("policy", Text, nullable=False),  # which layer set it, for the explanation
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("provisional", Boolean, nullable=False, server_default=text("false")),
    Column("extended_days", Integer, nullable=False, server_default=text("0")),
    Column("paused_at", DateTime(timezone=True)),
    Column("stopped_at", DateTime(timezone=True)),  # met (or no longer running)
    Column("warned_at", DateTime(timezone=True)),
    Column("missed_at", DateTime(timezone=True)),
    Index("ix_case_clock_case", "case_id"),
    Index("ix_case_clock_running", "due_at", postgresql_where=text("stopped_at IS NULL")),
    Index(
        "ux_case_clock_running_kind",
        "case_id",
        "kind",
        unique=True,
        postgresql_where=text("stopped_at IS NULL"),
    ),
)

# Extensions (延期) and pauses (a hearing) of a clock: recorded, never rewriting it.
clock_event = Table(
    "clock_event",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("clock_id", BigInteger, nullable=False),
    Column("case_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),  # extend | pause | resume | recompute
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("days", Integer),
    Column("due_before", DateTime(timezone=True)),
    Column("due_after", DateTime(timezone=True)),
    Index("ix_clock_event_clock", "clock_id"),
)

# Deadline policies layered over the statutory defaults: the most specific match wins.
deadline_policy = Table(
    "deadline_policy",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("clock", Text, nullable=False),
    Column("region_prefix", Text, nullable=False, server_default=text("''")),
    Column("source", Text),
    Column("case_type", Text),  # a category prefix or a hotline type (utilities, complex …)
    Column("urgency", Text),
    Column("days", Integer),
    Column("hours", Integer),
    Column("working_days", Boolean, nullable=False, server_default=text("false")),
    Column("label", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    CheckConstraint("(days IS NULL) <> (hours IS NULL)", name="days_or_hours"),
)

# Holidays and make-up working days (调休) entered from the State Council notice; they win
# over the chinesecalendar package. A year listed in holiday_year is known in full.
holiday = Table(
    "holiday",
    metadata,
    Column("day", Date, primary_key=True),
    Column("kind", Text, nullable=False),  # holiday | workday
    Column("name", Text, nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False),
    Column("entered_by", Text, nullable=False),
    CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),
)

holiday_year = Table(
    "holiday_year",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("loaded_by", Text, nullable=False),
    Column("source", Text, nullable=False),  # e.g. 国办发明电〔2026〕N号
)

# Notices (告知书, 意见书 …): rendered from a versioned template, stored, delivery recorded.
notice = Table(
    "notice",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("number", Text, nullable=False, unique=True),  # 文号
    Column("template_version", Text, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("issued_by", Text, nullable=False),
    Column("docx_key", Text, nullable=False),
    Column("docx_sha256", Text, nullable=False),
    Column("pdf_key", Text, nullable=False),
    Column("pdf_sha256", Text, nullable=False),
    Column("delivery_method", Text),  # in_person | post | electronic
    Column("delivery_outcome", Text),  # signed | refused | sent
    Column("delivered_at", DateTime(timezone=True)),
    Column("delivery_recorded_by", Text),
    Index("ix_notice_case", "case_id"),
)
