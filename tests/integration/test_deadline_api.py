"""The deadline API and command line: "when is this due?" for any staff member, the holiday
overrides for administrators, and ``minsheng deadline`` / ``minsheng admin holidays`` run as
real subprocesses (with and without a reachable database)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio
from sqlalchemy import text

from services.casework.deadline.router import router
from shared.api.app import create_service_app
from shared.clock import system_clock
from shared.db import Database
from shared.identity import service as identity
from shared.settings import Settings

# async tests run on the session loop (asyncio_default_test_loop_scope); no module mark, as
# the command-line test is synchronous
PASSWORD = "correct-horse-1"
ROOT = Path(__file__).resolve().parents[2]
YEAR = 2033  # far future: no test or library knows it


async def forget_year(db: Database, year: int) -> None:
    async with db.transaction("casework") as conn:
        await conn.execute(
            text("DELETE FROM casework.holiday WHERE extract(year FROM day) = :y"), {"y": year}
        )
        await conn.execute(text("DELETE FROM casework.holiday_year WHERE year = :y"), {"y": year})


async def token(db: Database, settings: Settings, unit: str, roles: list[str]) -> dict[str, str]:
    username = f"d{uuid.uuid4().hex[:12]}"
    async with db.transaction("identity") as conn:
        await identity.create_staff(
            conn, username=username, display_name="职员", org_unit_id=unit, roles=roles,
            password=PASSWORD,
        )  # fmt: skip
    async with db.transaction("identity") as conn:
        result = await identity.authenticate(
            conn, username=username, password=PASSWORD, totp_code=None, clock=system_clock,
            settings=settings,
        )  # fmt: skip
    return {"Authorization": f"Bearer {result.access_token}"}


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    db: Database, settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], dict[str, str]]]:
    unit = f"DL-{uuid.uuid4().hex[:8]}"
    async with db.transaction("identity") as conn:
        await identity.create_org_unit(
            conn, id=unit, name="宝安区信访局", kind="government", parent_id=None,
            region_codes=["440306"],
        )  # fmt: skip
    admin = await token(db, settings, unit, ["admin"])
    handler = await token(db, settings, unit, ["handler"])
    await forget_year(db, YEAR)
    app = create_service_app("casework", [router], settings=settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://cw") as client:
                yield client, admin, handler
    finally:
        await forget_year(db, YEAR)


async def test_deadline_endpoint(
    api: tuple[httpx.AsyncClient, dict[str, str], dict[str, str]],
) -> None:
    client, _, handler = api
    q: dict[str, str | int] = {
        "start": "2025-09-28T10:00:00+08:00",
        "days": 5,
        "working_days": "true",
    }
    assert (await client.get("/api/v1/casework/deadline", params=q)).status_code == 401
    r = await client.get("/api/v1/casework/deadline", params=q, headers=handler)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["due_at"] == "2025-10-11T23:59:59+08:00"
    assert body["provisional"] is False and body["basis"] == "working_days"
    assert [d["day"] for d in body["counted"]] == [
        "2025-09-29", "2025-09-30", "2025-10-09", "2025-10-10", "2025-10-11",
    ]  # fmt: skip
    assert len(body["skipped"]) == 8 and "国庆节" in body["skipped"][0]["reason"]
    far = await client.get(
        "/api/v1/casework/deadline",
        params={"start": "2031-12-10T09:00:00+08:00", "days": 60},
        headers=handler,
    )
    assert far.json()["due_at"] == "2032-02-09T23:59:59+08:00" and far.json()["provisional"]
    bad = await client.get(
        "/api/v1/casework/deadline",
        params={"start": "2025-09-28T10:00:00+08:00", "days": 5, "hours": 2},
        headers=handler,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "days_or_hours"


async def test_holidays_endpoints(
    api: tuple[httpx.AsyncClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, handler = api
    body = {
        "source": "测试通知",
        "days": [
            {"day": f"{YEAR}-01-03", "kind": "holiday", "name": "元旦"},  # a Monday
            {"day": f"{YEAR}-01-08", "kind": "workday", "name": "元旦"},  # a Saturday
        ],
    }
    url = f"/api/v1/casework/holidays/{YEAR}"
    assert (await client.put(url, json=body, headers=handler)).status_code == 403
    wrong = {**body, "days": [{"day": "2034-01-01", "kind": "holiday", "name": "元旦"}]}
    r = await client.put(url, json=wrong, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "day_outside_year"
    r = await client.put(url, json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["known"] and r.json()["recomputed"] == 0
    listed = await client.get("/api/v1/casework/holidays", params={"year": YEAR}, headers=handler)
    assert listed.status_code == 200
    got = listed.json()
    assert got["source"] == "测试通知" and not got["library_knows"]
    assert [(d["day"], d["kind"]) for d in got["days"]] == [
        (f"{YEAR}-01-03", "holiday"),
        (f"{YEAR}-01-08", "workday"),
    ]
    # 2033-01-01 is a Saturday: 01-02 Sun skip, 01-03 holiday, 01-04 Tue 1 … 01-07 Fri 4,
    # 01-08 Sat (make-up) 5
    r = await client.get(
        "/api/v1/casework/deadline",
        params={"start": f"{YEAR}-01-01T09:00:00+08:00", "days": 5, "working_days": True},
        headers=handler,
    )
    assert r.json()["due_at"] == f"{YEAR}-01-08T23:59:59+08:00" and not r.json()["provisional"]


def minsheng(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "minsheng.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def env_without_database(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env["MINSHENG_DATA_DIR"] = str(tmp)  # no runtime.json there
    return env


def test_cli_without_database(tmp_path: Path) -> None:
    env = env_without_database(tmp_path)
    r = minsheng(["deadline", "--start", "2025-09-28T10:00:00+08:00", "--days", "15"], env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1] == "2025-10-13T23:59:59+08:00"
    assert any("override table not read" in line for line in lines)
    r = minsheng(
        ["deadline", "--start", "2025-09-28T10:00:00+08:00", "--days", "5", "--working-days"], env
    )
    assert r.stdout.splitlines()[-1] == "2025-10-11T23:59:59+08:00"
    assert any("skipped" in line and "国庆节" in line for line in r.stdout.splitlines())
    r = minsheng(["deadline", "--start", "2025-10-01T23:00:00+08:00", "--hours", "2"], env)
    assert r.stdout.splitlines()[-1] == "2025-10-02T01:00:00+08:00"
    r = minsheng(["deadline", "--start", "2031-12-10T09:00:00+08:00", "--days", "60"], env)
    lines = r.stdout.splitlines()
    assert lines[-1] == "2032-02-09T23:59:59+08:00"
    assert any("PROVISIONAL" in line for line in lines[:-1])
    r = minsheng(["deadline", "--start", "2025-09-28T10:00:00", "--days", "15"], env)
    assert r.returncode == 2 and "offset" in r.stdout


async def test_cli_with_database(db: Database, settings: Settings, tmp_path: Path) -> None:
    env = env_without_database(tmp_path)
    env["MINSHENG_DATABASE_URL"] = settings.database_url or ""
    csv = tmp_path / "days.csv"
    csv.write_text(
        f"date,kind,name\n{YEAR + 1}-01-02,holiday,元旦\n# a comment\n{YEAR + 1}-01-07,班,元旦\n",
        encoding="utf-8",
    )
    try:
        r = minsheng(
            ["admin", "holidays", "load", "--year", str(YEAR + 1), "--file", str(csv),
             "--source", "测试通知"], env,
        )  # fmt: skip
        assert r.returncode == 0, r.stdout + r.stderr
        assert "loaded 2 day(s)" in r.stdout
        r = minsheng(["admin", "holidays", "list", "--year", str(YEAR + 1)], env)
        assert f"{YEAR + 1}-01-07  workday" in r.stdout and "测试通知" in r.stdout
        # 2034-01-01 is a Sunday: 01-02 Mon holiday (override), 01-03 Tue 1
        r = minsheng(
            ["deadline", "--start", f"{YEAR + 1}-01-01T09:00:00+08:00", "--days", "1",
             "--working-days"], env,
        )  # fmt: skip
        lines = r.stdout.splitlines()
        assert lines[-1] == f"{YEAR + 1}-01-03T23:59:59+08:00"
        assert any("override row(s)" in line for line in lines)
        assert not any("PROVISIONAL" in line for line in lines)
        bad = tmp_path / "bad.csv"
        bad.write_text(f"{YEAR + 1}-13-01,holiday,x\n", encoding="utf-8")
        r = minsheng(
            ["admin", "holidays", "load", "--year", str(YEAR + 1), "--file", str(bad),
             "--source", "x"], env,
        )  # fmt: skip
        assert r.returncode == 2 and "line 1" in r.stdout
    finally:
        await forget_year(db, YEAR + 1)
