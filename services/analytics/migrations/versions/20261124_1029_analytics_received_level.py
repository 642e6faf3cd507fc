"""received_level: the level of the desk that registered a letter or visit, from intake's
``intake.petition.received`` (city, district …), on case_fact for the 去市 count.

The column starts empty: facts folded before it existed count as they did (a desk visit with
no known level is 去市), and so does a rebuild of an event history from before intake carried
the level. Nothing needs rebuilding.

Revision ID: 20261124_1029_analytics
Revises: 20261124_0715_analytics
Create Date: 2026-11-24 10:29:51.590863
"""

import sqlalchemy as sa
from alembic import op

revision = "20261124_1029_analytics"
down_revision = "20261124_0715_analytics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "case_fact", sa.Column("received_level", sa.Text(), nullable=True), schema="analytics"
    )


def downgrade() -> None:
    op.drop_column("case_fact", "received_level", schema="analytics")
