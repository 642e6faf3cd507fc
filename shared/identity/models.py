"""Tables of the identity schema: org units, staff accounts and staff sessions.

Org units form a tree stored as a materialised path (``/SZ/SZBA/SZBA-ZJJ/``): a subtree is
``path LIKE '/SZ/SZBA/%'``, served by a ``text_pattern_ops`` index whatever the collation.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from shared.db import make_metadata

metadata = make_metadata("identity")

ORG_UNIT_KINDS = (
    "petition_office",
    "department",
    "street",
    "community",
    "discipline",
    "government",
)

org_unit = Table(
    "org_unit",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("parent_id", Text, ForeignKey("identity.org_unit.id"), nullable=True),
    Column("path", Text, nullable=False),
    Column("region_codes", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("duties", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    CheckConstraint(
        "kind IN ('petition_office', 'department', 'street', 'community', 'discipline', "
        "'government')",
        name="kind",
    ),
    CheckConstraint("path LIKE '/%/'", name="path_shape"),
    # Unique, and text_pattern_ops so that prefix LIKE uses it under any collation.
    Index(
        "ix_org_unit_path",
        "path",
        unique=True,
        postgresql_ops={"path": "text_pattern_ops"},
    ),
    Index("ix_org_unit_parent_id", "parent_id"),
)

staff = Table(
    "staff",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("org_unit_id", Text, ForeignKey("identity.org_unit.id"), nullable=False),
    Column("roles", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("password_hash", Text, nullable=False),
    # Stored as handed over: encryption at rest is the crypto module's business.
    Column("totp_secret", Text, nullable=True),
    Column("totp_enabled", Boolean, nullable=False, server_default=text("false")),
    # The last accepted TOTP time step: a code is never accepted twice.
    Column("totp_last_step", Integer, nullable=True),
    Column("failed_logins", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("ix_staff_org_unit_id", "org_unit_id"),
)

staff_session = Table(
    "staff_session",
    metadata,
    # The JWT ``sid`` claim.
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("staff_id", UUID(as_uuid=True), ForeignKey("identity.staff.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("user_agent", Text, nullable=True),
    Index("ix_staff_session_staff_id", "staff_id"),
)
