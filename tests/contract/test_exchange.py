"""Contract tests of the provincial platform's inbound exchange (integrations §0, §3)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from shared.clock import system_clock
from shared.db import Database
from shared.settings import DEV_EXCHANGE_KEYS, Settings
from shared.signing import signed_headers
from tests.integration.test_slice import intake_client

pytestmark = pytest.mark.asyncio(loop_scope="session")

KEY_ID, SECRET = DEV_EXCHANGE_KEYS.split(":", 1)


def petition(case_no: str = "YX4400002026112200123", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "province_case_no": case_no,
        "handling": "assign",
        "form": "letter",
        "petitioners": [
            {
                "name": "李四",
                "id_number": "11010519491231002X",
                "phone": "13900139000",
                "address": "宝安区新安街道某小区",
            }
        ],
        "people_count": 12,
        "title": "工地拖欠农民工工资",
        "content": "某工地拖欠十二名工人三个月工资共计二十余万元，多次讨要无果。",
        "category": "劳动和社会保障",
        "region_code": "440306",
        "transferred_at": "2026-11-22T10:00:00+08:00",
        "deadline": "2026-12-22T23:59:59+08:00",
        "prior_case_nos": ["YX4400002026090100077"],
        "accusation": False,
        "attachments": [],
    }
    base.update(over)
    return base


async def post(client: httpx.AsyncClient, payload: Any) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = signed_headers("Exchange", KEY_ID, SECRET.encode(), body, system_clock)
    return await client.post(
        "/api/v1/exchange/petitions",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )


async def one(db: Database, sql: str) -> Any:
    async with db.transaction("intake") as conn:
        return await conn.scalar(text(sql))


async def test_new_repeat_and_changed_repeat(settings: Settings, db: Database, clean: None) -> None:
    async with intake_client(settings) as client:
        first = await post(client, petition(prior_case_nos=[]))
        assert first.status_code == 201, first.text
        again = await post(client, petition(prior_case_nos=[]))
        assert again.status_code == 200 and again.json()["case_id"] == first.json()["case_id"]
        changed = await post(client, petition(prior_case_nos=[], title="标题被改了"))
        assert changed.status_code == 200
    assert await one(db, "SELECT count(*) FROM intake.petition") == 1
    assert await one(db, "SELECT title FROM intake.petition") == "工地拖欠农民工工资"
    assert await one(db, "SELECT count(*) FROM intake.external_copy") == 2  # original + changed
    row = await one(
        db,
        "SELECT source || ',' || channel || ',' || people_count || ',' || "
        "(source_deadline IS NOT NULL) FROM intake.petition",
    )
    assert row == "province_assign,letter,12,true"
    payload = await one(db, "SELECT payload::text FROM intake.outbox_event")
    assert '"collective": true' in payload and "李四" not in payload


async def test_prior_cases_linked_and_accusation_flagged(
    settings: Settings, db: Database, clean: None
) -> None:
    async with intake_client(settings) as client:
        earlier = await post(client, petition("YX-EARLIER-1", prior_case_nos=[]))
        later = await post(
            client, petition("YX-LATER-1", prior_case_nos=["YX-EARLIER-1", "YX-UNKNOWN-9"])
        )
        assert earlier.status_code == later.status_code == 201
        secret = await post(
            client,
            petition(
                "YX-ACC-1", prior_case_nos=[], accusation=True, category="纪检监察", people_count=1
            ),
        )
        assert secret.status_code == 201
    links = await one(
        db,
        "SELECT string_agg(prior_external_id || ':' || "
        "(prior_case_id IS NOT NULL), ',' ORDER BY prior_external_id) "
        "FROM intake.prior_case_link",
    )
    assert links == "YX-EARLIER-1:true,YX-UNKNOWN-9:false"
    event = await one(
        db,
        "SELECT payload::text FROM intake.outbox_event e JOIN "
        "intake.external_ref r ON r.case_id::text = e.aggregate_id "
        "WHERE r.external_id = 'YX-LATER-1'",
    )
    assert earlier.json()["case_id"] in event
    assert (
        await one(
            db,
            "SELECT accusation FROM intake.petition p JOIN intake.external_ref r "
            "USING (case_id) WHERE r.external_id = 'YX-ACC-1'",
        )
        is True
    )
    # the same person across channels: the ID number links every petition to one person
    assert await one(db, "SELECT count(DISTINCT person_id) FROM intake.petition") == 1


async def test_refusals(settings: Settings, db: Database, clean: None) -> None:
    async with intake_client(settings) as client:
        bad = await post(
            client,
            petition(
                handling="forward",
                region_code="999999",
                petitioners=[{"name": "王五", "id_number": "123"}],
            ),
        )
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"handling", "region_code"}
        unsigned = await client.post("/api/v1/exchange/petitions", json=petition())
        assert unsigned.status_code == 401
        assert unsigned.json()["errors"][0]["field"] == "X-Exchange-Key-Id"
        # the hotline's key does not open the exchange
        from shared.settings import DEV_HOTLINE_KEYS

        hk, hs = DEV_HOTLINE_KEYS.split(":", 1)
        body = json.dumps(petition(), ensure_ascii=False).encode()
        wrong = await client.post(
            "/api/v1/exchange/petitions",
            content=body,
            headers=signed_headers("Exchange", hk, hs.encode(), body, system_clock),
        )
        assert wrong.status_code == 401 and wrong.json()["errors"][0]["code"] == "unknown_key"
        flagged = await post(
            client,
            petition(
                "YX-FLAG-1",
                prior_case_nos=[],
                petitioners=[{"name": "王五", "id_number": "123", "phone": "138"}],
            ),
        )
        assert flagged.status_code == 201  # a bad secondary field is flagged, not refused
    assert await one(db, "SELECT count(*) FROM intake.petition") == 1
    flags = await one(db, "SELECT quality_flags::text FROM intake.petition")
    assert "petitioners[0].id_number" in flags and "petitioners[0].phone" in flags
