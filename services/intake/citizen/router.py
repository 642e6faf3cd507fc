"""Citizen sign-in: ask for a code by SMS, then exchange it for a short-lived token."""

from __future__ import annotations

from fastapi import APIRouter

from services.intake.citizen import service
from services.intake.citizen.schemas import CitizenToken, CodeIssued, CodeRequest, CodeVerify
from shared.api.deps import ClockDep, DbDep, KeysDep, SettingsDep
from shared.api.errors import ApiError
from shared.identity.tokens import access_token_seconds, issue_citizen_token

router = APIRouter(prefix="/api/v1/citizen/auth", tags=["citizen sign-in"])


@router.post(
    "/code",
    status_code=202,
    response_model=CodeIssued,
    summary="Send a one-time sign-in code by SMS",
)
async def request_code(body: CodeRequest, db: DbDep, keys: KeysDep, clock: ClockDep) -> CodeIssued:
    async with db.transaction("intake") as conn:
        request_id = await service.issue_code(conn, phone=body.phone, keys=keys, clock=clock)
    return CodeIssued(request_id=str(request_id), expires_in=int(service.CODE_TTL.total_seconds()))


@router.post("/verify", response_model=CitizenToken, summary="Exchange the code for a token")
async def verify(
    body: CodeVerify, db: DbDep, keys: KeysDep, clock: ClockDep, settings: SettingsDep
) -> CitizenToken:
    async with db.transaction("intake") as conn:
        person_key = await service.verify_code(
            conn,
            request_id=body.request_id,
            phone=body.phone,
            code=body.code,
            keys=keys,
            clock=clock,
        )
    if person_key is None:
        raise ApiError(
            401, "invalid_code", "验证码错误或已失效", "wrong or expired code", field="code"
        )
    return CitizenToken(
        access_token=issue_citizen_token(person_key, settings, clock),
        expires_in=access_token_seconds(settings),
    )
