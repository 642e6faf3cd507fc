"""The staff inbox: alerts addressed to a unit (optionally to one role in it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection


async def add_alerts(db: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    cols = ("e", "u", "k", "ro", "c", "t", "a", "x", "d")
    result = await db.execute(
        text(
            "INSERT INTO notify.staff_alert (event_id, unit_id, kind, role, case_id, "
            "tracking_no, accusation, text, due_at) "
            "SELECT * FROM unnest(CAST(:e AS uuid[]), CAST(:u AS text[]), CAST(:k AS text[]), "
            "CAST(:ro AS text[]), CAST(:c AS uuid[]), CAST(:t AS text[]), "
            "CAST(:a AS boolean[]), CAST(:x AS text[]), CAST(:d AS timestamptz[])) "
            "ON CONFLICT (event_id, unit_id, kind) DO NOTHING RETURNING 1"
        ),
        {k: [row.get(k) for row in rows] for k in cols},
    )
    return len(result.all())


def _visible(roles: list[str], discipline: bool) -> tuple[str, dict[str, Any]]:
    """Alerts of the unit that this staff member may see: role-addressed ones only with the
    role; accusations (检举控告) only by the unit's discipline inspectors."""
    where = "(role IS NULL OR role = ANY(CAST(:roles AS text[])))"
    if not discipline:
        where += " AND NOT accusation"
    return where, {"roles": roles}


async def list_alerts(
    db: AsyncConnection,
    *,
    unit_id: str,
    roles: list[str],
    discipline: bool,
    before: int | None,
    limit: int,
    unread: bool,
) -> list[Row[Any]]:
    where, params = _visible(roles, discipline)
    params.update({"u": unit_id, "n": limit})
    where = "unit_id = :u AND " + where
    if before is not None:
        where += " AND id < :b"
        params["b"] = before
    if unread:
        where += " AND read_at IS NULL"
    return list(
        (
            await db.execute(
                text(
                    "SELECT id, kind, case_id, tracking_no, accusation, text, due_at, created_at, "  # noqa: S608 - fixed fragments only
                    f"read_at FROM notify.staff_alert WHERE {where} "
                    "ORDER BY id DESC LIMIT :n"
                ),
                params,
            )
        ).all()
    )


async def mark_read(
    db: AsyncConnection,
    *,
    alert_id: int,
    unit_id: str,
    roles: list[str],
    discipline: bool,
    at: datetime,
) -> Row[Any] | None:
    where, params = _visible(roles, discipline)
    params.update({"i": alert_id, "u": unit_id, "at": at})
    return (
        await db.execute(
            text(
                "UPDATE notify.staff_alert SET read_at = coalesce(read_at, :at) "  # noqa: S608
                f"WHERE id = :i AND unit_id = :u AND {where} RETURNING id, read_at"
            ),
            params,
        )
    ).first()
