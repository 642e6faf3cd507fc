"""Identity against a real PostgreSQL: login, lockout, TOTP, sessions, org tree, admin API.

The module starts its own embedded PostgreSQL and migrates the identity schema; the app is
the auth and admin routers with the project's error handlers, driven over ASGI.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import Text, column, select, values

from shared.api.errors import ApiError, install_error_handlers
from shared.clock import FixedClock
from shared.db import Database
from shared.db.migrate import alembic_config
from shared.identity import roles, service
from shared.identity.models import org_unit, staff, staff_session
from shared.identity.principal import Principal
from shared.identity.router import admin_router, router
from shared.identity.scope import region_scope_condition, scope_condition
from shared.identity.tokens import issue_citizen_token
from shared.settings import Settings

T0 = datetime(2025, 3, 3, 1, 0, 0, tzinfo=UTC)
PASSWORD = "correct-horse-1"

# (id, name, kind, parent, regions)
TREE = [
    ("SZ", "深圳市人民政府", "government", None, ["440300"]),
    ("SZBA", "宝安区人民政府", "government", "SZ", ["440306"]),
    ("SZBA-ZJJ", "宝安区住建局", "department", "SZBA", []),
    ("SZBA-XX", "新安街道", "street", "SZBA", ["440306001"]),
    ("SZBA-XX-C1", "海旺社区", "community", "SZBA-XX", ["440306001001"]),
    ("SZFT", "福田区人民政府", "government", "SZ", ["440304"]),
    ("A_B", "通配符测试单位", "department", "SZFT", []),
    ("AXB", "通配符邻居单位", "department", "SZFT", []),
    ("GZ", "广州市人民政府", "government", None, ["440100"]),
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    from minsheng.embedded import EmbeddedPostgres

    pg = EmbeddedPostgres(tmp_path_factory.mktemp("pg"))
    pg.start()
    try:
        s = Settings(
            env="test",
            database_url=pg.url(),
            identity_database_url=pg.url(),
            data_dir=Path(tmp_path_factory.mktemp("data")),
            secret_key="integration-test-secret-key-0123456789",
        )
        cfg = alembic_config("identity", s)
        command.upgrade(cfg, "head")
        # The history must also go down and up again cleanly.
        command.downgrade(cfg, "base")
        command.upgrade(cfg, "head")
        yield s
    finally:
        pg.stop()


@pytest.fixture(scope="module")
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings, pool_size=4)
    async with db.transaction("identity") as conn:
        for unit_id, name, kind, parent, regions in TREE:
            await service.create_org_unit(
                conn,
                id=unit_id,
                name=name,
                kind=kind,
                parent_id=parent,
                region_codes=regions,
                duties=["C01"] if kind == "department" else [],
            )
        await service.create_staff(
            conn,
            username="city.admin",
            display_name="市管理员",
            org_unit_id="SZ",
            roles=[roles.ADMIN],
            password=PASSWORD,
        )
        await service.create_staff(
            conn,
            username="ba.admin",
            display_name="区管理员",
            org_unit_id="SZBA",
            roles=[roles.ADMIN],
            password=PASSWORD,
        )
    yield db
    await db.dispose()


@pytest.fixture(scope="module")
def app(database: Database, settings: Settings) -> FastAPI:
    application = FastAPI()
    install_error_handlers(application)
    application.include_router(router)
    application.include_router(admin_router)
    application.state.db = database
    application.state.settings = settings
    return application


@pytest.fixture
def clock(app: FastAPI) -> FixedClock:
    c = FixedClock(T0)
    app.state.clock = c
    return c


@pytest.fixture
async def client(app: FastAPI, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def new_staff(
    database: Database, unit: str = "SZBA-ZJJ", role_list: list[str] | None = None
) -> str:
    username = f"u{uuid.uuid4().hex[:10]}"
    async with database.transaction("identity") as conn:
        await service.create_staff(
            conn,
            username=username,
            display_name="张三",
            org_unit_id=unit,
            roles=role_list if role_list is not None else [roles.HANDLER],
            password=PASSWORD,
        )
    return username


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, **extra: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password, **extra}
    )


async def token_of(client: httpx.AsyncClient, username: str) -> str:
    r = await login(client, username)
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(r: httpx.Response) -> str:
    code: str = r.json()["errors"][0]["code"]
    return code


# --- login ------------------------------------------------------------------------------------


async def test_login_and_me(client: httpx.AsyncClient, database: Database) -> None:
    username = await new_staff(database)
    r = await client.post(
        "/api/v1/auth/login",
        json={"username": username.upper() + " ", "password": PASSWORD},
        headers={"User-Agent": "pytest-agent"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["staff"]["username"] == username
    assert body["staff"]["roles"] == ["handler"]
    assert "password_hash" not in body["staff"] and "totp_secret" not in body["staff"]

    me = await client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    m = me.json()
    assert m["kind"] == "staff"
    assert m["subject"] == body["staff"]["id"]
    assert m["session_id"] == body["session_id"]
    assert m["org_unit_id"] == "SZBA-ZJJ"
    assert m["org_path"] == "/SZ/SZBA/SZBA-ZJJ/"
    assert m["can_unmask"] is True
    assert m["org_unit"]["name"] == "宝安区住建局"

    async with database.transaction("identity") as conn:
        row = (
            (
                await conn.execute(
                    select(staff_session).where(staff_session.c.id == uuid.UUID(body["session_id"]))
                )
            )
            .mappings()
            .one()
        )
    assert row["user_agent"] == "pytest-agent"
    assert row["created_at"] == T0 and row["revoked_at"] is None


async def test_wrong_password_and_unknown_user_look_the_same(
    client: httpx.AsyncClient, database: Database
) -> None:
    username = await new_staff(database)
    wrong = await login(client, username, "wrong-password-1")
    unknown = await login(client, "nobody-" + username, "wrong-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert error_code(wrong) == "invalid_credentials"
    assert " / " in wrong.json()["errors"][0]["message"]


async def test_deactivated_account_cannot_log_in(
    client: httpx.AsyncClient, database: Database, clock: FixedClock
) -> None:
    username = await new_staff(database)
    async with database.transaction("identity") as conn:
        sid = (
            await conn.execute(select(staff.c.id).where(staff.c.username == username))
        ).scalar_one()
        assert await service.deactivate_staff(conn, staff_id=sid, clock=clock)
    r = await login(client, username)
    assert r.status_code == 401 and error_code(r) == "invalid_credentials"


async def test_login_body_is_validated(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/login", json={"username": "a", "password": "b", "remember": True}
    )
    assert r.status_code == 422
    assert error_code(r) == "unknown_field"
    r = await client.post("/api/v1/auth/login", json={"username": "a"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "password"


async def test_lockout_after_max_failures_and_its_end(
    client: httpx.AsyncClient, database: Database, clock: FixedClock
) -> None:
    username = await new_staff(database)
    codes = [error_code(await login(client, username, "wrong-password-1")) for _ in range(5)]
    assert codes == ["invalid_credentials"] * 4 + ["account_locked"]

    # Locked: even the right password is refused, with the lock's own code.
    r = await login(client, username)
    assert r.status_code == 401 and error_code(r) == "account_locked"
    clock.advance(timedelta(minutes=14, seconds=59))
    assert error_code(await login(client, username)) == "account_locked"

    clock.advance(timedelta(seconds=2))
    r = await login(client, username)
    assert r.status_code == 200, r.text
    async with database.transaction("identity") as conn:
        row = (
            await conn.execute(
                select(staff.c.failed_logins, staff.c.locked_until).where(
                    staff.c.username == username
                )
            )
        ).one()
    assert row.failed_logins == 0 and row.locked_until is None


async def test_success_resets_the_failure_count(
    client: httpx.AsyncClient, database: Database
) -> None:
    username = await new_staff(database)
    for _ in range(4):
        assert error_code(await login(client, username, "wrong-password-1")) == (
            "invalid_credentials"
        )
    assert (await login(client, username)).status_code == 200
    for _ in range(4):
        assert error_code(await login(client, username, "wrong-password-1")) == (
            "invalid_credentials"
        )
    assert (await login(client, username)).status_code == 200


# --- TOTP -------------------------------------------------------------------------------------


async def test_totp_enrolment_and_login(
    client: httpx.AsyncClient, database: Database, clock: FixedClock
) -> None:
    username = await new_staff(database)
    token = await token_of(client, username)
    r = await client.post("/api/v1/auth/totp/enroll", headers=bearer(token))
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    assert r.json()["provisioning_uri"].startswith("otpauth://totp/")
    assert username in r.json()["provisioning_uri"]
    totp = pyotp.TOTP(secret)

    # Not enabled until confirmed: a login without a code still works.
    assert (await login(client, username)).status_code == 200

    wrong = "000000" if totp.at(T0) != "000000" else "111111"
    r = await client.post("/api/v1/auth/totp/confirm", json={"code": wrong}, headers=bearer(token))
    assert r.status_code == 422 and error_code(r) == "invalid_totp"
    r = await client.post(
        "/api/v1/auth/totp/confirm", json={"code": totp.at(T0)}, headers=bearer(token)
    )
    assert r.status_code == 200 and r.json() == {"totp_enabled": True}
    r = await client.post("/api/v1/auth/totp/enroll", headers=bearer(token))
    assert r.status_code == 409 and error_code(r) == "totp_already_enabled"

    r = await login(client, username)
    assert r.status_code == 401 and error_code(r) == "totp_required"
    r = await login(client, username, totp_code=wrong)
    assert r.status_code == 401 and error_code(r) == "invalid_totp"
    # The code used to confirm cannot be used again.
    r = await login(client, username, totp_code=totp.at(T0))
    assert r.status_code == 401 and error_code(r) == "invalid_totp"

    clock.advance(timedelta(seconds=30))
    now = clock.now()
    r = await login(client, username, totp_code=totp.at(now))
    assert r.status_code == 200, r.text
    assert r.json()["staff"]["totp_enabled"] is True
    # Replay of the same code is refused.
    r = await login(client, username, totp_code=totp.at(now))
    assert r.status_code == 401 and error_code(r) == "invalid_totp"
    # The wrong password is still checked first.
    clock.advance(timedelta(seconds=30))
    r = await login(client, username, "wrong-password-1", totp_code=totp.at(clock.now()))
    assert error_code(r) == "invalid_credentials"


async def test_wrong_totp_codes_count_towards_lockout(
    client: httpx.AsyncClient, database: Database, clock: FixedClock
) -> None:
    username = await new_staff(database)
    secret = pyotp.random_base32()
    async with database.transaction("identity") as conn:
        await conn.execute(
            staff.update()
            .where(staff.c.username == username)
            .values(totp_secret=secret, totp_enabled=True)
        )
    valid = pyotp.TOTP(secret).at(T0)
    wrong = "000000" if valid != "000000" else "111111"
    codes = [error_code(await login(client, username, totp_code=wrong)) for _ in range(5)]
    assert codes == ["invalid_totp"] * 4 + ["account_locked"]
    assert error_code(await login(client, username, totp_code=valid)) == "account_locked"


# --- sessions -------------------------------------------------------------------------------


async def test_missing_or_malformed_credentials(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/auth/me")
    assert r.status_code == 401 and error_code(r) == "not_authenticated"
    assert r.headers["www-authenticate"] == "Bearer"
    r = await client.get("/api/v1/auth/me", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert r.status_code == 401 and error_code(r) == "not_authenticated"
    r = await client.get("/api/v1/auth/me", headers=bearer("garbage"))
    assert r.status_code == 401 and error_code(r) == "invalid_token"


async def test_logout_revokes_the_session(client: httpx.AsyncClient, database: Database) -> None:
    username = await new_staff(database)
    token = await token_of(client, username)
    other = await token_of(client, username)  # a second session of the same person
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200

    r = await client.post("/api/v1/auth/logout", headers=bearer(token))
    assert r.status_code == 204
    r = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401 and error_code(r) == "session_revoked"
    r = await client.post("/api/v1/auth/refresh", headers=bearer(token))
    assert r.status_code == 401 and error_code(r) == "session_revoked"
    # Only that session ended.
    assert (await client.get("/api/v1/auth/me", headers=bearer(other))).status_code == 200


async def test_token_expires_but_refresh_keeps_a_live_session(
    client: httpx.AsyncClient, database: Database, clock: FixedClock
) -> None:
    username = await new_staff(database)
    token = await token_of(client, username)
    clock.advance(timedelta(minutes=14))
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    clock.advance(timedelta(minutes=14))
    r = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401 and error_code(r) == "token_expired"
    # 28 minutes after login but only 14 idle: the session lives on.
    r = await client.post("/api/v1/auth/refresh", headers=bearer(token))
    assert r.status_code == 200, r.text
    fresh = r.json()["access_token"]
    assert r.json()["expires_in"] == 900
    clock.advance(timedelta(minutes=14))
    me = await client.get("/api/v1/auth/me", headers=bearer(fresh))
    assert me.status_code == 200, me.text
    assert me.json()["session_id"] == r.json()["session_id"]


async def test_idle_session_expires(
    client: httpx.AsyncClient, database: Database, clock: FixedClock
) -> None:
    username = await new_staff(database)
    token = await token_of(client, username)
    clock.advance(timedelta(minutes=30, seconds=1))
    r = await client.post("/api/v1/auth/refresh", headers=bearer(token))
    assert r.status_code == 401 and error_code(r) == "session_expired"
    # The expiry was recorded: the session is now revoked for good.
    r = await client.post("/api/v1/auth/refresh", headers=bearer(token))
    assert r.status_code == 401 and error_code(r) == "session_revoked"
    # A fresh token of an expired session is no good either.
    async with database.transaction("identity") as conn:
        revoked = (
            await conn.execute(
                select(staff_session.c.revoked_at)
                .join(staff, staff.c.id == staff_session.c.staff_id)
                .where(staff.c.username == username)
            )
        ).scalar_one()
    assert revoked == clock.now()


async def test_idle_expiry_through_the_request_path(
    database: Database, settings: Settings, clock: FixedClock
) -> None:
    username = await new_staff(database)
    async with database.transaction("identity") as conn:
        result = await service.authenticate(
            conn,
            username=username,
            password=PASSWORD,
            totp_code=None,
            clock=clock,
            settings=settings,
        )
    sid = result.session_id
    clock.advance(timedelta(minutes=31))
    with pytest.raises(ApiError) as info:
        async with database.transaction("identity") as conn:
            await service.touch_session(conn, session_id=sid, clock=clock, settings=settings)
    assert info.value.items[0].code == "session_expired"


async def test_last_seen_is_written_at_most_once_a_minute(
    client: httpx.AsyncClient, database: Database, clock: FixedClock
) -> None:
    username = await new_staff(database)
    r = await login(client, username)
    token, sid = r.json()["access_token"], uuid.UUID(r.json()["session_id"])

    async def last_seen() -> datetime:
        async with database.transaction("identity") as conn:
            value: datetime = (
                await conn.execute(
                    select(staff_session.c.last_seen_at).where(staff_session.c.id == sid)
                )
            ).scalar_one()
        return value

    clock.advance(timedelta(seconds=30))
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    assert await last_seen() == T0
    clock.advance(timedelta(seconds=31))
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    assert await last_seen() == T0 + timedelta(seconds=61)


async def test_deactivation_ends_sessions(
    client: httpx.AsyncClient, database: Database, clock: FixedClock
) -> None:
    username = await new_staff(database)
    token = await token_of(client, username)
    admin = await token_of(client, "ba.admin")
    me = (await client.get("/api/v1/auth/me", headers=bearer(token))).json()
    r = await client.post(f"/api/v1/admin/staff/{me['subject']}/deactivate", headers=bearer(admin))
    assert r.status_code == 204
    r = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401 and error_code(r) == "session_revoked"


async def test_citizen_token(
    client: httpx.AsyncClient, settings: Settings, clock: FixedClock
) -> None:
    token = issue_citizen_token("pk_0001", settings, clock)
    me = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["kind"] == "citizen" and me.json()["subject"] == "pk_0001"
    assert me.json()["staff"] is None and me.json()["can_unmask"] is False
    r = await client.get("/api/v1/admin/staff", headers=bearer(token))
    assert r.status_code == 403 and error_code(r) == "forbidden"
    r = await client.post("/api/v1/auth/totp/enroll", headers=bearer(token))
    assert r.status_code == 403
    r = await client.post("/api/v1/auth/refresh", headers=bearer(token))
    assert r.status_code == 401 and error_code(r) == "invalid_token"
    assert (await client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204


# --- org tree and scope -------------------------------------------------------------------------


async def test_org_paths_subtree_and_common_superior(database: Database) -> None:
    async with database.transaction("identity") as conn:
        unit = await service.get_org_unit(conn, unit_id="SZBA-XX-C1")
        assert unit is not None
        assert unit.path == "/SZ/SZBA/SZBA-XX/SZBA-XX-C1/"
        assert unit.ancestor_ids == ("SZ", "SZBA", "SZBA-XX", "SZBA-XX-C1")
        assert unit.region_codes == ("440306001001",)

        ids = [u.id for u in await service.subtree(conn, unit_id="SZBA")]
        assert ids == ["SZBA", "SZBA-XX", "SZBA-XX-C1", "SZBA-ZJJ"]
        assert [u.id for u in await service.subtree(conn, unit_id="SZBA-ZJJ")] == ["SZBA-ZJJ"]
        # The LIKE wildcard in "A_B" must not match its neighbour "AXB".
        assert [u.id for u in await service.subtree(conn, unit_id="A_B")] == ["A_B"]

        async def superior(a: str, b: str) -> str | None:
            unit = await service.common_superior(conn, a=a, b=b)
            return unit.id if unit else None

        assert await superior("SZBA-ZJJ", "SZBA-XX-C1") == "SZBA"
        assert await superior("SZBA-ZJJ", "SZFT") == "SZ"
        assert await superior("SZBA", "SZBA-XX-C1") == "SZBA"
        assert await superior("SZBA-XX", "SZBA-XX") == "SZBA-XX"
        assert await superior("SZBA", "GZ") is None
        with pytest.raises(ApiError) as info:
            await superior("SZBA", "NOPE")
        assert info.value.status == 404

        chain = await service.ancestors(conn, unit_id="SZBA-XX-C1")
        assert [u.id for u in chain] == ["SZ", "SZBA", "SZBA-XX", "SZBA-XX-C1"]

        with pytest.raises(ApiError) as info:
            await service.create_org_unit(
                conn, id="SZBA", name="重复", kind="department", parent_id="SZ"
            )
        assert info.value.status == 409
        for bad in (
            {"id": "a/b", "kind": "department", "parent_id": "SZ"},
            {"id": "NEW1", "kind": "army", "parent_id": "SZ"},
            {"id": "NEW2", "kind": "department", "parent_id": "NOPE"},
            {"id": "NEW3", "kind": "department", "parent_id": "SZ", "region_codes": ["4403061"]},
        ):
            with pytest.raises(ApiError) as info:
                await service.create_org_unit(conn, name="x", **bad)
            assert info.value.status == 422


async def test_scope_conditions_in_real_queries(database: Database) -> None:
    def principal(path: str, regions: tuple[str, ...] = ()) -> Principal:
        return Principal(
            kind="staff",
            subject=str(uuid.uuid4()),
            roles=frozenset({roles.HANDLER}),
            org_unit_id=path.strip("/").split("/")[-1],
            org_path=path,
            region_codes=regions,
            session_id=str(uuid.uuid4()),
        )

    async with database.transaction("identity") as conn:

        async def visible(p: Principal) -> list[str]:
            rows = await conn.execute(
                select(org_unit.c.id).where(scope_condition(p, org_unit.c.path)).order_by("id")
            )
            return list(rows.scalars())

        assert await visible(principal("/SZ/SZBA/")) == [
            "SZBA",
            "SZBA-XX",
            "SZBA-XX-C1",
            "SZBA-ZJJ",
        ]
        assert await visible(principal("/SZ/SZFT/A_B/")) == ["A_B"]
        assert await visible(Principal(kind="citizen", subject="pk")) == []

        codes = values(column("code", Text), name="t").data(
            [
                ("440306",),
                ("440306001",),
                ("440306002003",),
                ("440307",),
                ("440304",),
                ("440100",),
                ("440300",),
            ]
        )

        async def in_region(p: Principal) -> list[str]:
            rows = await conn.execute(
                select(codes.c.code)
                .where(region_scope_condition(p, codes.c.code))
                .order_by(codes.c.code)
            )
            return list(rows.scalars())

        assert await in_region(principal("/SZ/SZBA/", ("440306",))) == [
            "440306",
            "440306001",
            "440306002003",
        ]
        assert await in_region(principal("/SZ/", ("440300",))) == [
            "440300",
            "440304",
            "440306",
            "440306001",
            "440306002003",
            "440307",
        ]
        assert await in_region(principal("/SZ/", ("440306001000", "440304"))) == [
            "440304",
            "440306001",
        ]
        assert await in_region(principal("/SZ/")) == []


# --- admin API ------------------------------------------------------------------------------------


async def test_admin_endpoints_need_the_admin_role(
    client: httpx.AsyncClient, database: Database
) -> None:
    username = await new_staff(database, role_list=[roles.HANDLER, roles.LEADER])
    token = await token_of(client, username)
    calls = [
        (
            "POST",
            "/api/v1/admin/org-units",
            {"id": "X1", "name": "x", "kind": "department", "parent_id": "SZBA"},
        ),
        ("GET", "/api/v1/admin/staff", None),
        (
            "POST",
            "/api/v1/admin/staff",
            {"username": "abc", "display_name": "x", "org_unit_id": "SZBA", "password": PASSWORD},
        ),
        ("GET", "/api/v1/admin/org-units/SZBA", None),
    ]
    for method, url, body in calls:
        r = await client.request(method, url, json=body, headers=bearer(token))
        assert r.status_code == 403, (url, r.text)
        assert error_code(r) == "forbidden"
        r = await client.request(method, url, json=body)
        assert r.status_code == 401 and error_code(r) == "not_authenticated"


async def test_admin_works_within_its_subtree(
    client: httpx.AsyncClient, database: Database
) -> None:
    token = await token_of(client, "ba.admin")
    h = bearer(token)

    r = await client.post(
        "/api/v1/admin/org-units",
        json={
            "id": "SZBA-XX-C2",
            "name": "上川社区",
            "kind": "community",
            "parent_id": "SZBA-XX",
            "region_codes": ["440306001002"],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["path"] == "/SZ/SZBA/SZBA-XX/SZBA-XX-C2/"
    # Outside the subtree the parent is as good as absent.
    r = await client.post(
        "/api/v1/admin/org-units",
        json={"id": "SZFT-1", "name": "x", "kind": "street", "parent_id": "SZFT"},
        headers=h,
    )
    assert r.status_code == 422 and error_code(r) == "unknown_org_unit"
    assert r.json()["errors"][0]["field"] == "parent_id"
    r = await client.post(
        "/api/v1/admin/org-units",
        json={"id": "Z1", "name": "x", "kind": "army", "parent_id": "SZBA"},
        headers=h,
    )
    assert r.status_code == 422 and error_code(r) == "invalid_choice"

    assert (await client.get("/api/v1/admin/org-units/SZBA-XX", headers=h)).status_code == 200
    r = await client.get("/api/v1/admin/org-units/SZFT", headers=h)
    assert r.status_code == 404 and error_code(r) == "not_found"
    r = await client.get("/api/v1/admin/org-units/SZBA-XX/subtree", headers=h)
    assert [u["id"] for u in r.json()] == ["SZBA-XX", "SZBA-XX-C1", "SZBA-XX-C2"]

    new = {
        "username": "Li.Si",
        "display_name": "李四",
        "org_unit_id": "SZBA-XX-C2",
        "roles": ["registrar"],
        "password": "a-good-password",
    }
    r = await client.post("/api/v1/admin/staff", json=new, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["username"] == "li.si" and r.json()["roles"] == ["registrar"]
    r = await client.post("/api/v1/admin/staff", json=new, headers=h)
    assert r.status_code == 409 and error_code(r) == "username_taken"
    r = await client.post(
        "/api/v1/admin/staff", json={**new, "username": "wang.wu", "password": "short"}, headers=h
    )
    assert r.status_code == 422 and error_code(r) == "weak_password"
    r = await client.post(
        "/api/v1/admin/staff",
        json={**new, "username": "wang.wu", "roles": ["superuser"]},
        headers=h,
    )
    assert r.status_code == 422 and error_code(r) == "unknown_role"
    r = await client.post(
        "/api/v1/admin/staff", json={**new, "username": "wang.wu", "org_unit_id": "SZFT"}, headers=h
    )
    assert r.status_code == 422 and error_code(r) == "unknown_org_unit"
    assert (await login(client, "li.si", "a-good-password")).status_code == 200

    listed = (await client.get("/api/v1/admin/staff", headers=h)).json()["items"]
    units = {s["org_unit_id"] for s in listed}
    assert "li.si" in {s["username"] for s in listed}
    assert "city.admin" not in {s["username"] for s in listed}
    assert all(u.startswith("SZBA") for u in units)
    only = await client.get("/api/v1/admin/staff", params={"org_unit_id": "SZBA-XX"}, headers=h)
    assert [s["username"] for s in only.json()["items"]] == ["li.si"]
    outside = await client.get("/api/v1/admin/staff", params={"org_unit_id": "SZ"}, headers=h)
    assert {s["username"] for s in outside.json()["items"]} == {
        s["username"] for s in listed
    }  # the city filter cannot widen the admin's own scope

    city = bearer(await token_of(client, "city.admin"))
    city_admin_id = next(
        s["id"]
        for s in (await client.get("/api/v1/admin/staff", headers=city)).json()["items"]
        if s["username"] == "city.admin"
    )
    r = await client.post(f"/api/v1/admin/staff/{city_admin_id}/deactivate", headers=h)
    assert r.status_code == 404
    r = await client.post(f"/api/v1/admin/staff/{uuid.uuid4()}/deactivate", headers=h)
    assert r.status_code == 404


def test_migrations_match_the_models(settings: Settings) -> None:
    # Raises AutogenerateDiffsDetected when models.py and the history disagree.
    command.check(alembic_config("identity", settings))
