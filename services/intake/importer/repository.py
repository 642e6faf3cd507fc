"""The importer's own queries, set-based: one statement per batch, not one per row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.petition import repository as petition_repo


async def lock_ids(db: AsyncConnection, *, system: str, ids: list[str]) -> None:
    """Transaction locks on the batch's external ids (in a fixed order, so two imports of
    overlapping files wait for each other instead of deadlocking or double-inserting)."""
    await petition_repo.lock_external(db, system=system, ids=ids)


async def known_ids(db: AsyncConnection, *, system: str, ids: list[str]) -> set[str]:
    """The ids already imported (a hint when read without the locks)."""
    rows = await db.execute(
        text(
            "SELECT external_id FROM intake.external_ref "
            "WHERE system = :s AND external_id = ANY(CAST(:ids AS text[]))"
        ),
        {"s": system, "ids": ids},
    )
    return {r[0] for r in rows}


async def known(db: AsyncConnection, *, system: str, ids: list[str]) -> dict[str, str | None]:
    """The ids already imported, with the encrypted raw record kept on their petition."""
    rows = await db.execute(
        text(
            "SELECT r.external_id, p.raw_enc FROM intake.external_ref r "
            "JOIN intake.petition p USING (case_id) "
            "WHERE r.system = :s AND r.external_id = ANY(CAST(:ids AS text[]))"
        ),
        {"s": system, "ids": ids},
    )
    return {r.external_id: r.raw_enc for r in rows}


async def keep_copies(
    db: AsyncConnection, *, system: str, received_at: datetime, copies: list[dict[str, Any]]
) -> int:
    """Other versions of known petitions, once each (``external_copy``); returns how many
    were new."""
    if not copies:
        return 0
    rows = await db.execute(
        text(
            "INSERT INTO intake.external_copy (system, external_id, received_at, raw_hash, "
            "raw_enc) SELECT :s, e, :at, h, r FROM unnest(CAST(:e AS text[]), "
            "CAST(:h AS text[]), CAST(:r AS text[])) AS c(e, h, r) "
            "ON CONFLICT DO NOTHING RETURNING 1"
        ),
        {
            "s": system,
            "at": received_at,
            "e": [c["external_id"] for c in copies],
            "h": [c["raw_hash"] for c in copies],
            "r": [c["raw_enc"] for c in copies],
        },
    )
    return len(rows.all())
