"""Volumes by day (the first figure of the dashboard)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import text

from shared.api.deps import DbDep
from shared.identity.deps import require_roles

# Aggregates only; scoping by region arrives with the analytics issue's read model.
router = APIRouter(
    prefix="/api/v1/analytics",
    tags=["analytics"],
    dependencies=[Depends(require_roles("analyst", "leader", "petition_officer", "admin"))],
)


class VolumeRow(BaseModel):
    day: date
    metric: str
    dimension: str
    value: str
    count: int


@router.get("/volumes", response_model=list[VolumeRow], summary="Daily volumes")
async def volumes(
    db: DbDep,
    dimension: Annotated[str, Query(pattern="^(all|channel|source|category|region)$")] = "all",
    since: date | None = None,
) -> list[VolumeRow]:
    async with db.transaction("analytics") as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT day, metric, dimension, value, count FROM analytics.daily_volume "
                    "WHERE dimension = :d AND (CAST(:s AS date) IS NULL OR day >= :s) "
                    "ORDER BY day, metric, value"
                ),
                {"d": dimension, "s": since},
            )
        ).all()
    return [VolumeRow(**r._mapping) for r in rows]
