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
    bindparam,
    exists,
    false,
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
from shared.identity.scope import escape_like


def _root(principal: Principal) -> str | None:
    if not principal.is_staff or not principal.org_path:
        return None
    return principal.org_path if principal.org_path.endswith("/") else principal.org_path + "/"


def own_paths(principal: Principal) -> list[str]:
    """The caller's org path and every path above it: ``/a/``, ``/a/b/``, ``/a/b/c/``."""
    parts = [p for p in (_root(principal) or "").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def scope_kind(principal: Principal) -> str:
    """What decides the shape of the caller's visibility condition: ``none`` (sees no case),
    ``staff``, or ``discipline`` (a discipline inspector: accusations too, unless accused)."""
    if _root(principal) is None:
        return "none"
    return "discipline" if principal.has_role(DISCIPLINE_INSPECTOR) else "staff"


def scope_params(principal: Principal) -> dict[str, Any]:
    """The values of ``visible_to``'s parameters for this caller."""
    return {
        "scope_like": escape_like(_root(principal) or "") + "%",
        "scope_own_paths": own_paths(principal),
        "scope_subject": principal.subject,
    }


def _param(name: str, type_: Any, values: dict[str, Any] | None) -> Any:
    if values is None:
        return bindparam(name, type_=type_)
    return bindparam(name, values[name], type_=type_)


def in_subtree(
    kind: str, rows: FromClause = case, values: dict[str, Any] | None = None
) -> ColumnElement[bool]:
    """The first half of ``visible_to``: one of the case's units lies in the caller's org
    subtree. ``rows`` need only carry ``case_id``."""
    if kind == "none":
        return false()
    return exists(
        select(1).where(
            case_access.c.case_id == rows.c.case_id,
            case_access.c.unit_path.like(_param("scope_like", Text, values), escape="\\"),
        )
    )


def accusation_allowed(
    kind: str, rows: FromClause = case, values: dict[str, Any] | None = None
) -> ColumnElement[bool]:
    """The second half of ``visible_to``: the case is no accusation, or the caller is a
    discipline inspector neither in an accused unit's subtree (one of their own paths is an
    accused path) nor accused in person."""
    if kind != "discipline":
        return rows.c.accusation.is_(False)
    return or_(
        rows.c.accusation.is_(False),
        and_(
            not_(rows.c.accused_paths.overlap(_param("scope_own_paths", ARRAY(Text), values))),
            not_(_param("scope_subject", Text, values) == any_(rows.c.accused_staff)),
        ),
    )


def visible_to(
    kind: str, rows: FromClause = case, values: dict[str, Any] | None = None
) -> ColumnElement[bool]:
    """The condition on ``casework.case`` rows a caller of this ``scope_kind`` may see. The
    caller's values (``scope_params``) are bound from ``values``, or left as parameters when
    it is None, so that a statement built on it can be kept and run for any caller of the
    kind. ``rows`` may be a subquery of the case table that carries ``case_id``,
    ``accusation``, ``accused_paths`` and ``accused_staff``."""
    if kind == "none":
        return false()
    return and_(in_subtree(kind, rows, values), accusation_allowed(kind, rows, values))


def visible(principal: Principal, rows: FromClause = case) -> ColumnElement[bool]:
    """``visible_to`` with this caller's values bound."""
    return visible_to(scope_kind(principal), rows, scope_params(principal))


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
