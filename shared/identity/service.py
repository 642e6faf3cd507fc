"""The rules of identity: org units, staff accounts, login, sessions and TOTP.

Plain async functions taking the identity-schema connection ``db`` first and keyword-only
arguments after it. They never commit: the caller's transaction does. Some refusals must
keep what was written before them (a failed login counts towards the lockout; an expired
session is marked revoked): those raise :class:`KeepWritesError`, and the endpoint layer
commits before passing the error on (``deps.identity_transaction`` does both).

Times come from the injected clock, never from ``datetime.now()`` or SQL ``now()``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from pyotp.utils import strings_equal
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.api.errors import ApiError, not_found
from shared.clock import Clock
from shared.identity import passwords
from shared.identity.models import ORG_UNIT_KINDS, org_unit, staff, staff_session
from shared.identity.principal import Principal
from shared.identity.roles import STAFF_ROLES
from shared.identity.scope import region_prefix, scope_condition, subtree_condition
from shared.identity.tokens import access_token_seconds, issue_access_token
from shared.ids import uuid7
from shared.settings import Settings

log = logging.getLogger(__name__)

TOTP_ISSUER = "Minsheng 民声"
# last_seen_at is written at most this often: no write per request.
SESSION_TOUCH_INTERVAL = timedelta(seconds=60)
USER_AGENT_MAX = 256

_ORG_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_TOTP_CODE_RE = re.compile(r"^\d{6}$")


class KeepWritesError(ApiError):
    """A refusal whose bookkeeping (failure counter, revocation) must be committed before
    the error reaches the client."""


# ---------------------------------------------------------------------------------------
# Read models


@dataclass(frozen=True)
class OrgUnit:
    id: str
    name: str
    kind: str
    parent_id: str | None
    path: str
    region_codes: tuple[str, ...]
    duties: tuple[str, ...]
    created_at: datetime

    @property
    def ancestor_ids(self) -> tuple[str, ...]:
        """Ids from the root down to this unit, itself included."""
        return tuple(p for p in self.path.split("/") if p)

    @property
    def depth(self) -> int:
        return len(self.ancestor_ids) - 1


@dataclass(frozen=True)
class StaffAccount:
    """A staff member without secrets (no password hash, no TOTP secret)."""

    id: uuid.UUID
    username: str
    display_name: str
    org_unit_id: str
    roles: frozenset[str]
    totp_enabled: bool
    active: bool
    locked_until: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class LoginResult:
    staff: StaffAccount
    org_unit: OrgUnit
    principal: Principal
    session_id: uuid.UUID
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class SessionInfo:
    id: uuid.UUID
    staff_id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class TotpEnrollment:
    secret: str
    provisioning_uri: str


def _org_unit(row: Mapping[Any, Any]) -> OrgUnit:
    return OrgUnit(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        parent_id=row["parent_id"],
        path=row["path"],
        region_codes=tuple(row["region_codes"] or ()),
        duties=tuple(row["duties"] or ()),
        created_at=row["created_at"],
    )


def _staff(row: Mapping[Any, Any]) -> StaffAccount:
    return StaffAccount(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        org_unit_id=row["org_unit_id"],
        roles=frozenset(row["roles"] or ()),
        totp_enabled=row["totp_enabled"],
        active=row["active"],
        locked_until=row["locked_until"],
        created_at=row["created_at"],
    )


_STAFF_PUBLIC = [
    staff.c.id,
    staff.c.username,
    staff.c.display_name,
    staff.c.org_unit_id,
    staff.c.roles,
    staff.c.totp_enabled,
    staff.c.active,
    staff.c.locked_until,
    staff.c.created_at,
]


def staff_principal(account: StaffAccount, unit: OrgUnit, session_id: uuid.UUID) -> Principal:
    return Principal(
        kind="staff",
        subject=str(account.id),
        roles=account.roles,
        org_unit_id=unit.id,
        org_path=unit.path,
        region_codes=unit.region_codes,
        session_id=str(session_id),
    )


# ---------------------------------------------------------------------------------------
# Org units


def unknown_org_unit(field: str) -> ApiError:
    return ApiError(422, "unknown_org_unit", "机构不存在", "no such org unit", field=field)


def _check_region_codes(codes: Sequence[str]) -> list[str]:
    out = []
    for code in codes:
        if region_prefix(code) is None:
            raise ApiError(
                422,
                "invalid_region_code",
                "行政区划代码格式不正确",
                "invalid administrative division code",
                field="region_codes",
            )
        out.append(code.strip())
    return sorted(set(out))


async def create_org_unit(
    db: AsyncConnection,
    *,
    id: str,
    name: str,
    kind: str,
    parent_id: str | None,
    region_codes: Sequence[str] = (),
    duties: Sequence[str] = (),
) -> OrgUnit:
    """Create an org unit below ``parent_id`` (or a root); its path is the parent's plus its
    id. 422 for a bad id, kind, region code or unknown parent; 409 when the id is taken."""
    if not _ORG_ID_RE.match(id):
        raise ApiError(
            422,
            "invalid_format",
            "机构编码只能包含字母、数字、点、下划线和连字符",
            "an org unit id has letters, digits, '.', '_' and '-' only",
            field="id",
        )
    if kind not in ORG_UNIT_KINDS:
        raise ApiError(422, "invalid_choice", "机构类型无效", "unknown org unit kind", field="kind")
    if not name.strip():
        raise ApiError(422, "too_short", "名称不能为空", "the name is empty", field="name")
    regions = _check_region_codes(region_codes)
    if parent_id is None:
        path = f"/{id}/"
    else:
        parent = await get_org_unit(db, unit_id=parent_id)
        if parent is None:
            raise unknown_org_unit("parent_id")
        path = f"{parent.path}{id}/"
    row = (
        (
            await db.execute(
                insert(org_unit)
                .values(
                    id=id,
                    name=name.strip(),
                    kind=kind,
                    parent_id=parent_id,
                    path=path,
                    region_codes=regions,
                    duties=sorted({d.strip() for d in duties if d.strip()}),
                )
                .on_conflict_do_nothing()
                .returning(*org_unit.c)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ApiError(409, "org_unit_exists", "机构编码已存在", "this org unit id is taken", "id")
    return _org_unit(row)


async def get_org_unit(db: AsyncConnection, *, unit_id: str) -> OrgUnit | None:
    row = (await db.execute(select(org_unit).where(org_unit.c.id == unit_id))).mappings().first()
    return _org_unit(row) if row else None


async def require_org_unit(db: AsyncConnection, *, unit_id: str) -> OrgUnit:
    """The unit, or 404."""
    unit = await get_org_unit(db, unit_id=unit_id)
    if unit is None:
        raise not_found("机构不存在", "org unit not found")
    return unit


async def subtree(db: AsyncConnection, *, unit_id: str) -> list[OrgUnit]:
    """The unit and every unit below it, in path order (a parent before its children).
    404 when the unit does not exist."""
    unit = await require_org_unit(db, unit_id=unit_id)
    rows = (
        await db.execute(
            select(org_unit)
            .where(subtree_condition(org_unit.c.path, unit.path))
            .order_by(org_unit.c.path)
        )
    ).mappings()
    return [_org_unit(r) for r in rows]


async def ancestors(db: AsyncConnection, *, unit_id: str) -> list[OrgUnit]:
    """The chain from the root down to the unit, itself included. 404 when absent."""
    unit = await require_org_unit(db, unit_id=unit_id)
    ids = unit.ancestor_ids
    rows = (await db.execute(select(org_unit).where(org_unit.c.id.in_(ids)))).mappings()
    by_id = {r["id"]: _org_unit(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


async def common_superior(db: AsyncConnection, *, a: str, b: str) -> OrgUnit | None:
    """The lowest unit that both ``a`` and ``b`` are in (one of them, if it is above the
    other); None when they are in different trees. 404 when either does not exist."""
    unit_a = await require_org_unit(db, unit_id=a)
    unit_b = await require_org_unit(db, unit_id=b)
    common: str | None = None
    for x, y in zip(unit_a.ancestor_ids, unit_b.ancestor_ids, strict=False):
        if x != y:
            break
        common = x
    if common is None:
        return None
    return await get_org_unit(db, unit_id=common)


# ---------------------------------------------------------------------------------------
# Staff


def normalize_username(username: str) -> str:
    return username.strip().lower()


async def create_staff(
    db: AsyncConnection,
    *,
    username: str,
    display_name: str,
    org_unit_id: str,
    roles: Sequence[str],
    password: str,
) -> StaffAccount:
    """Create an active staff account. 422 for a bad username, unknown role or org unit, or
    weak password; 409 when the username is taken."""
    name = normalize_username(username)
    if not _USERNAME_RE.match(name):
        raise ApiError(
            422,
            "invalid_format",
            "用户名须为 3–64 位小写字母、数字、点、下划线或连字符",
            "a username has 3-64 lowercase letters, digits, '.', '_' or '-'",
            field="username",
        )
    if not display_name.strip():
        raise ApiError(
            422, "too_short", "姓名不能为空", "the display name is empty", field="display_name"
        )
    unknown = set(roles) - STAFF_ROLES
    if unknown:
        raise ApiError(422, "unknown_role", "角色无效", "unknown role", field="roles")
    if await get_org_unit(db, unit_id=org_unit_id) is None:
        raise unknown_org_unit("org_unit_id")
    password_hash = await asyncio.to_thread(passwords.hash_password, password, username=name)
    row = (
        (
            await db.execute(
                insert(staff)
                .values(
                    id=uuid7(),
                    username=name,
                    display_name=display_name.strip(),
                    org_unit_id=org_unit_id,
                    roles=sorted(set(roles)),
                    password_hash=password_hash,
                )
                .on_conflict_do_nothing(index_elements=[staff.c.username])
                .returning(*_STAFF_PUBLIC)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ApiError(
            409, "username_taken", "用户名已被使用", "this username is taken", field="username"
        )
    return _staff(row)


async def get_staff(db: AsyncConnection, *, staff_id: uuid.UUID | str) -> StaffAccount | None:
    try:
        sid = staff_id if isinstance(staff_id, uuid.UUID) else uuid.UUID(staff_id)
    except ValueError:
        return None
    row = (await db.execute(select(*_STAFF_PUBLIC).where(staff.c.id == sid))).mappings().first()
    return _staff(row) if row else None


async def list_staff(
    db: AsyncConnection,
    *,
    principal: Principal,
    org_unit_id: str | None = None,
    include_subunits: bool = True,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[StaffAccount]:
    """Staff in the caller's scope, optionally only those of (the subtree of) one unit;
    ordered by username. An out-of-scope ``org_unit_id`` lists nobody."""
    query = (
        select(*_STAFF_PUBLIC)
        .join(org_unit, org_unit.c.id == staff.c.org_unit_id)
        .where(scope_condition(principal, org_unit.c.path))
    )
    if org_unit_id is not None:
        if include_subunits:
            unit = await get_org_unit(db, unit_id=org_unit_id)
            if unit is None:
                return []
            query = query.where(subtree_condition(org_unit.c.path, unit.path))
        else:
            query = query.where(staff.c.org_unit_id == org_unit_id)
    if active is not None:
        query = query.where(staff.c.active.is_(active))
    query = query.order_by(staff.c.username).limit(limit).offset(offset)
    rows = (await db.execute(query)).mappings()
    return [_staff(r) for r in rows]


async def staff_org_path(db: AsyncConnection, *, staff_id: uuid.UUID) -> str | None:
    """The org path of a staff member's unit (for scope checks), None when absent."""
    return (
        await db.execute(
            select(org_unit.c.path)
            .join(staff, staff.c.org_unit_id == org_unit.c.id)
            .where(staff.c.id == staff_id)
        )
    ).scalar_one_or_none()


