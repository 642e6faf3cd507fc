"""initial

Revision ID: 20261124_0300_identity
Revises:
Create Date: 2026-11-24 03:00:27.174782
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "20261124_0300_identity"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "org_unit",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Text(), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column(
            "region_codes",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "duties",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('petition_office', 'department', 'street', 'community', 'discipline', 'government')",
            name=op.f("ck_org_unit_kind"),
        ),
        sa.CheckConstraint("path LIKE '/%/'", name=op.f("ck_org_unit_path_shape")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["identity.org_unit.id"], name=op.f("fk_org_unit_parent_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_unit")),
        schema="identity",
    )
    op.create_index(
        "ix_org_unit_parent_id", "org_unit", ["parent_id"], unique=False, schema="identity"
    )
    op.create_index(
        "ix_org_unit_path",
        "org_unit",
        ["path"],
        unique=True,
        schema="identity",
        postgresql_ops={"path": "text_pattern_ops"},
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("org_unit_id", sa.Text(), nullable=False),
        sa.Column(
            "roles",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_secret", sa.Text(), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["identity.org_unit.id"], name=op.f("fk_staff_org_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_username")),
        schema="identity",
    )
    op.create_index(
        "ix_staff_org_unit_id", "staff", ["org_unit_id"], unique=False, schema="identity"
    )
    op.create_table(
        "staff_session",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("staff_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["identity.staff.id"], name=op.f("fk_staff_session_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
        schema="identity",
    )
    op.create_index(
        "ix_staff_session_staff_id", "staff_session", ["staff_id"], unique=False, schema="identity"
    )


def downgrade() -> None:
    op.drop_index("ix_staff_session_staff_id", table_name="staff_session", schema="identity")
    op.drop_table("staff_session", schema="identity")
    op.drop_index("ix_staff_org_unit_id", table_name="staff", schema="identity")
    op.drop_table("staff", schema="identity")
    op.drop_index(
        "ix_org_unit_path",
        table_name="org_unit",
        schema="identity",
        postgresql_ops={"path": "text_pattern_ops"},
    )
    op.drop_index("ix_org_unit_parent_id", table_name="org_unit", schema="identity")
    op.drop_table("org_unit", schema="identity")
