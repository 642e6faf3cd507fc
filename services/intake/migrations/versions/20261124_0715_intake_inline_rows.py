"""Petition and outbox rows stored inline: no TOAST compression attempt below 8 kB

A petition row carries its text and the encrypted raw record (base64 of ciphertext, which
does not compress), an outbox row the event's payload; both are usually 2–4 kB. Above the
default 2 kB PostgreSQL first tries to compress the widest values (pglz, failing on
ciphertext) and then moves them out of line into the TOAST table: that was about a third of
the database's time for an imported petition. With ``toast_tuple_target = 8160`` rows up to
a page stay inline and uncompressed; larger ones are toasted as before. Nothing to rewrite:
existing rows stay as they are.

Revision ID: 20261124_0715_intake
Revises: 20261124_0552_intake
Create Date: 2026-11-24 07:15:46.616827
"""

from alembic import op

revision = "20261124_0715_intake"
down_revision = "20261124_0552_intake"
branch_labels = None
depends_on = None

_TABLES = ("petition", "outbox_event")


def upgrade() -> None:
    for table in _TABLES:
        op.execute(f"ALTER TABLE intake.{table} SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    for table in _TABLES:
        op.execute(f"ALTER TABLE intake.{table} RESET (toast_tuple_target)")
