"""FastAPI dependencies: the database, settings and clock of the app, the caller's
:class:`Principal`, role checks, and the identity transaction of the endpoint layer.

The app provides ``app.state.db`` (:class:`shared.db.Database`), ``app.state.settings``
and optionally ``app.state.clock`` (default :data:`shared.clock.system_clock`).

Usage::

    @router.get("/cases/{case_id}")
    async def read(case_id: UUID, principal: CurrentPrincipal): ...

    @router.post("/replies", dependencies=[Depends(require_roles(HANDLER, UNIT_LEAD))])
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.api.errors import ApiError
from shared.api.openapi import BEARER, OPTIONAL_BEARER
from shared.clock import Clock, system_clock
from shared.db import Database
from shared.identity import service
from shared.identity.principal import Principal
from shared.identity.roles import ADMIN, STAFF_ROLES
from shared.identity.service import KeepWritesError
from shared.identity.tokens import decode_access_token, invalid_token
from shared.settings import Settings

_BEARER = {"WWW-Authenticate": "Bearer"}


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = getattr(request.app.state, "clock", None) or system_clock
    return clock


# ``async def`` wrappers for Depends: FastAPI runs a plain ``def`` dependency in a thread pool
async def _db_dep(request: Request) -> Database:
    return get_db(request)


async def _settings_dep(request: Request) -> Settings:
    return get_settings(request)


async def _clock_dep(request: Request) -> Clock:
    return get_clock(request)


DatabaseDep = Annotated[Database, Depends(_db_dep)]
SettingsDep = Annotated[Settings, Depends(_settings_dep)]
ClockDep = Annotated[Clock, Depends(_clock_dep)]


@asynccontextmanager
async def identity_transaction(db: Database) -> AsyncIterator[AsyncConnection]:
    """A transaction on the identity schema that commits on success, rolls back on error,
    and commits *then* re-raises a :class:`~shared.identity.service.KeepWritesError`
    (a counted login failure, a revoked session)."""
    pending: KeepWritesError | None = None
    async with db.transaction("identity") as conn:
        try:
            yield conn
        except KeepWritesError as exc:
            pending = exc
    if pending is not None:
        raise pending


def not_authenticated() -> ApiError:
    return ApiError(
        401, "not_authenticated", "请先登录", "authentication required", headers=_BEARER
    )


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", "无权进行此操作", "your role does not allow this")


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header; None when there is no header.
    A header of another scheme or an empty token is a 401."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise not_authenticated()
    return token


async def principal_from_token(request: Request, token: str) -> Principal:
    """Decode a token and, for staff, check and touch its session."""
    settings, clock = get_settings(request), get_clock(request)
    principal = decode_access_token(token, settings, clock)
    if principal.is_staff:
        assert principal.session_id is not None
        # every statement of the check commits by itself (a read, at most one UPDATE that
        # touches or revokes the session): no BEGIN / COMMIT round trips on each request
        async with get_db(request).autocommit("identity") as conn:
            info = await service.touch_session(
                conn, session_id=principal.session_id, clock=clock, settings=settings
            )
        if str(info.staff_id) != principal.subject:
            raise invalid_token()
    request.state.principal = principal
    return principal


# Declares ``Authorization: Bearer <access token>`` in the OpenAPI document (the "Authorize"
# button of /docs); the header is read and judged by ``bearer_token``, never by this.
_WHERE_FROM = (
    "the access_token of POST /api/v1/auth/login (staff) or of "
    "POST /api/v1/citizen/auth/verify (citizens)"
)
Bearer = Annotated[
    HTTPAuthorizationCredentials | None,
    Security(
        HTTPBearer(
            auto_error=False, scheme_name=BEARER, bearerFormat="JWT", description=_WHERE_FROM
        )
    ),
]
OptionalBearer = Annotated[
    HTTPAuthorizationCredentials | None,
    Security(
        HTTPBearer(
            auto_error=False,
            scheme_name=OPTIONAL_BEARER,
            bearerFormat="JWT",
            description=_WHERE_FROM,
        )
    ),
]


async def get_principal(request: Request, _: Bearer) -> Principal:
    """The authenticated caller; 401 ``not_authenticated`` without a token,
    ``invalid_token`` / ``token_expired`` / ``session_revoked`` / ``session_expired``."""
    token = bearer_token(request)
    if token is None:
        raise not_authenticated()
    return await principal_from_token(request, token)


async def optional_principal(request: Request, _: OptionalBearer) -> Principal | None:
    """The caller when a token is sent (and it must then be valid), else None."""
    token = bearer_token(request)
    if token is None:
        return None
    return await principal_from_token(request, token)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting staff holding at least one of ``roles`` (any staff member
    when none are given); others get 403 ``forbidden``. Unknown role names fail at import
    time, not at request time."""
    unknown = set(roles) - STAFF_ROLES
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.is_staff or (roles and not principal.has_role(*roles)):
            raise forbidden()
        return principal

    dependency.__name__ = "require_" + ("_or_".join(roles) or "staff")
    return dependency


require_staff = require_roles()

StaffPrincipal = Annotated[Principal, Depends(require_staff)]
AdminPrincipal = Annotated[Principal, Depends(require_roles(ADMIN))]
