"""Citizen sign-in: ask for a code by SMS, then exchange it for a short-lived token. Both
POSTs honour ``Idempotency-Key``: a retried request gets the first answer (the same request
id, the same token) instead of a rate-limit refusal or a spent code."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.citizen import service
from services.intake.citizen.schemas import CitizenToken, CodeIssued, CodeRequest, CodeVerify
from shared.api import idempotency
from shared.api.deps import ClockDep, DbDep, IdempotencyKey, KeysDep, SettingsDep
from shared.api.errors import ApiError
from shared.identity.tokens import access_token_seconds, issue_citizen_token

router = APIRouter(prefix="/api/v1/citizen/auth", tags=["citizen sign-in"])


@router.post(
    "/code",
    status_code=202,
    response_model=CodeIssued,
    summary="Send a one-time sign-in code by SMS",
)
async def request_code(
    body: CodeRequest,
    request: Request,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    idempotency_key: IdempotencyKey,
) -> Response:
    async def act(conn: AsyncConnection) -> bytes:
        request_id = await service.issue_code(conn, phone=body.phone, keys=keys, clock=clock)
        return orjson.dumps(
            CodeIssued(
                request_id=str(request_id), expires_in=int(service.CODE_TTL.total_seconds())
            ).model_dump()
        )

    return await idempotency.run_once(
        db,
        schema="intake",
        request=request,
        caller=idempotency.caller_of(request, None),
        key=idempotency_key,
        ring=keys.ring,
        clock=clock,
        status=202,
        act=act,
    )


@router.post("/verify", response_model=CitizenToken, summary="Exchange the code for a token")
async def verify(
    body: CodeVerify,
    request: Request,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey,
) -> Response:
    raw = await request.body()
    async with db.transaction("intake") as conn:
        guard = None
        if idempotency_key:
            guard, stored = await idempotency.begin(
                conn,
                schema="intake",
                caller=idempotency.caller_of(request, None),
                method="POST",
                path=request.url.path,
                key=idempotency_key,
                body=raw,
                ring=keys.ring,
                clock=clock,
            )
            if stored is not None:
                return Response(
                    stored.body, status_code=stored.status_code, media_type="application/json"
                )
        # a wrong code is counted and committed; the refusal is raised after the commit
        person_key = await service.verify_code(
            conn,
            request_id=body.request_id,
            phone=body.phone,
            code=body.code,
            keys=keys,
            clock=clock,
        )
        if person_key is not None:
            payload = orjson.dumps(
                CitizenToken(
                    access_token=issue_citizen_token(person_key, settings, clock),
                    expires_in=access_token_seconds(settings),
                ).model_dump()
            )
            if guard is not None:
                await guard.save(conn, 200, payload)
    if person_key is None:
        raise ApiError(
            401, "invalid_code", "验证码错误或已失效", "wrong or expired code", field="code"
        )
    return Response(payload, status_code=200, media_type="application/json")