async def deactivate_staff(db: AsyncConnection, *, staff_id: uuid.UUID, clock: Clock) -> bool:
    """Deactivate an account and end its sessions. False when there is no such account."""
    done = (
        await db.execute(
            update(staff).where(staff.c.id == staff_id).values(active=False).returning(staff.c.id)
        )
    ).first()
    if done is None:
        return False
    await revoke_staff_sessions(db, staff_id=staff_id, clock=clock)
    return True


async def set_password(db: AsyncConnection, *, staff_id: uuid.UUID, password: str) -> None:
    """Replace a password (policy enforced) and clear any lockout."""
    account = await get_staff(db, staff_id=staff_id)
    if account is None:
        raise not_found()
    password_hash = await asyncio.to_thread(
        passwords.hash_password, password, username=account.username
    )
    await db.execute(
        update(staff)
        .where(staff.c.id == staff_id)
        .values(password_hash=password_hash, failed_logins=0, locked_until=None)
    )


# ---------------------------------------------------------------------------------------
# Login


def _invalid_credentials() -> KeepWritesError:
    return KeepWritesError(
        401, "invalid_credentials", "用户名或密码错误", "wrong username or password"
    )


def _account_locked() -> KeepWritesError:
    return KeepWritesError(
        401,
        "account_locked",
        "登录失败次数过多，账号已临时锁定，请稍后再试",
        "too many failed logins: the account is locked for a while, try again later",
    )


