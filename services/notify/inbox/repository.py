"""The citizen's in-app inbox: written by the event handlers (delivered on write), read
through notify's citizen endpoints. Bodies may hold a query code, so they are encrypted."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection


async def add_items(db: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """One statement; unique per (event, recipient), so a redelivery adds nothing."""
    if not rows:
        return 0
    cols = ("e", "r", "c", "t", "k", "tp", "ti", "b", "l")
    result = await db.execute(
        text(
            "INSERT INTO notify.inbox_item (event_id, recipient_hash, case_id, tracking_no, "
            "kind, template, title, body_enc, link) "
            "SELECT * FROM unnest(CAST(:e AS uuid[]), CAST(:r AS text[]), CAST(:c AS uuid[]), "
            "CAST(:t AS text[]), CAST(:k AS text[]), CAST(:tp AS text[]), CAST(:ti AS text[]), "
            "CAST(:b AS text[]), CAST(:l AS text[])) "
            "ON CONFLICT (event_id, recipient_hash) DO NOTHING RETURNING 1"
        ),
        {k: [row.get(k) for row in rows] for k in cols},
    )
    return len(result.all())


async def list_items(
    db: AsyncConnection, *, recipient_hash: str, before: int | None, limit: int, unread: bool
) -> list[Row[Any]]:
    where = "recipient_hash = :r"
    params: dict[str, Any] = {"r": recipient_hash, "n": limit}
    if before is not None:
        where += " AND id < :b"
        params["b"] = before
    if unread:
        where += " AND read_at IS NULL"
    return list(
        (
            await db.execute(
                text(
                    "SELECT id, case_id, tracking_no, kind, template, title, body_enc, link, "  # noqa: S608 - fixed fragments only
                    f"created_at, read_at FROM notify.inbox_item WHERE {where} "
                    "ORDER BY id DESC LIMIT :n"
                ),
                params,
            )
        ).all()
    )


async def mark_read(
    db: AsyncConnection, *, item_id: int, recipient_hash: str, at: datetime
) -> Row[Any] | None:
    return (
        await db.execute(
            text(
                "UPDATE notify.inbox_item SET read_at = coalesce(read_at, :at) "
                "WHERE id = :i AND recipient_hash = :r RETURNING id, read_at"
            ),
            {"i": item_id, "r": recipient_hash, "at": at},
        )
    ).first()


async def for_case(db: AsyncConnection, case_id: uuid.UUID) -> list[Row[Any]]:
    return list(
        (
            await db.execute(
                text(
                    "SELECT id, event_id, kind, template, created_at, read_at "
                    "FROM notify.inbox_item WHERE case_id = :c ORDER BY id"
                ),
                {"c": case_id},
            )
        ).all()
    )
