"""Endpoints: ``/api/v1/auth`` (login, logout, me, TOTP, refresh) and ``/api/v1/admin``
(org units and staff accounts, role ``admin``, within the admin's own org subtree).

Thin: each opens the identity transaction (``deps.identity_transaction``) and calls
``service``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from shared.api.errors import not_found
from shared.identity import service
from shared.identity.deps import (
    AdminPrincipal,
    ClockDep,
    CurrentPrincipal,
    DatabaseDep,
    SettingsDep,
    StaffPrincipal,
    bearer_token,
    identity_transaction,
    not_authenticated,
    require_roles,
)
from shared.identity.roles import ADMIN
from shared.identity.schemas import (
    LoginRequest,
    LoginResponse,
    MeRead,
    OrgUnitCreate,
    OrgUnitRead,
    StaffCreate,
    StaffList,
    StaffRead,
    TokenResponse,
    TotpConfirmRequest,
    TotpEnrollResponse,
    TotpStatus,
)
from shared.identity.scope import ensure_in_scope, in_scope
from shared.identity.tokens import access_token_seconds, decode_access_token, invalid_token

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
admin_router = APIRouter(
    prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(require_roles(ADMIN))]
)


def _staff_id(principal_subject: str) -> uuid.UUID:
    try:
        return uuid.UUID(principal_subject)
    except ValueError as exc:
        raise invalid_token() from exc


@router.post("/login", response_model=LoginResponse)
async def login(
    body: LoginRequest, request: Request, db: DatabaseDep, settings: SettingsDep, clock: ClockDep
) -> LoginResponse:
    async with identity_transaction(db) as conn:
        result = await service.authenticate(
            conn,
            username=body.username,
            password=body.password,
            totp_code=body.totp_code,
            clock=clock,
            settings=settings,
            user_agent=request.headers.get("user-agent"),
        )
    return LoginResponse(
        access_token=result.access_token,
        expires_in=result.expires_in,
        session_id=result.session_id,
        staff=StaffRead.of(result.staff),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: CurrentPrincipal, db: DatabaseDep, clock: ClockDep) -> Response:
    if principal.session_id is not None:
        async with identity_transaction(db) as conn:
            await service.revoke_session(conn, session_id=principal.session_id, clock=clock)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeRead)
async def me(principal: CurrentPrincipal, db: DatabaseDep) -> MeRead:
    staff = unit = None
    if principal.is_staff:
        async with identity_transaction(db) as conn:
            account = await service.get_staff(conn, staff_id=principal.subject)
            org = (
                await service.get_org_unit(conn, unit_id=principal.org_unit_id)
                if principal.org_unit_id
                else None
            )
        staff = StaffRead.of(account) if account else None
        unit = OrgUnitRead.of(org) if org else None
    return MeRead(
        kind=principal.kind,
        subject=principal.subject,
        roles=sorted(principal.roles),
        org_unit_id=principal.org_unit_id,
        org_path=principal.org_path,
        region_codes=list(principal.region_codes),
        session_id=principal.session_id,
        can_unmask=principal.can_unmask(),
        staff=staff,
        org_unit=unit,
    )


@router.post("/totp/enroll", response_model=TotpEnrollResponse)
async def totp_enroll(principal: StaffPrincipal, db: DatabaseDep) -> TotpEnrollResponse:
    async with identity_transaction(db) as conn:
        enrollment = await service.enroll_totp(conn, staff_id=_staff_id(principal.subject))
    return TotpEnrollResponse(
        secret=enrollment.secret, provisioning_uri=enrollment.provisioning_uri
    )


@router.post("/totp/confirm", response_model=TotpStatus)
async def totp_confirm(
    body: TotpConfirmRequest, principal: StaffPrincipal, db: DatabaseDep, clock: ClockDep
) -> TotpStatus:
    async with identity_transaction(db) as conn:
        await service.confirm_totp(
            conn, staff_id=_staff_id(principal.subject), code=body.code, clock=clock
        )
    return TotpStatus(totp_enabled=True)


@router.post("/refresh", response_model=TokenResponse)
async def refresh(
    request: Request, db: DatabaseDep, settings: SettingsDep, clock: ClockDep
) -> TokenResponse:
    """A new access token for a live session. The presented token may have expired up to
    ``session_idle_minutes`` ago; the session's idle expiry decides."""
    token = bearer_token(request)
    if token is None:
        raise not_authenticated()
    grace = timedelta(minutes=settings.session_idle_minutes)
    principal = decode_access_token(token, settings, clock, expired_grace=grace)
    if not principal.is_staff or principal.session_id is None:
        raise invalid_token()
    async with identity_transaction(db) as conn:
        new_token, fresh = await service.refresh_access_token(
            conn,
            session_id=principal.session_id,
            staff_id=principal.subject,
            clock=clock,
            settings=settings,
        )
    assert fresh.session_id is not None
    return TokenResponse(
        access_token=new_token,
        expires_in=access_token_seconds(settings),
        session_id=uuid.UUID(fresh.session_id),
    )


