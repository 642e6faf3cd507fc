"""milestone_unit: the unit a case was assigned or transferred to, on its public milestone

Open311's ``agency_responsible`` (integrations §4) is the unit handling the case, from the
latest assignment milestone. Earlier assignment rows keep NULL (their unit is not in the
projection): such a request shows its category's department until its next assignment.

Revision ID: 20261207_0007_intake
Revises: 20261124_0715_intake
Create Date: 2026-12-07 00:07:07.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "20261207_0007_intake"
down_revision = "20261124_0715_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "public_milestone",
        sa.Column("lead_unit_name", sa.Text(), nullable=True),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_column("public_milestone", "lead_unit_name", schema="intake")
