"""Short-lived access tokens: JWT, HS256, signed with ``settings.secret_key``.

Claims: ``sub`` (staff id or person key), ``sid`` (staff session id; absent for citizens),
``roles``, ``org`` (org unit id), ``path`` (org path), ``regions``, ``kind``, ``iat``,
``exp``, ``iss`` = ``minsheng``, ``aud`` = ``minsheng-api``.

Times are checked against the injected :class:`~shared.clock.Clock`, not the wall clock, so
tests and replays can move time. A staff token is only as good as its session: ``deps``
checks the session (revocation, idle expiry) on every request.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import jwt

from shared.api.errors import ApiError
from shared.clock import Clock
from shared.identity.principal import Principal
from shared.settings import Settings

ALGORITHM = "HS256"
ISSUER = "minsheng"
AUDIENCE = "minsheng-api"
# Tolerated skew for ``iat`` between the processes issuing and checking tokens.
IAT_LEEWAY_SECONDS = 60

_BEARER = {"WWW-Authenticate": "Bearer"}


def invalid_token() -> ApiError:
    return ApiError(401, "invalid_token", "登录凭证无效", "invalid access token", headers=_BEARER)


def token_expired() -> ApiError:
    return ApiError(
        401, "token_expired", "登录凭证已过期", "the access token has expired", headers=_BEARER
    )


def access_token_seconds(settings: Settings) -> int:
    return settings.access_token_minutes * 60


def _encode(claims: dict[str, Any], settings: Settings, now: datetime) -> str:
    iat = int(now.timestamp())
    payload = {
        **claims,
        "iat": iat,
        "exp": iat + access_token_seconds(settings),
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return jwt.encode(payload, settings.secret_key, algorithm=ALGORITHM)


def issue_access_token(principal: Principal, settings: Settings, clock: Clock) -> str:
    """A staff access token for ``principal`` (which must carry its ``session_id``)."""
    if principal.kind != "staff" or principal.session_id is None:
        raise ValueError("access tokens are issued to staff principals with a session")
    claims = {
        "sub": principal.subject,
        "sid": principal.session_id,
        "kind": "staff",
        "roles": sorted(principal.roles),
        "org": principal.org_unit_id,
        "path": principal.org_path,
        "regions": list(principal.region_codes),
    }
    return _encode(claims, settings, clock.now())


def issue_citizen_token(person_key: str, settings: Settings, clock: Clock) -> str:
    """A citizen token: ``sub`` is the pseudonymous person key; no session, no roles."""
    if not person_key:
        raise ValueError("person_key is empty")
    claims = {"sub": person_key, "kind": "citizen", "roles": [], "regions": []}
    return _encode(claims, settings, clock.now())


def _str_list(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_token()
    return value


def _opt_str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise invalid_token()


@functools.lru_cache(maxsize=4096)
def _verified_claims(token: str, key: str) -> Mapping[str, Any]:
    """The claims of a token whose signature, issuer and audience check out with ``key``.
    The same token and key always give the same answer, so a client's repeated requests are
    verified once (a failure is not remembered: it raises). Time is checked by the caller,
    on every request, against the injected clock. Read-only: shared between requests."""
    return MappingProxyType(
        jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["sub", "kind", "iat", "exp", "iss", "aud"],
            },
        )
    )


def decode_access_token(
    token: str,
    settings: Settings,
    clock: Clock,
    *,
    expired_grace: timedelta | None = None,
) -> Principal:
    """The principal of a valid token; ``401 invalid_token`` / ``401 token_expired``.

    ``expired_grace`` accepts a token that expired at most that long ago (used by refresh,
    which then checks the session itself)."""
    try:
        claims = _verified_claims(token, settings.secret_key)
    except jwt.PyJWTError as exc:
        raise invalid_token() from exc

    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int) or not isinstance(iat, int):
        raise invalid_token()
    now = clock.now().timestamp()
    if iat > now + IAT_LEEWAY_SECONDS:
        raise invalid_token()
    grace = expired_grace.total_seconds() if expired_grace is not None else 0.0
    if now >= exp + grace:
        raise token_expired()

    kind, sub = claims.get("kind"), claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise invalid_token()
    if kind == "staff":
        sid, org, path = claims.get("sid"), claims.get("org"), claims.get("path")
        if not isinstance(sid, str) or not sid:
            raise invalid_token()
        return Principal(
            kind="staff",
            subject=sub,
            roles=frozenset(_str_list(claims.get("roles"))),
            org_unit_id=_opt_str(org),
            org_path=_opt_str(path),
            region_codes=tuple(_str_list(claims.get("regions"))),
            session_id=sid,
        )
    if kind == "citizen":
        return Principal(kind="citizen", subject=sub)
    # Partner principals are built from API keys or signatures, never from our tokens.
    raise invalid_token()
