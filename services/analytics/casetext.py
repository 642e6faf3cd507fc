"""Reading the read model's case texts as :class:`Petition` records for the text algorithms
(screening, hotspots), limited to a caller's jurisdiction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.text.records import Petition

# still being handled: not closed, withdrawn, refused or diverted
OPEN = (
    "f.closed_at IS NULL AND f.withdrawn_at IS NULL "
    "AND coalesce(f.status, '') NOT IN ('closed', 'withdrawn', 'refused', 'diverted')"
)


def region_filter(prefixes: tuple[str, ...] | None) -> tuple[str, dict[str, Any]]:
    """``t.region_code`` within the prefixes (``None``: everywhere; empty: nowhere)."""
    if prefixes is None:
        return "true", {}
    return "t.region_code LIKE ANY(CAST(:prefixes AS text[]))", {
        "prefixes": [p + "%" for p in prefixes]
    }


def petition(r: Any) -> Petition:
    m = r._mapping
    return Petition(
        case_id=m["case_id"],
        title=m["title"] or "",
        content=m["content"] or "",
        person_keys=tuple(m["person_keys"] or ()),
        region_code=m["region_code"],
        category_code=m["category_code"],
        source=m["source"],
        people_count=m["people_count"] or 1,
        received_at=m["received_at"],
        likes=m["public_attention"],
        overdue=bool(m.get("missed_count") or m.get("handle_missed")),
        extended=bool(m.get("extension_count")),
        dissatisfied=m.get("dissatisfied_at") is not None,
        review_requested=m.get("review_requested_at") is not None,
        transfers=max(0, (m.get("assign_count") or 0) - 1),
        owner_unit=m.get("unit_id") or m.get("office_unit_id"),  # handling unit, else office
    )


async def load(
    db: AsyncConnection,
    *,
    prefixes: tuple[str, ...] | None = None,
    accusations: bool = True,
    start: datetime | None = None,
    end: datetime | None = None,
    open_only: bool = False,
) -> list[tuple[Petition, Any]]:
    """Each case text with its fact's failure signals, and the row (for region, accusation
    and the stored repeat count)."""
    where, params = region_filter(prefixes)
    if not accusations:
        where += " AND NOT coalesce(t.accusation, false)"
    if start is not None:
        where += " AND t.received_at >= :start"
        params["start"] = start
    if end is not None:
        where += " AND t.received_at < :end"
        params["end"] = end
    if open_only:
        where += f" AND {OPEN}"
    rows = (
        await db.execute(
            text(
                "SELECT t.*, f.unit_id, f.office_unit_id, f.missed_count, f.handle_missed, "  # noqa: S608 - fixed fragments
                "f.extension_count, f.dissatisfied_at, f.review_requested_at, f.assign_count, "
                "coalesce(r.earlier_repeats, 0) AS earlier_repeats "
                "FROM analytics.case_text t "
                "LEFT JOIN analytics.case_fact f USING (case_id) "
                "LEFT JOIN analytics.case_repeat r USING (case_id) "
                f"WHERE {where} ORDER BY t.received_at, t.case_id"
            ),
            params,
        )
    ).all()
    return [(petition(r), r) for r in rows]
