"""Reception desk endpoints (登记员): every one needs the ``registrar`` role; petitions outside
the registrar's jurisdiction answer 404."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.petition import repository as petition_repo
from services.intake.petition.normalized import Source
from services.intake.registrar import receipt, service
from services.intake.registrar.schemas import (
    Corrected,
    CorrectionIn,
    PersonPetitions,
    PersonQuery,
    Registered,
    RegistrationIn,
)
from shared.api import idempotency
from shared.api.deps import ClockDep, DbDep, IdempotencyKey, KeysDep
from shared.api.errors import not_found
from shared.identity import service as identity
from shared.identity.deps import require_roles
from shared.identity.principal import Principal
from shared.identity.roles import REGISTRAR
from shared.security import keys_for

# one callable, so the router's check and the endpoints' principal are one dependency
_require_registrar = require_roles(REGISTRAR)
Registrar = Annotated[Principal, Depends(_require_registrar)]

router = APIRouter(
    prefix=service.PREFIX,
    tags=["registrar (reception desk)"],
    dependencies=[Depends(_require_registrar)],
)

_ERRORS = {
    401: {"description": "not signed in"},
    403: {"description": "the registrar role is required"},
    409: {"description": "the same Idempotency-Key is still being processed"},
    422: {"description": "validation failed: `{errors: [{field, code, message}]}`"},
}
_NO_STORE = {"Cache-Control": "no-store"}


def _json(status: int, body: bytes) -> Response:
    return Response(body, status_code=status, media_type="application/json", headers=_NO_STORE)


async def _idempotent(
    request: Request,
    db: DbDep,
    clock: ClockDep,
    principal: Principal,
    idempotency_key: str | None,
    status: int,
    act: Callable[[AsyncConnection], Awaitable[BaseModel]],
) -> Response:
    """Run ``act`` in one intake transaction, with the answer kept under the caller's
    Idempotency-Key (when sent) in that same transaction."""

    async def answer(conn: AsyncConnection) -> bytes:
        return orjson.dumps((await act(conn)).model_dump(mode="json"))

    return await idempotency.run_once(
        db,
        schema="intake",
        request=request,
        caller=f"staff:{principal.subject}",
        key=idempotency_key,
        ring=keys_for(request.app.state.settings).ring,
        clock=clock,
        status=status,
        act=answer,
        headers=_NO_STORE,
    )


async def _register(
    source: Source,
    request: Request,
    body: RegistrationIn,
    principal: Principal,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    idempotency_key: str | None,
) -> Response:
    async def act(conn: AsyncConnection) -> BaseModel:
        return await service.register(
            conn, body=body, source=source, principal=principal, keys=keys, clock=clock
        )

    return await _idempotent(request, db, clock, principal, idempotency_key, 201, act)


@router.post(
    "/letters",
    status_code=201,
    response_model=Registered,
    responses=_ERRORS,  # type: ignore[arg-type]
    summary="Register a letter (来信登记)",
)
async def register_letter(
    request: Request,
    body: RegistrationIn,
    principal: Registrar,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    idempotency_key: IdempotencyKey,
) -> Response:
    return await _register(
        Source.LETTER, request, body, principal, db, keys, clock, idempotency_key
    )


@router.post(
    "/visits",
    status_code=201,
    response_model=Registered,
    responses=_ERRORS,  # type: ignore[arg-type]
    summary="Register a visit, individual or collective (来访登记, 集体访)",
)
async def register_visit(
    request: Request,
    body: RegistrationIn,
    principal: Registrar,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    idempotency_key: IdempotencyKey,
) -> Response:
    return await _register(Source.VISIT, request, body, principal, db, keys, clock, idempotency_key)


@router.post(
    "/people/petitions/search",
    response_model=PersonPetitions,
    responses={422: _ERRORS[422]},
    summary="A person's earlier petitions, by ID number or phone (newest first)",
    description="The identifier goes in the body, never in the URL. Read-only: no "
    "Idempotency-Key needed.",
)
async def person_petitions(
    principal: Registrar,
    db: DbDep,
    keys: KeysDep,
    body: PersonQuery,
) -> Response:
    async with db.transaction("intake") as conn:
        found = await service.person_petitions(
            conn,
            id_number=body.id_number,
            phone=body.phone,
            cursor=body.cursor,
            limit=body.limit,
            principal=principal,
            keys=keys,
        )
    return _json(200, orjson.dumps(found.model_dump(mode="json")))


@router.post(
    "/petitions/{tracking_no}/corrections",
    response_model=Corrected,
    responses={**_ERRORS, 404: {"description": "unknown, not a desk petition, or out of scope"}},  # type: ignore[dict-item]
    summary="Correct a desk registration (kept in the petition's history)",
)
async def correct_petition(
    tracking_no: str,
    request: Request,
    body: CorrectionIn,
    principal: Registrar,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    idempotency_key: IdempotencyKey,
) -> Response:
    if len(tracking_no) > 64:
        raise not_found()

    async def act(conn: AsyncConnection) -> BaseModel:
        return await service.correct(
            conn, tracking_no=tracking_no, body=body, principal=principal, keys=keys, clock=clock
        )

    return await _idempotent(request, db, clock, principal, idempotency_key, 200, act)


async def _slip(
    db: DbDep, keys: KeysDep, principal: Principal, tracking_no: str, code: str
) -> receipt.Slip:
    if len(tracking_no) > 64:
        raise not_found()
    async with db.transaction("intake") as conn:
        row = await service.find_desk_petition(conn, tracking_no=tracking_no, principal=principal)
        if row is None or not service.code_matches(row, code, keys):
            raise not_found("未找到该编号或查询码错误", "unknown tracking number or wrong code")
        recorded = await petition_repo.milestones(conn, row.case_id)
    staff_name = unit_name = None
    if row.registered_by:
        async with db.transaction("identity") as conn:
            staff = await identity.get_staff(conn, staff_id=row.registered_by)
            unit = await identity.get_org_unit(conn, unit_id=staff.org_unit_id) if staff else None
        staff_name = staff.display_name if staff else None
        unit_name = unit.name if unit else None
    latest = recorded[-1] if recorded else None
    return receipt.Slip(
        tracking_no=row.tracking_no,
        query_code=code,
        received_at=row.received_at,
        source=row.source,
        title=row.title,
        people_count=row.people_count,
        registered_by=staff_name,
        registered_at_unit=unit_name,
        due_at=latest.due_at if latest is not None else None,
        due_for=_DUE_FOR.get(latest.milestone) if latest is not None else None,
    )


# what the deadline after each public milestone is for (the tracking view's deadline)
_DUE_FOR = {
    "registered": "告知是否受理",
    "accepted": "办结并答复",
    "assigned": "办结并答复",
    "signed": "办结并答复",
    "extended": "办结并答复（已延期）",
    "review_requested": "作出复查（复核）意见",
}


_CODE = Annotated[str, Query(min_length=1, max_length=32, description="the query code")]


@router.get(
    "/petitions/{tracking_no}/receipt.html",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}, 404: {"description": "wrong code"}},
    summary="The receipt slip (回执) as HTML",
)
async def receipt_html(
    tracking_no: str, code: _CODE, principal: Registrar, db: DbDep, keys: KeysDep
) -> Response:
    slip = await _slip(db, keys, principal, tracking_no, code)
    return Response(
        receipt.render_html(slip), media_type="text/html; charset=utf-8", headers=_NO_STORE
    )


@router.get(
    "/petitions/{tracking_no}/receipt.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 404: {"description": "wrong code"}},
    summary="The receipt slip (回执) as PDF",
)
async def receipt_pdf(
    tracking_no: str, code: _CODE, principal: Registrar, db: DbDep, keys: KeysDep
) -> Response:
    slip = await _slip(db, keys, principal, tracking_no, code)
    pdf = await asyncio.to_thread(receipt.render_pdf, slip)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **_NO_STORE,
            "Content-Disposition": f'inline; filename="receipt-{slip.tracking_no}.pdf"',
        },
    )
