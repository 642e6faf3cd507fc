"""The provincial platform's inbound endpoint (integrations §3), signed with ``X-Exchange-*``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.exchange import service
from services.intake.exchange.schemas import ExchangeAnswer, ProvincialPetition
from services.intake.partner import refusals, signed, validate
from shared.api.deps import ClockDep, DbDep, KeysDep
from shared.api.openapi import body_schema
from shared.signing import Partner

router = APIRouter(prefix="/api/v1/exchange", tags=["provincial platform (signed)"])

PARTNER: Partner = "exchange"
_SIGNED = refusals(PARTNER, "invalid essentials; nothing stored")


@router.post(
    "/petitions",
    response_model=ExchangeAnswer,
    status_code=201,
    responses={**_SIGNED, 200: {"model": ExchangeAnswer, "description": "a known petition"}},
    summary="A petition transferred (转送) or assigned (交办) by the province",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": body_schema(ProvincialPetition)}},
        }
    },
)
async def receive_petition(
    request: Request, db: DbDep, keys: KeysDep, clock: ClockDep
) -> JSONResponse:
    async def work(conn: AsyncConnection, data: Any) -> JSONResponse:
        petition = validate(ProvincialPetition, data)
        status, answer = await service.receive(
            conn, petition=petition, raw=data, keys=keys, clock=clock
        )
        return JSONResponse(answer.model_dump(), status_code=status)

    return await signed(request, db, clock, work, partner=PARTNER)