def _totp_required() -> KeepWritesError:
    return KeepWritesError(
        401, "totp_required", "请输入动态验证码", "a one-time code is required", field="totp_code"
    )


def _invalid_totp(status: int = 401) -> KeepWritesError:
    return KeepWritesError(
        status, "invalid_totp", "动态验证码错误", "wrong one-time code", field="totp_code"
    )


def match_totp(secret: str, code: str | None, at: datetime, *, valid_window: int = 1) -> int | None:
    """The time step ``code`` belongs to (within ``valid_window`` steps of ``at``), or
    None. Compared in constant time."""
    if code is None:
        return None
    code = code.strip().replace(" ", "")
    if not _TOTP_CODE_RE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(at)
    found: int | None = None
    for offset in range(-valid_window, valid_window + 1):
        if strings_equal(totp.at(at, counter_offset=offset), code) and found is None:
            found = step + offset
    return found


async def authenticate(
    db: AsyncConnection,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    clock: Clock,
    settings: Settings,
    user_agent: str | None = None,
) -> LoginResult:
    """Check a login and open a session.

    Refusals (all 401, raised as :class:`KeepWritesError` — commit, then pass them on):
    ``invalid_credentials`` for an unknown or inactive username or a wrong password (the
    same answer, in about the same time); ``account_locked`` while locked — after
    ``login_max_failures`` consecutive failures for ``login_lockout_minutes``, whatever the
    password; ``totp_required`` / ``invalid_totp`` when TOTP is enabled. A wrong password
    or TOTP code counts as a failure.
    """
    now = clock.now()
    name = normalize_username(username)
    row = (
        (await db.execute(select(staff).where(staff.c.username == name).with_for_update()))
        .mappings()
        .first()
    )
    if row is None or not row["active"]:
        await asyncio.to_thread(passwords.burn_verification, password)
        log.info("login refused", extra={"reason": "unknown_or_inactive"})
        raise _invalid_credentials()
    staff_id: uuid.UUID = row["id"]
    locked_until: datetime | None = row["locked_until"]
    if locked_until is not None and locked_until > now:
        log.info("login refused", extra={"reason": "locked", "staff_id": str(staff_id)})
        raise _account_locked()

    ok, new_hash = await asyncio.to_thread(
        passwords.verify_and_update, row["password_hash"], password
    )
    if not ok:
        raise await _record_failure(
            db, row=row, now=now, settings=settings, error=_invalid_credentials()
        )

    totp_step: int | None = None
    if row["totp_enabled"]:
        if not totp_code:
            raise _totp_required()
        totp_step = match_totp(row["totp_secret"] or "", totp_code, now)
        last_step = row["totp_last_step"]
        if totp_step is None or (last_step is not None and totp_step <= last_step):
            raise await _record_failure(
                db, row=row, now=now, settings=settings, error=_invalid_totp()
            )

    changes: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
    if new_hash is not None:
        changes["password_hash"] = new_hash
    if totp_step is not None:
        changes["totp_last_step"] = totp_step
    await db.execute(update(staff).where(staff.c.id == staff_id).values(**changes))

    session_id = uuid.uuid4()
    await db.execute(
        staff_session.insert().values(
            id=session_id,
            staff_id=staff_id,
            created_at=now,
            last_seen_at=now,
            user_agent=user_agent[:USER_AGENT_MAX] if user_agent else None,
        )
    )
    account = _staff({**row, **changes})
    unit = await require_org_unit(db, unit_id=account.org_unit_id)
    principal = staff_principal(account, unit, session_id)
    log.info("login", extra={"staff_id": str(staff_id), "session_id": str(session_id)})
    return LoginResult(
        staff=account,
        org_unit=unit,
        principal=principal,
        session_id=session_id,
        access_token=issue_access_token(principal, settings, clock),
        expires_in=access_token_seconds(settings),
    )


