"""``GET /api/v1/analytics/cases/{case_id}/repeats``: what repeat detection found for a case.

Scoped like every analytics read: a case outside the caller's jurisdiction, or an accusation
for anyone but a discipline inspector, is 404; links to such cases are left out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from services.analytics.metric import service as metric_service
from services.analytics.metric.router import Reader
from shared.api.deps import DbDep
from shared.api.errors import ApiError

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


class RepeatLink(BaseModel):
    case_id: str
    similarity: float
    reasons: list[str]


class RepeatsView(BaseModel):
    case_id: str
    first_petition: bool  # 初信初访
    earlier_repeats: int
    repeats: list[RepeatLink]  # same person, same matter
    same_matter: list[RepeatLink]  # other people on the same matter
    checked_at: datetime


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "未找到该案件", "no such case")


@router.get(
    "/cases/{case_id}/repeats",
    response_model=RepeatsView,
    summary="Repeat petitions (同人 + 同事) and the first-petition flag of a case",
)
async def repeats(case_id: str, db: DbDep, principal: Reader) -> RepeatsView:
    scope = metric_service.Scope.of(principal)
    if not scope.prefixes:
        raise _not_found()
    visible = "region_code LIKE ANY(CAST(:prefixes AS text[]))" + (
        "" if scope.accusations_in_breakdowns else " AND NOT accusation"
    )
    params: dict[str, Any] = {"prefixes": [p + "%" for p in scope.prefixes]}
    async with db.transaction("analytics") as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT * FROM analytics.case_repeat "  # noqa: S608 - fixed fragments
                    f"WHERE case_id = :id AND {visible}"
                ),
                {**params, "id": case_id},
            )
        ).first()
        if row is None:
            raise _not_found()
        linked = {x["case_id"] for x in row.repeats} | {x["case_id"] for x in row.same_matter}
        shown = set(
            (
                await conn.execute(
                    text(
                        "SELECT case_id FROM analytics.case_repeat "  # noqa: S608 - fixed fragments
                        f"WHERE case_id = ANY(CAST(:ids AS text[])) AND {visible}"
                    ),
                    {**params, "ids": sorted(linked)},
                )
            ).scalars()
        )
    return RepeatsView(
        case_id=row.case_id,
        first_petition=row.first_petition,
        earlier_repeats=row.earlier_repeats,
        repeats=[RepeatLink(**x) for x in row.repeats if x["case_id"] in shown],
        same_matter=[RepeatLink(**x) for x in row.same_matter if x["case_id"] in shown],
        checked_at=row.checked_at,
    )
