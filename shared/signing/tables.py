"""The signing table a receiving service adds to its own metadata (and Alembic history):

* ``partner_nonce`` — one row per ``(partner, key_id, nonce)`` accepted, with when it was
  accepted. A nonce accepted within the replay window is refused (integrations §0); rows
  older than the window are only history and ``purge_nonces`` deletes them. It lives in
  PostgreSQL, not Redis, so flushing Redis cannot reopen replay.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, MetaData, PrimaryKeyConstraint, Table, Text

__all__ = ["NONCE_TABLE", "nonce_table"]

NONCE_TABLE = "partner_nonce"


def nonce_table(metadata: MetaData) -> Table:
    """Add ``partner_nonce`` to ``metadata`` (the service's, whose schema it takes)."""
    return Table(
        NONCE_TABLE,
        metadata,
        Column("partner", Text, nullable=False),  # 'hotline' | 'exchange'
        Column("key_id", Text, nullable=False),
        Column("nonce", Text, nullable=False),
        Column("accepted_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("partner", "key_id", "nonce", name="pk_partner_nonce"),
        # for purge_nonces' range delete
        Index("ix_partner_nonce_accepted_at", "accepted_at"),
    )
