"""Citizen endpoints: file a petition, follow it by tracking number and query code."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.intake.petition import service
from services.intake.petition.schemas import PetitionCreate, PetitionCreated, PetitionStatus
from shared.api import idempotency
from shared.api.deps import ClockDep, DbDep, IdempotencyKey, KeysDep, SettingsDep

router = APIRouter(prefix="/api/v1/petitions", tags=["petitions (citizens)"])

_ERRORS = {
    409: {"description": "the same Idempotency-Key is still being processed"},
    422: {"description": "validation failed: `{errors: [{field, code, message}]}`"},
}


def _json(status: int, body: bytes) -> Response:
    return Response(body, status_code=status, media_type="application/json")


@router.post(
    "",
    status_code=201,
    response_model=PetitionCreated,
    responses=_ERRORS,  # type: ignore[arg-type]
    summary="File a petition (citizen web or app)",
)
async def create_petition(
    request: Request,
    petition_in: PetitionCreate,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    idempotency_key: IdempotencyKey,
) -> Response:
    body = await request.body()
    async with db.transaction("intake") as conn:
        guard = None
        if idempotency_key:
            guard, stored = await idempotency.begin(
                conn,
                schema="intake",
                caller="citizen:anonymous",
                method="POST",
                path=request.url.path,
                key=idempotency_key,
                body=body,
                clock=clock,
            )
            if stored is not None:
                return _json(stored.status_code, stored.body)
        created = await service.submit(
            conn,
            petition_in=petition_in,
            submission=service.Submission(source="citizen", channel="web", received_at=clock.now()),
            keys=keys,
            clock=clock,
        )
        payload = orjson.dumps(created.model_dump())
        if guard is not None:
            await guard.save(conn, 201, payload)
    return _json(201, payload)


@router.get(
    "/{tracking_no}",
    response_model=PetitionStatus,
    responses={
        404: {"description": "unknown number or wrong code"},
        429: {"description": "locked for 15 minutes after 10 wrong codes"},
    },
    summary="Public tracking view (tracking number + query code)",
)
async def track_petition(
    tracking_no: str,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    settings: SettingsDep,
    code: Annotated[str, Query(min_length=1, max_length=32, description="the query code")],
) -> PetitionStatus:
    if len(tracking_no) > 64:
        raise service.wrong_code()
    async with db.transaction("intake") as conn:
        await service.check_lock(conn, tracking_no=tracking_no, clock=clock)
        found = await service.track(conn, tracking_no=tracking_no, code=code, keys=keys)
    if found is not None:
        return found
    async with db.transaction("intake") as conn:
        await service.count_failure(conn, tracking_no=tracking_no, clock=clock, settings=settings)
    raise service.wrong_code()