async def _record_failure(
    db: AsyncConnection,
    *,
    row: Mapping[Any, Any],
    now: datetime,
    settings: Settings,
    error: KeepWritesError,
) -> KeepWritesError:
    """Count a failed attempt; the one that reaches the limit locks the account (and the
    count starts again for after the lock)."""
    failures = int(row["failed_logins"]) + 1
    values: dict[str, Any] = {"failed_logins": failures}
    result = error
    if failures >= settings.login_max_failures:
        until = now + timedelta(minutes=settings.login_lockout_minutes)
        values = {"failed_logins": 0, "locked_until": until}
        result = _account_locked()
        log.warning("account locked", extra={"staff_id": str(row["id"])})
    await db.execute(update(staff).where(staff.c.id == row["id"]).values(**values))
    return result


# ---------------------------------------------------------------------------------------
# Sessions


def _session_revoked() -> KeepWritesError:
    return KeepWritesError(
        401,
        "session_revoked",
        "会话已结束，请重新登录",
        "the session has ended: please log in again",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _session_expired() -> KeepWritesError:
    return KeepWritesError(
        401,
        "session_expired",
        "长时间未操作，会话已过期，请重新登录",
        "the session expired after inactivity: please log in again",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def touch_session(
    db: AsyncConnection,
    *,
    session_id: uuid.UUID | str,
    clock: Clock,
    settings: Settings,
) -> SessionInfo:
    """Check that a session is live and record activity.

    401 ``session_revoked`` for an unknown or revoked session or an inactive account;
    401 ``session_expired`` (and the session is revoked) when it was idle longer than
    ``session_idle_minutes``. ``last_seen_at`` is written at most once a minute."""
    sid = _as_uuid(session_id)
    if sid is None:
        raise _session_revoked()
    now = clock.now()
    row = (
        (
            await db.execute(
                select(
                    staff_session.c.id,
                    staff_session.c.staff_id,
                    staff_session.c.created_at,
                    staff_session.c.last_seen_at,
                    staff_session.c.revoked_at,
                    staff.c.active,
                )
                .join(staff, staff.c.id == staff_session.c.staff_id)
                .where(staff_session.c.id == sid)
            )
        )
        .mappings()
        .first()
    )
    if row is None or row["revoked_at"] is not None:
        raise _session_revoked()
    if not row["active"]:
        await revoke_session(db, session_id=sid, clock=clock)
        raise _session_revoked()
    last_seen: datetime = row["last_seen_at"]
    if now - last_seen > timedelta(minutes=settings.session_idle_minutes):
        await revoke_session(db, session_id=sid, clock=clock)
        raise _session_expired()
    if now - last_seen >= SESSION_TOUCH_INTERVAL:
        # Only forward: concurrent requests never move it back.
        await db.execute(
            update(staff_session)
            .where(staff_session.c.id == sid, staff_session.c.last_seen_at < now)
            .values(last_seen_at=now)
        )
        last_seen = now
    return SessionInfo(
        id=row["id"], staff_id=row["staff_id"], created_at=row["created_at"], last_seen_at=last_seen
    )


async def revoke_session(db: AsyncConnection, *, session_id: uuid.UUID | str, clock: Clock) -> bool:
    """End a session (logout). False when it was unknown or already ended."""
    sid = _as_uuid(session_id)
    if sid is None:
        return False
    done = (
        await db.execute(
            update(staff_session)
            .where(staff_session.c.id == sid, staff_session.c.revoked_at.is_(None))
            .values(revoked_at=clock.now())
            .returning(staff_session.c.id)
        )
    ).first()
    return done is not None


async def revoke_staff_sessions(db: AsyncConnection, *, staff_id: uuid.UUID, clock: Clock) -> int:
    """End every live session of a staff member; how many were ended."""
    result = await db.execute(
        update(staff_session)
        .where(staff_session.c.staff_id == staff_id, staff_session.c.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .returning(staff_session.c.id)
    )
    return len(result.all())


async def refresh_access_token(
    db: AsyncConnection,
    *,
    session_id: uuid.UUID | str,
    staff_id: uuid.UUID | str,
    clock: Clock,
    settings: Settings,
) -> tuple[str, Principal]:
    """A new access token for a live session, with roles and org re-read (so changes take
    effect). The session rules of :func:`touch_session` apply."""
    info = await touch_session(db, session_id=session_id, clock=clock, settings=settings)
    if str(info.staff_id) != str(staff_id):
        raise _session_revoked()
    account = await get_staff(db, staff_id=info.staff_id)
    if account is None or not account.active:
        raise _session_revoked()
    unit = await require_org_unit(db, unit_id=account.org_unit_id)
    principal = staff_principal(account, unit, info.id)
    return issue_access_token(principal, settings, clock), principal


# ---------------------------------------------------------------------------------------
# TOTP


async def enroll_totp(db: AsyncConnection, *, staff_id: uuid.UUID) -> TotpEnrollment:
    """Start (or restart) TOTP enrolment: a new secret, pending until confirmed.
    409 ``totp_already_enabled`` when TOTP is on."""
    row = (
        (
            await db.execute(
                select(staff.c.username, staff.c.totp_enabled)
                .where(staff.c.id == staff_id)
                .with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found()
    if row["totp_enabled"]:
        raise ApiError(409, "totp_already_enabled", "已启用动态验证码", "TOTP is already enabled")
    secret = pyotp.random_base32()
    await db.execute(
        update(staff).where(staff.c.id == staff_id).values(totp_secret=secret, totp_last_step=None)
    )
    uri = pyotp.TOTP(secret).provisioning_uri(name=row["username"], issuer_name=TOTP_ISSUER)
    return TotpEnrollment(secret=secret, provisioning_uri=uri)


async def confirm_totp(
    db: AsyncConnection, *, staff_id: uuid.UUID, code: str, clock: Clock
) -> None:
    """Turn TOTP on once the first code from the authenticator matches the pending secret.
    409 ``totp_not_enrolled`` / ``totp_already_enabled``; 422 ``invalid_totp``."""
    row = (
        (
            await db.execute(
                select(staff.c.totp_secret, staff.c.totp_enabled)
                .where(staff.c.id == staff_id)
                .with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found()
    if row["totp_enabled"]:
        raise ApiError(409, "totp_already_enabled", "已启用动态验证码", "TOTP is already enabled")
    if not row["totp_secret"]:
        raise ApiError(
            409, "totp_not_enrolled", "尚未开始绑定动态验证码", "TOTP enrolment was not started"
        )
    step = match_totp(row["totp_secret"], code, clock.now())
    if step is None:
        raise ApiError(422, "invalid_totp", "动态验证码错误", "wrong one-time code", field="code")
    await db.execute(
        update(staff).where(staff.c.id == staff_id).values(totp_enabled=True, totp_last_step=step)
    )


async def reset_totp(db: AsyncConnection, *, staff_id: uuid.UUID) -> None:
    """Turn TOTP off and forget the secret (an administrator's act, e.g. a lost phone)."""
    await db.execute(
        update(staff)
        .where(staff.c.id == staff_id)
        .values(totp_enabled=False, totp_secret=None, totp_last_step=None)
    )


async def count_live_sessions(db: AsyncConnection, *, staff_id: uuid.UUID) -> int:
    return int(
        (
            await db.execute(
                select(func.count())
                .select_from(staff_session)
                .where(staff_session.c.staff_id == staff_id, staff_session.c.revoked_at.is_(None))
            )
        ).scalar_one()
    )