# ---------------------------------------------------------------------------------------
# Administration, within the admin's own subtree. A parent or unit outside it is treated as
# absent (422 unknown_org_unit in a body, 404 in a path).


@admin_router.post("/org-units", response_model=OrgUnitRead, status_code=201)
async def create_org_unit(
    body: OrgUnitCreate, principal: AdminPrincipal, db: DatabaseDep
) -> OrgUnitRead:
    async with identity_transaction(db) as conn:
        parent = await service.get_org_unit(conn, unit_id=body.parent_id)
        if parent is None or not in_scope(principal, parent.path):
            raise service.unknown_org_unit("parent_id")
        unit = await service.create_org_unit(
            conn,
            id=body.id,
            name=body.name,
            kind=body.kind,
            parent_id=body.parent_id,
            region_codes=body.region_codes,
            duties=body.duties,
        )
    return OrgUnitRead.of(unit)


@admin_router.get("/org-units/{unit_id}", response_model=OrgUnitRead)
async def read_org_unit(unit_id: str, principal: AdminPrincipal, db: DatabaseDep) -> OrgUnitRead:
    async with identity_transaction(db) as conn:
        unit = await service.get_org_unit(conn, unit_id=unit_id)
    ensure_in_scope(principal, unit.path if unit else None)
    assert unit is not None
    return OrgUnitRead.of(unit)


@admin_router.get("/org-units/{unit_id}/subtree", response_model=list[OrgUnitRead])
async def read_subtree(
    unit_id: str, principal: AdminPrincipal, db: DatabaseDep
) -> list[OrgUnitRead]:
    async with identity_transaction(db) as conn:
        unit = await service.get_org_unit(conn, unit_id=unit_id)
        ensure_in_scope(principal, unit.path if unit else None)
        units = await service.subtree(conn, unit_id=unit_id)
    return [OrgUnitRead.of(u) for u in units]


@admin_router.post("/staff", response_model=StaffRead, status_code=201)
async def create_staff(body: StaffCreate, principal: AdminPrincipal, db: DatabaseDep) -> StaffRead:
    async with identity_transaction(db) as conn:
        unit = await service.get_org_unit(conn, unit_id=body.org_unit_id)
        if unit is None or not in_scope(principal, unit.path):
            raise service.unknown_org_unit("org_unit_id")
        account = await service.create_staff(
            conn,
            username=body.username,
            display_name=body.display_name,
            org_unit_id=body.org_unit_id,
            roles=body.roles,
            password=body.password,
        )
    return StaffRead.of(account)


@admin_router.get("/staff", response_model=StaffList)
async def list_staff(
    principal: AdminPrincipal,
    db: DatabaseDep,
    org_unit_id: str | None = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> StaffList:
    async with identity_transaction(db) as conn:
        accounts = await service.list_staff(
            conn,
            principal=principal,
            org_unit_id=org_unit_id,
            active=active,
            limit=limit,
            offset=offset,
        )
    return StaffList(items=[StaffRead.of(a) for a in accounts], limit=limit, offset=offset)


@admin_router.post("/staff/{staff_id}/deactivate", status_code=status.HTTP_204_NO_CONTENT)
async def deactivate_staff(
    staff_id: uuid.UUID, principal: AdminPrincipal, db: DatabaseDep, clock: ClockDep
) -> Response:
    async with identity_transaction(db) as conn:
        path = await service.staff_org_path(conn, staff_id=staff_id)
        if path is None or not in_scope(principal, path):
            raise not_found("工作人员不存在", "staff member not found")
        await service.deactivate_staff(conn, staff_id=staff_id, clock=clock)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
