"""Text holding U+0000, which PostgreSQL's text and jsonb cannot store, is the caller's error:
422 ``invalid_character`` naming the parameter (Open311: 400 in the standard's format), with
nothing stored — never a 500, and never the statement's parameters in a log."""

from __future__ import annotations

import pytest

from shared.db import Database
from shared.settings import Settings
from tests.integration.test_slice import intake_client, scalar

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_nul_in_body_query_and_path_is_a_clear_refusal(
    settings: Settings, db: Database, clean: None
) -> None:
    before = await scalar(db, "identity", "SELECT count(*) FROM identity.staff")
    async with intake_client(settings) as client:
        login = await client.post(
            "/api/v1/auth/login", json={"username": "ba.officer\u00001", "password": "x"}
        )
        assert login.status_code == 422, login.text
        assert login.json()["errors"] == [
            {
                "field": "body",
                "code": "invalid_character",
                "message": "不得含空字符（U+0000） / must not contain the NUL character (U+0000)",
            }
        ]

        by_id = await client.get("/open311/v2/requests/MS1%002.json")
        assert by_id.status_code == 400, by_id.text
        assert by_id.json()[0]["code"] == 400 and "U+0000" in by_id.json()[0]["description"]
        as_xml = await client.get("/open311/v2/requests/MS1%002.xml")
        assert as_xml.status_code == 400 and as_xml.text.lstrip().startswith("<?xml")

        listed = await client.get("/open311/v2/requests.json", params={"service_code": "a\x00"})
        assert listed.status_code == 200 and listed.json() == []  # no such category
    assert await scalar(db, "identity", "SELECT count(*) FROM identity.staff") == before


async def test_nul_in_a_path_or_query_parameter_is_named(settings: Settings, clean: None) -> None:
    nul = {
        "code": "invalid_character",
        "message": "不得含空字符（U+0000） / must not contain the NUL character (U+0000)",
    }
    async with intake_client(settings) as client:
        in_path = await client.get("/api/v1/petitions/MS2612%0012", params={"code": "1"})
        assert in_path.status_code == 422, in_path.text
        assert in_path.json()["errors"] == [{"field": "tracking_no", **nul}]


async def test_a_failed_statement_does_not_carry_its_parameters(db: Database) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError) as failed:
        async with db.transaction("intake") as conn:
            await conn.execute(
                text("SELECT 1 / :zero WHERE :who <> ''"), {"zero": 0, "who": "张三"}
            )
    assert "张三" not in str(failed.value) and "hidden" in str(failed.value)


async def test_an_unrelated_database_error_is_still_a_server_error() -> None:
    from sqlalchemy.exc import DBAPIError

    from shared.db import text_refused

    class Refused(Exception):
        sqlstate = "22021"

    class Other(Exception):
        sqlstate = "23505"

    assert text_refused(DBAPIError("SELECT 1", None, Refused()))
    assert not text_refused(DBAPIError("SELECT 1", None, Other()))
    assert not text_refused(ValueError("22021"))
