"""Citizen endpoints: file a petition, follow it by tracking number and query code."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.petition import content_type, service
from services.intake.petition import repository as repo
from services.intake.petition.schemas import (
    AttachmentRead,
    MyPetition,
    MyPetitions,
    PetitionCreate,
    PetitionCreated,
    PetitionStatus,
    Supplement,
    Withdrawal,
)
from shared import ratelimit
from shared.api import idempotency
from shared.api.deps import ClockDep, DbDep, IdempotencyKey, KeysDep, SettingsDep
from shared.api.errors import ApiError
from shared.clock import Clock
from shared.db import Database
from shared.identity.deps import CurrentPrincipal, OptionalPrincipal
from shared.identity.principal import Principal
from shared.ids import uuid7
from shared.security import Keys
from shared.settings import Settings
from shared.storage import object_store
from shared.text import printable

router = APIRouter(prefix="/api/v1/petitions", tags=["petitions (citizens)"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "the same Idempotency-Key is still being processed"},
    422: {"description": "validation failed: `{errors: [{field, code, message}]}`"},
}


@router.post(
    "",
    status_code=201,
    response_model=PetitionCreated,
    responses=_ERRORS,
    summary="File a petition (citizen web or app)",
)
async def create_petition(
    request: Request,
    petition_in: PetitionCreate,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    idempotency_key: IdempotencyKey,
) -> Response:
    body = await request.body()
    if principal is not None and principal.is_citizen and petition_in.phone is not None:
        # a signed-in citizen files under the number they signed in with
        if keys.hash.digest("phone", petition_in.phone) != principal.subject:
            raise ApiError(
                422,
                "phone_mismatch",
                "联系电话须为登录所用手机号",
                "the phone must be the one you signed in with",
                field="phone",
            )
    client_ip = request.client.host if request.client else "unknown"
    redis = request.app.state.redis

    async def act(conn: AsyncConnection) -> bytes:
        # the rate limits count new filings only: a retry with the same Idempotency-Key gets
        # its stored answer (run_once answers it before calling this), never a 429
        await ratelimit.check(
            redis,
            scope="petition:ip",
            key=client_ip,
            limit=settings.rate_per_ip_per_minute,
            window_seconds=60,
        )
        if petition_in.phone:
            await ratelimit.check(
                redis,
                scope="petition:phone",
                key=keys.hash.digest("phone", petition_in.phone),
                limit=settings.rate_per_phone_per_hour,
                window_seconds=3600,
                field="phone",
            )
        created = await service.submit(
            conn,
            petition_in=petition_in,
            submission=service.Submission(source="citizen", channel="web", received_at=clock.now()),
            keys=keys,
            clock=clock,
        )
        return orjson.dumps(created.model_dump())

    return await idempotency.run_once(
        db,
        schema="intake",
        request=request,
        caller=idempotency.caller_of(request, principal),
        key=idempotency_key,
        ring=keys.ring,
        clock=clock,
        status=201,
        act=act,
        body=body,
    )


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


# --- the petitioner's own actions -------------------------------------------------------------


Code = Annotated[str | None, Query(max_length=32, description="the query code")]


async def _own(
    conn: AsyncConnection,
    db: Database,
    *,
    tracking_no: str,
    code: str | None,
    principal: Principal | None,
    keys: Keys,
    clock: Clock,
    settings: Settings,
) -> Any:
    """The petition if the caller may act on it; a wrong code counts toward the lock."""
    await service.check_lock(conn, tracking_no=tracking_no, clock=clock)
    person_key = principal.subject if principal is not None and principal.is_citizen else None
    row = await service.find_own(
        conn, tracking_no=tracking_no, code=code, person_key=person_key, keys=keys
    )
    if row is not None:
        return row
    async with db.transaction("intake") as other:
        await service.count_failure(other, tracking_no=tracking_no, clock=clock, settings=settings)
    raise service.wrong_code()


async def _on_own_petition(
    request: Request,
    db: Database,
    *,
    tracking_no: str,
    code: str | None,
    principal: Principal | None,
    keys: Keys,
    clock: Clock,
    settings: Settings,
    idempotency_key: str | None,
    status: int,
    act: Callable[[AsyncConnection, Any], Awaitable[dict[str, Any]]],
    body: bytes | None = None,
) -> Response:
    """A petitioner's action on their own petition: the Idempotency-Key, the owner check (query
    code or sign-in), the action and its stored answer, in one transaction. ``body``
    identifies the request when it is not the raw body (an upload)."""

    async def answer(conn: AsyncConnection) -> bytes:
        row = await _own(
            conn,
            db,
            tracking_no=tracking_no,
            code=code,
            principal=principal,
            keys=keys,
            clock=clock,
            settings=settings,
        )
        return orjson.dumps(await act(conn, row))

    return await idempotency.run_once(
        db,
        schema="intake",
        request=request,
        caller=idempotency.caller_of(request, principal),
        key=idempotency_key,
        ring=keys.ring,
        clock=clock,
        status=status,
        act=answer,
        body=body,
    )


@router.post(
    "/{tracking_no}/supplements",
    status_code=201,
    responses=_ERRORS,
    summary="Add supplementary material (补充材料): the query code or sign-in",
)
async def add_supplement(
    tracking_no: str,
    body: Supplement,
    request: Request,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    idempotency_key: IdempotencyKey,
) -> Response:
    async def act(conn: AsyncConnection, row: Any) -> dict[str, str]:
        await service.supplement(
            conn, row=row, content=body.content, attachment_ids=[], keys=keys, clock=clock
        )
        return {"tracking_no": tracking_no, "status": "supplemented"}

    return await _on_own_petition(
        request,
        db,
        tracking_no=tracking_no,
        code=body.code,
        principal=principal,
        keys=keys,
        clock=clock,
        settings=settings,
        idempotency_key=idempotency_key,
        status=201,
        act=act,
    )


@router.post(
    "/{tracking_no}/withdraw",
    responses=_ERRORS,
    summary="Withdraw (撤回) before the reply: the query code or sign-in",
)
async def withdraw_petition(
    tracking_no: str,
    body: Withdrawal,
    request: Request,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    idempotency_key: IdempotencyKey,
) -> Response:
    async def act(conn: AsyncConnection, row: Any) -> dict[str, str]:
        await service.withdraw(conn, row=row, reason=body.reason, keys=keys, clock=clock)
        return {"tracking_no": tracking_no, "status": "withdrawal_requested"}

    return await _on_own_petition(
        request,
        db,
        tracking_no=tracking_no,
        code=body.code,
        principal=principal,
        keys=keys,
        clock=clock,
        settings=settings,
        idempotency_key=idempotency_key,
        status=200,
        act=act,
    )


@router.post(
    "/{tracking_no}/attachments",
    status_code=201,
    response_model=AttachmentRead,
    responses=_ERRORS,
    summary="Attach a file (size and type limited): code or sign-in",
)
async def add_attachment(
    tracking_no: str,
    request: Request,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    idempotency_key: IdempotencyKey,
    file: Annotated[UploadFile, File(description="the file")],
    code: Annotated[str | None, Form(max_length=32)] = None,
) -> Response:
    data = await file.read(settings.attachment_max_bytes + 1)
    if len(data) > settings.attachment_max_bytes:
        raise ApiError(422, "too_large", "附件过大", "attachment too large", field="file")
    media_type = (file.content_type or "").split(";")[0].strip().lower()
    if media_type not in {t.strip() for t in settings.attachment_types.split(",")}:
        raise ApiError(
            422, "unsupported_type", "不支持的附件类型", "unsupported file type", field="file"
        )
    if not data:
        raise ApiError(422, "too_short", "附件为空", "empty file", field="file")
    if not content_type.matches(media_type, data):
        raise ApiError(
            422,
            "type_mismatch",
            "附件内容与所声明的类型不符",
            "the file's content does not match its declared type",
            field="file",
        )
    # a display name only (the object is stored by its hash): what XML and PostgreSQL can hold
    name = printable(file.filename or "").strip()[:255] or "attachment"

    async def act(conn: AsyncConnection, row: Any) -> dict[str, Any]:
        key, sha256 = await object_store(settings).put(data)
        attachment_id = uuid7()
        await repo.add_attachment(
            conn,
            attachment_id=attachment_id,
            case_id=row.case_id,
            name=name,
            media_type=media_type,
            size=len(data),
            sha256=sha256,
            storage_key=key,
        )
        await service.supplement(
            conn, row=row, content=None, attachment_ids=[str(attachment_id)], keys=keys, clock=clock
        )
        return AttachmentRead(
            attachment_id=str(attachment_id),
            name=name,
            media_type=media_type,
            size=len(data),
            sha256=sha256,
        ).model_dump()

    return await _on_own_petition(
        request,
        db,
        tracking_no=tracking_no,
        code=code,
        principal=principal,
        keys=keys,
        clock=clock,
        settings=settings,
        idempotency_key=idempotency_key,
        status=201,
        act=act,
        body=hashlib.sha256(data).hexdigest().encode() + name.encode(),
    )


citizen_router = APIRouter(prefix="/api/v1/citizen", tags=["petitions (citizens)"])


@citizen_router.get(
    "/petitions",
    response_model=MyPetitions,
    summary="My petitions (signed in by SMS code), newest first",
)
async def my_petitions(
    db: DbDep,
    principal: CurrentPrincipal,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> MyPetitions:
    if not principal.is_citizen:
        raise ApiError(403, "forbidden", "仅限群众本人查询", "for signed-in citizens")
    before = _decode_cursor(cursor)
    async with db.transaction("intake") as conn:
        rows = await repo.petitions_of(
            conn, person_key=principal.subject, before=before, limit=limit + 1
        )
    items = [
        MyPetition(
            tracking_no=r.tracking_no, title=r.title, status=r.status, received_at=r.received_at
        )
        for r in rows[:limit]
    ]
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        nxt = base64.urlsafe_b64encode(
            orjson.dumps([last.received_at.isoformat(), str(last.case_id)])
        ).decode()
    return MyPetitions(items=items, next_cursor=nxt)


def _decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        at, case_id = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), uuid.UUID(case_id)
    except (ValueError, TypeError):
        raise ApiError(
            422, "invalid_cursor", "分页游标无效", "invalid cursor", field="cursor"
        ) from None
