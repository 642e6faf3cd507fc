"""Who may see a case (architecture §2.6 and domain §2, Art. 30).

A staff member sees a case when one of the org units in its ``case_access`` rows lies in
their org subtree — the petition offices of its jurisdiction, the units handling it, the body
reviewing it. An accusation (检举控告) is seen only by discipline inspectors (纪检监察), and
never by the accused: not by staff of an accused unit or any unit below it, not by an
accused person, whatever the org tree says. Anything else answers 404, as if absent.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Text,
    and_,
    any_,
    cast,
    exists,
    false,
    literal,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.models import case, case_access
from shared.api.errors import not_found
from shared.identity.principal import Principal
from shared.identity.roles import DISCIPLINE_INSPECTOR
from shared.identity.scope import subtree_condition


def _root(principal: Principal) -> str | None:
    if not principal.is_staff or not principal.org_path:
        return None
    return principal.org_path if principal.org_path.endswith("/") else principal.org_path + "/"


def own_paths(principal: Principal) -> list[str]:
    """The caller's org path and every path above it: ``/a/``, ``/a/b/``, ``/a/b/c/``."""
    parts = [p for p in (_root(principal) or "").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def not_accused(principal: Principal, rows: FromClause = case) -> ColumnElement[bool]:
    """The caller is neither in an accused unit's subtree (one of their own paths is an
    accused path) nor an accused person."""
    return and_(
        not_(rows.c.accused_paths.overlap(cast(own_paths(principal), ARRAY(Text)))),
        not_(literal(principal.subject) == any_(rows.c.accused_staff)),
    )


def visible(principal: Principal, rows: FromClause = case) -> ColumnElement[bool]:
    """The condition on ``casework.case`` rows this caller may see. ``rows`` may be a
    subquery of the case table that carries ``case_id``, ``accusation``, ``accused_paths``
    and ``accused_staff``."""
    root = _root(principal)
    if root is None:
        return false()
    in_subtree = exists(
        select(1).where(
            case_access.c.case_id == rows.c.case_id,
            subtree_condition(case_access.c.unit_path, root),
        )
    )
    accusation_ok = (
        not_accused(principal, rows) if principal.has_role(DISCIPLINE_INSPECTOR) else false()
    )
    return and_(in_subtree, or_(rows.c.accusation.is_(False), accusation_ok))


async def load(
    db: AsyncConnection, principal: Principal, case_id: str, *, for_update: bool = False
) -> dict[str, Any]:
    """The case row if the caller may see it, else 404 (unknown ids look the same)."""
    try:
        cid = uuid.UUID(case_id)
    except ValueError:
        raise not_found("办件不存在", "case not found") from None
    q = select(case).where(case.c.case_id == cid, visible(principal))
    if for_update:
        q = q.with_for_update(of=case)
    row = (await db.execute(q)).mappings().first()
    if row is None:
        raise not_found("办件不存在", "case not found")
    return dict(row)


async def grant(
    db: AsyncConnection, *, case_id: uuid.UUID, units: list[tuple[str, str, str]], at: Any
) -> None:
    """Add access rows (unit id, unit path, reason); a unit already there keeps its row."""
    if not units:
        return
    await db.execute(
        text(
            "INSERT INTO casework.case_access (case_id, unit_id, unit_path, reason, since) "
            "SELECT :case_id, u, p, r, :at FROM unnest(CAST(:u AS text[]), CAST(:p AS text[]), "
            "CAST(:r AS text[])) AS x(u, p, r) ON CONFLICT (case_id, unit_id) DO NOTHING"
        ),
        {
            "case_id": case_id,
            "u": [u for u, _, _ in units],
            "p": [p for _, p, _ in units],
            "r": [r for _, _, r in units],
            "at": at,
        },
    )


async def revoke(db: AsyncConnection, *, case_id: uuid.UUID, unit_ids: list[str]) -> None:
    """Remove handling units' rows (a reassigned unit no longer sees the case); the office
    and review rows stay."""
    if unit_ids:
        await db.execute(
            text(
                "DELETE FROM casework.case_access WHERE case_id = :c AND unit_id = ANY(:u) "
                "AND reason IN ('lead', 'co')"
            ),
            {"c": case_id, "u": unit_ids},
        )


async def revoke_units(db: AsyncConnection, *, case_id: uuid.UUID, unit_paths: list[str]) -> None:
    """Remove every access row of these units and the units below them."""
    for path in unit_paths:
        await db.execute(
            text(
                "DELETE FROM casework.case_access WHERE case_id = :c AND starts_with(unit_path, :p)"
            ),
            {"c": case_id, "p": path},
        )
