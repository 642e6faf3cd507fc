"""Detected repeats in the figures, unit names, and the screening sweeps' days.

* ``case_fact.repeat_detected``: the repeat check's earlier petitions of the same person on
  the same matter (``case_repeat.earlier_repeats``), set when the check runs; a case counts
  as a repeat (重复信访, not 初信初访) when it or intake's ``prior_count`` is above zero.
* ``unit_label``: org unit names as casework's events give them (part of the read model).
* ``screening_run``: one row per local day a screening sweep ran; zero reports (零报告) are
  refused for a period no sweep has covered.

The new fact column starts empty, so facts folded before it count as they did (intake's
links only) until ``minsheng analytics rebuild`` is run once: the rebuild sets the column
from ``case_repeat`` and sums the rollups again. ``unit_label`` fills from new events, and
from the whole history on that rebuild.

Revision ID: 20261124_1130_analytics
Revises: 20261124_1029_analytics
Create Date: 2026-11-24 11:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "20261124_1130_analytics"
down_revision = "20261124_1029_analytics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "case_fact", sa.Column("repeat_detected", sa.Integer(), nullable=True), schema="analytics"
    )
    op.create_table(
        "unit_label",
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("named_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_unit_label")),
        schema="analytics",
    )
    op.create_table(
        "screening_run",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("runs", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("assessed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("items", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("as_of", name=op.f("pk_screening_run")),
        schema="analytics",
    )


def downgrade() -> None:
    op.drop_table("screening_run", schema="analytics")
    op.drop_table("unit_label", schema="analytics")
    op.drop_column("case_fact", "repeat_detected", schema="analytics")
