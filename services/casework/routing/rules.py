"""Routing (属地管理、分级负责，谁主管、谁负责): which unit leads a case and which help.

A rules table (region prefix × category prefix × source → lead unit and co-units) kept by
the petition office; the most specific active rule wins (longest region prefix, then
longest category prefix, then a rule for the case's own source, then the newest). Where no
rule matches, the unit whose jurisdiction covers the region and whose duties cover the
category most specifically is proposed (from the org tree). The petition office may always
choose another unit: a suggestion is only a suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.models import routing_rule
from services.casework.org import OrgDirectory
from shared.api.errors import ApiError
from shared.clock import Clock


@dataclass(frozen=True)
class Route:
    lead_unit_id: str | None
    co_unit_ids: list[str] = field(default_factory=list)
    basis: str = "none"  # rule | duty | none
    rule_id: int | None = None


_MATCH = text(
    """
    SELECT id, lead_unit_id, co_unit_ids FROM casework.routing_rule
    WHERE active
      AND :region LIKE region_prefix || '%'
      AND :category LIKE category_prefix || '%'
      AND (source IS NULL OR source = :source)
    ORDER BY length(region_prefix) DESC, length(category_prefix) DESC,
             (source IS NOT NULL) DESC, id DESC
    LIMIT 1
    """
)


async def suggest(
    db: AsyncConnection,
    org: OrgDirectory,
    *,
    region_code: str,
    category_code: str | None,
    source: str,
) -> Route:
    """The route for a case: the matching rule, else the unit of the duty, else none."""
    row = (
        await db.execute(
            _MATCH, {"region": region_code, "category": category_code or "", "source": source}
        )
    ).first()
    if row is not None:
        return Route(row.lead_unit_id, list(row.co_unit_ids), "rule", row.id)
    units = org.units_for(region_code, category_code)
    if units:
        return Route(units[0].id, [], "duty")
    return Route(None)


def _unknown_unit(field_name: str) -> ApiError:
    return ApiError(422, "unknown_org_unit", "机构不存在", "no such org unit", field_name)


async def create_rule(
    db: AsyncConnection,
    org: OrgDirectory,
    *,
    region_prefix: str,
    category_prefix: str,
    source: str | None,
    lead_unit_id: str,
    co_unit_ids: list[str],
    actor: str,
    clock: Clock,
) -> dict[str, Any]:
    if org.get(lead_unit_id) is None:
        raise _unknown_unit("lead_unit_id")
    for i, unit_id in enumerate(co_unit_ids):
        if org.get(unit_id) is None:
            raise _unknown_unit(f"co_unit_ids.{i}")
        if unit_id == lead_unit_id:
            raise ApiError(
                422,
                "co_unit_is_lead",
                "协办单位不能同时是主办单位",
                "a co-unit cannot also be the lead unit",
                f"co_unit_ids.{i}",
            )
    row = (
        (
            await db.execute(
                routing_rule.insert()
                .values(
                    region_prefix=region_prefix,
                    category_prefix=category_prefix,
                    source=source,
                    lead_unit_id=lead_unit_id,
                    co_unit_ids=co_unit_ids,
                    created_at=clock.now(),
                    created_by=actor,
                )
                .returning(*routing_rule.c)
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def list_rules(db: AsyncConnection, *, active_only: bool = True) -> list[dict[str, Any]]:
    q = routing_rule.select().order_by(routing_rule.c.id)
    if active_only:
        q = q.where(routing_rule.c.active)
    return [dict(r) for r in (await db.execute(q)).mappings()]


async def deactivate_rule(db: AsyncConnection, *, rule_id: int) -> bool:
    done = await db.execute(
        routing_rule.update()
        .where(routing_rule.c.id == rule_id, routing_rule.c.active)
        .values(active=False)
    )
    return bool(done.rowcount)
