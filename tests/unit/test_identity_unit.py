"""Unit tests of shared.identity: tokens, passwords, principals, scope and region logic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pyotp
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import Column, ColumnElement, MetaData, Table, Text, select
from sqlalchemy.dialects.postgresql import asyncpg

from shared.api.errors import ApiError
from shared.clock import FixedClock
from shared.identity import passwords, roles
from shared.identity.deps import require_roles
from shared.identity.principal import Principal
from shared.identity.scope import (
    ensure_in_scope,
    escape_like,
    in_region_scope,
    in_scope,
    region_covers,
    region_prefix,
    region_prefixes,
    region_scope_condition,
    scope_condition,
)
from shared.identity.service import match_totp
from shared.identity.tokens import (
    AUDIENCE,
    ISSUER,
    decode_access_token,
    issue_access_token,
    issue_citizen_token,
)
from shared.settings import Settings

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings() -> Settings:
    return Settings(env="test", secret_key="unit-test-secret-key-0123456789abcdef-xyz")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


def staff(
    path: str | None = "/SZ/SZBA/",
    role_set: frozenset[str] = frozenset({roles.HANDLER}),
    regions: tuple[str, ...] = ("440306",),
) -> Principal:
    return Principal(
        kind="staff",
        subject="0190f0aa-0000-7000-8000-000000000001",
        roles=role_set,
        org_unit_id="SZBA",
        org_path=path,
        region_codes=regions,
        session_id="7d0c2f5e-7c47-4bb1-9d55-000000000001",
    )


def code(status: int, fn: Callable[..., object], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ApiError) as info:
        fn(*args, **kwargs)
    assert info.value.status == status
    return info.value.items[0].code


# --- tokens -----------------------------------------------------------------------------


def test_token_round_trip(settings: Settings, clock: FixedClock) -> None:
    p = staff(role_set=frozenset({roles.HANDLER, roles.REGISTRAR}), regions=("440306", "440307"))
    token = issue_access_token(p, settings, clock)
    back = decode_access_token(token, settings, clock)
    assert back == p
    claims = jwt.decode(
        token,
        settings.secret_key,
        algorithms=["HS256"],
        audience=AUDIENCE,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE
    assert claims["kind"] == "staff"
    assert claims["sid"] == p.session_id
    assert claims["org"] == "SZBA"
    assert claims["path"] == "/SZ/SZBA/"
    assert claims["roles"] == ["handler", "registrar"]
    assert claims["exp"] - claims["iat"] == settings.access_token_minutes * 60
    assert claims["iat"] == int(T0.timestamp())


def test_token_expires_after_configured_minutes(settings: Settings, clock: FixedClock) -> None:
    token = issue_access_token(staff(), settings, clock)
    clock.advance(timedelta(minutes=settings.access_token_minutes) - timedelta(seconds=1))
    decode_access_token(token, settings, clock)
    clock.advance(timedelta(seconds=1))
    assert code(401, decode_access_token, token, settings, clock) == "token_expired"


def test_expired_grace_accepts_recently_expired(settings: Settings, clock: FixedClock) -> None:
    token = issue_access_token(staff(), settings, clock)
    clock.advance(timedelta(minutes=settings.access_token_minutes + 5))
    grace = timedelta(minutes=10)
    assert decode_access_token(token, settings, clock, expired_grace=grace).is_staff
    clock.advance(timedelta(minutes=6))
    assert code(401, decode_access_token, token, settings, clock, expired_grace=grace) == (
        "token_expired"
    )


def test_a_verified_token_is_checked_again_under_another_key(
    settings: Settings, clock: FixedClock
) -> None:
    """Verification is remembered per token *and* key: after the key changes, a token
    accepted before (and remembered) is refused, and its expiry is still checked each time."""
    token = issue_access_token(staff(), settings, clock)
    assert decode_access_token(token, settings, clock).is_staff
    assert decode_access_token(token, settings, clock).is_staff  # remembered
    rotated = settings.model_copy(update={"secret_key": "another-secret-key-0123456789abcdef-x"})
    assert code(401, decode_access_token, token, rotated, clock) == "invalid_token"
    clock.advance(timedelta(minutes=settings.access_token_minutes))
    assert code(401, decode_access_token, token, settings, clock) == "token_expired"


def test_tampered_token_is_invalid(settings: Settings, clock: FixedClock) -> None:
    token = issue_access_token(staff(), settings, clock)
    header, _payload, signature = token.split(".")
    # Forge a payload with more roles, keep the old signature.
    claims = jwt.decode(
        token, options={"verify_signature": False, "verify_aud": False, "verify_exp": False}
    )
    claims["roles"] = ["admin"]
    forged = jwt.encode(claims, "another-key-that-is-long-enough-000000", algorithm="HS256")
    assert code(401, decode_access_token, forged, settings, clock) == "invalid_token"
    spliced = ".".join([header, forged.split(".")[1], signature])
    assert code(401, decode_access_token, spliced, settings, clock) == "invalid_token"
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert code(401, decode_access_token, flipped, settings, clock) == "invalid_token"
    assert code(401, decode_access_token, "not-a-jwt", settings, clock) == "invalid_token"


def test_wrong_audience_or_issuer_or_algorithm(settings: Settings, clock: FixedClock) -> None:
    now = int(T0.timestamp())
    base = {"sub": "x", "sid": "s", "kind": "staff", "iat": now, "exp": now + 60}
    key = settings.secret_key
    for claims in (
        {**base, "iss": ISSUER, "aud": "someone-else"},
        {**base, "iss": "elsewhere", "aud": AUDIENCE},
        {**base, "iss": ISSUER},  # no audience
    ):
        token = jwt.encode(claims, key, algorithm="HS256")
        assert code(401, decode_access_token, token, settings, clock) == "invalid_token"
    none_alg = jwt.encode({**base, "iss": ISSUER, "aud": AUDIENCE}, "", algorithm="none")
    assert code(401, decode_access_token, none_alg, settings, clock) == "invalid_token"


def test_token_from_the_future_is_invalid(settings: Settings, clock: FixedClock) -> None:
    future = FixedClock(T0 + timedelta(hours=1))
    token = issue_access_token(staff(), settings, future)
    assert code(401, decode_access_token, token, settings, clock) == "invalid_token"


def test_partner_kind_and_staff_without_session_are_rejected(
    settings: Settings, clock: FixedClock
) -> None:
    now = int(T0.timestamp())
    for extra in ({"kind": "partner"}, {"kind": "staff"}, {"kind": "wizard", "sid": "s"}):
        claims = {"sub": "x", "iat": now, "exp": now + 60, "iss": ISSUER, "aud": AUDIENCE, **extra}
        token = jwt.encode(claims, settings.secret_key, algorithm="HS256")
        assert code(401, decode_access_token, token, settings, clock) == "invalid_token"
    with pytest.raises(ValueError):
        issue_access_token(Principal(kind="citizen", subject="p"), settings, clock)


def test_citizen_token(settings: Settings, clock: FixedClock) -> None:
    token = issue_citizen_token("pk_abc123", settings, clock)
    p = decode_access_token(token, settings, clock)
    assert p.kind == "citizen"
    assert p.subject == "pk_abc123"
    assert p.session_id is None
    assert p.roles == frozenset()
    assert not p.can_unmask()
    assert not p.has_role(roles.HANDLER)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert "sid" not in claims


def test_other_secret_key_cannot_verify(settings: Settings, clock: FixedClock) -> None:
    token = issue_access_token(staff(), settings, clock)
    other = Settings(env="test", secret_key="some-other-secret-key-0123456789abcdef")
    assert code(401, decode_access_token, token, other, clock) == "invalid_token"


# --- passwords ----------------------------------------------------------------------------


def test_password_hash_and_verify() -> None:
    h = passwords.hash_password("correct horse battery")
    assert h.startswith("$argon2id$")
    assert "correct horse" not in h
    assert passwords.verify_password(h, "correct horse battery")
    assert not passwords.verify_password(h, "correct horse batterY")
    assert not passwords.verify_password("not-a-hash", "correct horse battery")
    assert passwords.hash_password("correct horse battery") != h  # salted


def test_password_rehash_when_parameters_are_weaker() -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("long enough pw")
    ok, new = passwords.verify_and_update(weak, "long enough pw")
    assert ok
    assert new is not None and new != weak
    assert passwords.verify_password(new, "long enough pw")
    assert passwords.verify_and_update(new, "long enough pw") == (True, None)
    assert passwords.verify_and_update(weak, "wrong password") == (False, None)


def test_password_policy() -> None:
    assert code(422, passwords.hash_password, "short") == "weak_password"
    assert code(422, passwords.hash_password, "123456789") == "weak_password"
    assert code(422, passwords.hash_password, "x" * 300) == "weak_password"
    assert (
        code(422, passwords.hash_password, "Zhangsan.01", username="zhangsan.01") == "weak_password"
    )
    passwords.check_password_policy("1234567890")
    with pytest.raises(ApiError) as info:
        passwords.hash_password("short")
    assert info.value.items[0].field == "password"
    assert " / " in info.value.items[0].message  # Chinese / English


# --- principal and roles ------------------------------------------------------------------


def test_roles_and_unmask() -> None:
    assert roles.UNMASK_ROLES <= roles.STAFF_ROLES
    assert roles.CITIZEN not in roles.STAFF_ROLES and roles.PARTNER not in roles.STAFF_ROLES
    assert set(roles.ROLE_LABELS) == set(roles.STAFF_ROLES)
    assert staff(role_set=frozenset({roles.REGISTRAR})).can_unmask()
    assert staff(role_set=frozenset({roles.DISCIPLINE_INSPECTOR})).can_unmask()
    assert not staff(role_set=frozenset({roles.ANALYST, roles.LEADER})).can_unmask()
    p = staff(role_set=frozenset({roles.ANALYST}))
    assert p.has_role(roles.ADMIN, roles.ANALYST)
    assert not p.has_role(roles.ADMIN)
    assert not p.has_role()
    # A citizen never holds roles, even if someone builds one with roles.
    odd = Principal(kind="citizen", subject="p", roles=frozenset({roles.REGISTRAR}))
    assert not odd.has_role(roles.REGISTRAR) and not odd.can_unmask()


def test_require_roles_rejects_unknown_role_names() -> None:
    with pytest.raises(ValueError):
        require_roles("superuser")
    app = FastAPI()
    app.get("/x", dependencies=[Depends(require_roles(roles.ADMIN))])(lambda: {})


# --- scope ----------------------------------------------------------------------------------

org = Table("org", MetaData(), Column("path", Text), Column("region", Text))


def compiled(clause: ColumnElement[bool]) -> str:
    return str(
        select(org.c.path)
        .where(clause)
        .compile(dialect=asyncpg.dialect(), compile_kwargs={"literal_binds": True})
    )


def test_scope_condition_is_a_subtree_like() -> None:
    sql = compiled(scope_condition(staff("/SZ/SZBA/"), org.c.path))
    assert "org.path LIKE '/SZ/SZBA/%'" in sql
    assert "ESCAPE" in sql


def test_scope_condition_escapes_wildcards() -> None:
    sql = compiled(scope_condition(staff("/SZ/A_B%/"), org.c.path))
    assert r"'/SZ/A\_B\%/%'" in sql
    assert escape_like("a_b%c\\d") == "a\\_b\\%c\\\\d"


def test_scope_condition_is_false_without_org() -> None:
    for p in (
        Principal(kind="citizen", subject="p"),
        Principal(kind="partner", subject="hotline"),
        staff(path=None),
    ):
        assert "false" in compiled(scope_condition(p, org.c.path)).lower()


def test_in_scope() -> None:
    p = staff("/SZ/SZBA/")
    assert in_scope(p, "/SZ/SZBA/")
    assert in_scope(p, "/SZ/SZBA/SZBA-ZJJ/")
    assert in_scope(p, "/SZ/SZBA/SZBA-ZJJ")  # missing slash tolerated
    assert not in_scope(p, "/SZ/")
    assert not in_scope(p, "/SZ/SZBAX/")  # a sibling sharing a prefix
    assert not in_scope(p, "/SZ/SZFT/")
    assert not in_scope(p, None)
    assert not in_scope(p, "")
    assert in_scope(staff("/SZ/SZBA"), "/SZ/SZBA/X/")  # principal path without slash
    assert not in_scope(staff("/SZ/SZBA"), "/SZ/SZBAX/")
    assert not in_scope(Principal(kind="citizen", subject="p"), "/SZ/")
    ensure_in_scope(p, "/SZ/SZBA/X/")
    assert code(404, ensure_in_scope, p, "/SZ/SZFT/") == "not_found"


def test_region_prefix() -> None:
    assert region_prefix("440306") == "440306"
    assert region_prefix("440300") == "4403"
    assert region_prefix("440000") == "44"
    assert region_prefix("110100") == "1101"
    assert region_prefix("440306001") == "440306001"
    assert region_prefix("440306000") == "440306"
    assert region_prefix("440306001000") == "440306001"
    assert region_prefix("440306010000") == "440306010"
    assert region_prefix("440300000000") == "4403"
    assert region_prefix("440306001002") == "440306001002"
    for bad in ("", "44030", "4403x6", "000000", "4403061", "４４０３０６"):
        assert region_prefix(bad) is None, bad
    assert region_prefixes(["440300", "440306", "440000", "110105", "bad"]) == ("110105", "44")


def test_region_covers() -> None:
    assert region_covers(["440306"], "440306")
    assert region_covers(["440306"], "440306001")
    assert region_covers(["440306"], "440306001001")
    assert not region_covers(["440306"], "440307")
    assert not region_covers(["440306"], "440300")  # the city is not inside the district
    assert region_covers(["440300"], "440307")
    assert region_covers(["440300"], "440307012")
    assert not region_covers(["440300"], "440400")
    assert region_covers(["440000"], "441900")
    assert not region_covers(["440000"], "450100")
    assert not region_covers([], "440306")
    assert not region_covers(["440306"], None)
    p = staff(regions=("440306", "440300"))
    assert in_region_scope(p, "440304")
    assert not in_region_scope(Principal(kind="citizen", subject="p"), "440304")


def test_region_scope_condition() -> None:
    sql = compiled(
        region_scope_condition(staff(regions=("440306", "440300", "440307")), org.c.region)
    )
    assert "org.region LIKE '4403%'" in sql
    assert "440306" not in sql  # covered by the city
    sql = compiled(region_scope_condition(staff(regions=("440306", "110105")), org.c.region))
    assert "org.region LIKE '440306%'" in sql and "org.region LIKE '110105%'" in sql
    assert " OR " in sql
    assert "false" in compiled(region_scope_condition(staff(regions=()), org.c.region)).lower()
    citizen = Principal(kind="citizen", subject="p", region_codes=("440306",))
    assert "false" in compiled(region_scope_condition(citizen, org.c.region)).lower()


# --- TOTP -------------------------------------------------------------------------------------


def test_match_totp_window() -> None:
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    step = totp.timecode(T0)
    assert match_totp(secret, totp.at(T0), T0) == step
    assert match_totp(secret, totp.at(T0 - timedelta(seconds=30)), T0) == step - 1
    assert match_totp(secret, totp.at(T0 + timedelta(seconds=30)), T0) == step + 1
    assert match_totp(secret, totp.at(T0 - timedelta(seconds=90)), T0) is None
    assert match_totp(secret, None, T0) is None
    assert match_totp(secret, "12345", T0) is None
    assert match_totp(secret, "abcdef", T0) is None
    spaced = totp.at(T0)
    assert match_totp(secret, f"{spaced[:3]} {spaced[3:]}", T0) == step
