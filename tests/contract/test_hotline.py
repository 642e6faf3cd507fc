"""Contract tests of the 12345 hotline's endpoints (integrations §0–1), called exactly as the
hotline calls them: signed, retried, concurrent, out of order with amendments."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from shared.clock import FixedClock, system_clock
from shared.db import Database
from shared.settings import DEV_HOTLINE_KEYS, Settings
from shared.signing import signed_headers
from tests.integration.test_slice import intake_client

pytestmark = pytest.mark.asyncio(loop_scope="session")

KEY_ID, SECRET = DEV_HOTLINE_KEYS.split(":", 1)


def order(order_no: str = "GD202611220001234", revision: int = 1, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "order_no": order_no,
        "revision": revision,
        "received_at": "2026-11-22T09:15:00+08:00",
        "channel": "phone",
        "caller": {"name": "张三", "phone": "13800138000", "id_number": None},
        "anonymous": False,
        "title": "小区门口餐饮店油烟扰民",
        "content": "小区门口餐饮店每天傍晚油烟很大，影响居民生活，请求处理。",
        "category": "环境保护",
        "region_code": "440306",
        "address": "宝安区西乡街道某小区",
        "location": {"lat": 22.58, "lng": 113.87},
        "urgency": "normal",
        "due_at": "2026-11-29T18:00:00+08:00",
        "attachments": [],
        "hotline_extra_field": "ignored but kept",
    }
    base.update(over)
    return base


class Hotline:
    """The hotline's side: signs every attempt afresh."""

    def __init__(self, client: httpx.AsyncClient, clock: Any = system_clock) -> None:
        self.client = client
        self.clock = clock

    async def post(
        self,
        path: str,
        payload: Any,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        h = headers or signed_headers("Hotline", KEY_ID, SECRET.encode(), body, self.clock)
        return await self.client.post(
            path, content=body, headers={**h, "Content-Type": "application/json"}
        )

    async def get(self, path: str, params: dict[str, str]) -> httpx.Response:
        h = signed_headers("Hotline", KEY_ID, SECRET.encode(), b"", self.clock)
        return await self.client.get(path, params=params, headers=h)


async def count(db: Database, sql: str, **params: Any) -> Any:
    async with db.transaction("intake") as conn:
        return await conn.scalar(text(sql), params)


async def test_new_repeat_stale_and_amended(settings: Settings, db: Database, clean: None) -> None:
    async with intake_client(settings) as client:
        hotline = Hotline(client)
        first = await hotline.post("/api/v1/hotline/work-orders", order(revision=2))
        assert first.status_code == 201, first.text
        body = first.json()
        assert body["status"] == "received" and body["case_id"] and body["tracking_no"]
        repeat = await hotline.post("/api/v1/hotline/work-orders", order(revision=2))
        assert repeat.status_code == 200 and repeat.json() == body
        stale = await hotline.post(
            "/api/v1/hotline/work-orders", order(revision=1, title="旧的标题")
        )
        assert stale.status_code == 200
        amended = await hotline.post(
            "/api/v1/hotline/work-orders",
            order(revision=3, title="油烟扰民（补充：夜间更严重）", urgency="urgent"),
        )
        assert amended.status_code == 200 and amended.json()["case_id"] == body["case_id"]
    assert await count(db, "SELECT count(*) FROM intake.petition") == 1
    assert await count(db, "SELECT title FROM intake.petition") == "油烟扰民（补充：夜间更严重）"
    assert await count(db, "SELECT revision FROM intake.external_ref") == 3
    assert (
        await count(
            db,
            "SELECT count(*) FROM intake.petition_history "
            "WHERE action = 'amended' AND revision = 3",
        )
        == 1
    )
    types = await count(
        db, "SELECT string_agg(type, ',' ORDER BY position) FROM intake.outbox_event"
    )
    assert types == "intake.petition.received,intake.petition.amended"
    # the raw record (unknown fields included) is kept, encrypted
    raw = await count(db, "SELECT raw_enc FROM intake.petition")
    assert raw.startswith("v1.") and "ignored" not in raw


async def test_same_order_pushed_five_times_concurrently_is_one_case(
    settings: Settings, db: Database, clean: None
) -> None:
    async with intake_client(settings) as client:
        hotline = Hotline(client)
        results = await asyncio.gather(
            *(
                hotline.post("/api/v1/hotline/work-orders", order("GD-CONCURRENT-1"))
                for _ in range(5)
            )
        )
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 200, 200, 200, 201]
    assert len({r.json()["case_id"] for r in results}) == 1
    assert await count(db, "SELECT count(*) FROM intake.petition") == 1
    assert await count(db, "SELECT count(*) FROM intake.outbox_event") == 1


async def test_signature_refusals_store_nothing(
    settings: Settings, db: Database, clean: None
) -> None:
    clock = FixedClock(system_clock.now())
    async with intake_client(settings, clock) as client:
        hotline = Hotline(client, clock)
        body = json.dumps(order("GD-SIG-1"), ensure_ascii=False).encode()
        headers = signed_headers("Hotline", KEY_ID, SECRET.encode(), body, clock)
        ok = await hotline.post("/api/v1/hotline/work-orders", None, raw=body, headers=headers)
        assert ok.status_code == 201
        replay = await hotline.post("/api/v1/hotline/work-orders", None, raw=body, headers=headers)
        assert replay.status_code == 401
        assert replay.json() == {
            "errors": [
                {
                    "field": "X-Hotline-Nonce",
                    "code": "replayed_nonce",
                    "message": replay.json()["errors"][0]["message"],
                }
            ]
        }
        other = json.dumps(order("GD-SIG-2"), ensure_ascii=False).encode()
        stale_headers = signed_headers(
            "Hotline",
            KEY_ID,
            SECRET.encode(),
            other,
            FixedClock(clock.now() - timedelta(seconds=301)),
        )
        stale = await hotline.post(
            "/api/v1/hotline/work-orders", None, raw=other, headers=stale_headers
        )
        assert stale.status_code == 401 and stale.json()["errors"][0]["code"] == "stale_timestamp"
        forged = signed_headers("Hotline", KEY_ID, b"wrong-secret", other, clock)
        bad = await hotline.post("/api/v1/hotline/work-orders", None, raw=other, headers=forged)
        assert bad.status_code == 401
        assert bad.json()["errors"][0] == {
            "field": "X-Hotline-Signature",
            "code": "bad_signature",
            "message": "签名无效 / invalid signature",
        }
        unknown = signed_headers("Hotline", "nobody", SECRET.encode(), other, clock)
        assert (
            await hotline.post("/api/v1/hotline/work-orders", None, raw=other, headers=unknown)
        ).json()["errors"][0]["code"] == "unknown_key"
        missing = await client.post(
            "/api/v1/hotline/work-orders",
            content=other,
            headers={"Content-Type": "application/json"},
        )
        assert missing.status_code == 401
        assert missing.json()["errors"][0]["code"] == "missing_signature"
        # an unsigned invalid body is refused as unsigned, not validated
        garbage = await client.post("/api/v1/hotline/work-orders", content=b"{not json")
        assert garbage.status_code == 401
    assert await count(db, "SELECT count(*) FROM intake.petition") == 1


async def test_validation_422_names_fields_and_flags_secondary_fields(
    settings: Settings, db: Database, clean: None
) -> None:
    async with intake_client(settings) as client:
        hotline = Hotline(client)
        r = await hotline.post(
            "/api/v1/hotline/work-orders",
            order(
                "GD-BAD-1",
                content="长" * 5001,
                region_code="999999",
                attachments=[{"name": "1.jpg", "url": "https://x/1.jpg", "sha256": "zz"}],
            ),
        )
        assert r.status_code == 422
        errors = {e["field"]: e["code"] for e in r.json()["errors"]}
        assert errors == {
            "content": "too_long",
            "region_code": "unknown_region",
            "attachments[0].sha256": "invalid_format",
        }
        r = await hotline.post("/api/v1/hotline/work-orders", None, raw=b"{not json")
        assert r.status_code == 422 and r.json()["errors"][0]["code"] == "invalid_json"
        no_caller = order("GD-BAD-2")
        del no_caller["caller"]
        r = await hotline.post("/api/v1/hotline/work-orders", no_caller)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "caller"
        assert await count(db, "SELECT count(*) FROM intake.petition") == 0
        # a bad ID checksum or phone does not block the citizen: accepted and flagged
        r = await hotline.post(
            "/api/v1/hotline/work-orders",
            order(
                "GD-FLAG-1",
                caller={"name": "李四", "phone": "12345", "id_number": "440306198001011230"},
            ),
        )
        assert r.status_code == 201
        anon = order("GD-ANON-1", anonymous=True)
        del anon["caller"]
        assert (await hotline.post("/api/v1/hotline/work-orders", anon)).status_code == 201
    flags = await count(
        db,
        "SELECT quality_flags::text FROM intake.petition p JOIN "
        "intake.external_ref r USING (case_id) WHERE r.external_id = 'GD-FLAG-1'",
    )
    assert "invalid_id_number" in flags and "invalid_phone" in flags
    # flagged identifiers are not used to link the person
    assert await count(db, "SELECT count(*) FROM intake.person_identifier") == 0


async def test_batch(settings: Settings, db: Database, clean: None) -> None:
    async with intake_client(settings) as client:
        hotline = Hotline(client)
        r = await hotline.post(
            "/api/v1/hotline/work-orders/batch",
            {
                "orders": [
                    order("GD-B-1"),
                    order("GD-B-2", title=""),
                    order("GD-B-1"),
                    order("GD-B-1", 2, title="补充"),
                ]
            },
        )
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert [x["http_status"] for x in results] == [201, 422, 200, 200]
        assert [x["order_no"] for x in results] == ["GD-B-1", "GD-B-2", "GD-B-1", "GD-B-1"]
        assert results[1]["errors"][0]["field"] == "orders[1].title"
        assert results[0]["case_id"] == results[2]["case_id"] == results[3]["case_id"]
        for bad in ({"orders": []}, {"orders": [order(f"GD-X-{i}") for i in range(501)]}):
            r = await hotline.post("/api/v1/hotline/work-orders/batch", bad)
            assert r.status_code == 422 and r.json()["errors"][0]["code"] == "batch_size"
    assert await count(db, "SELECT count(*) FROM intake.petition") == 1


async def test_cancel_evaluation_and_reconciliation(
    settings: Settings, db: Database, clean: None
) -> None:
    async with intake_client(settings) as client:
        hotline = Hotline(client)
        created = (await hotline.post("/api/v1/hotline/work-orders", order("GD-C-1"))).json()
        r = await hotline.post(
            "/api/v1/hotline/work-orders/GD-C-1/cancel",
            {"reason": "问题已自行解决", "cancelled_at": "2026-11-22T12:00:00+08:00"},
        )
        assert r.status_code == 200 and r.json()["case_id"] == created["case_id"]
        r = await hotline.post(
            "/api/v1/hotline/work-orders/GD-NOPE/cancel",
            {"reason": "x", "cancelled_at": "2026-11-22T12:00:00+08:00"},
        )
        assert r.status_code == 404
        ev = {
            "order_no": "GD-C-1",
            "visited_at": "2026-11-23T10:00:00+08:00",
            "contacted": True,
            "solved": True,
            "rating": "基本满意",
            "comment": "处理及时",
        }
        first = await hotline.post("/api/v1/hotline/evaluations", ev)
        again = await hotline.post("/api/v1/hotline/evaluations", ev)
        assert (first.status_code, again.status_code) == (201, 200)
        bad = await hotline.post("/api/v1/hotline/evaluations", {**ev, "rating": "很好"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "rating"
        today = system_clock.local_now().date().isoformat()
        rec = await hotline.get("/api/v1/hotline/reconciliation", {"date": today})
        assert rec.status_code == 200, rec.text
        assert rec.json()["orders"] == [
            {
                "order_no": "GD-C-1",
                "revision": 1,
                "case_id": created["case_id"],
                "status": "received",
            }
        ]
        unsigned = await client.get("/api/v1/hotline/reconciliation", params={"date": today})
        assert unsigned.status_code == 401
    types = await count(
        db, "SELECT string_agg(type, ',' ORDER BY position) FROM intake.outbox_event"
    )
    assert types == (
        "intake.petition.received,intake.petition.withdrawn,intake.hotline.evaluation_received"
    )


async def test_a_case_under_review_stays_as_the_hotlines_last_callback_left_it(
    settings: Settings, db: Database, clean: None
) -> None:
    """复查 / 复核 send the hotline nothing (§2), so a repeat push, a cancellation and the
    reconciliation answer the status its last callback said: replied, or closed."""
    async with intake_client(settings) as client:
        hotline = Hotline(client)
        cases = {}
        for no, last in (("GD-RV-1", "replied"), ("GD-RV-2", "closed")):
            cases[no] = (await hotline.post("/api/v1/hotline/work-orders", order(no))).json()
            path = ["registered", "accepted", "assigned", "in_progress", "replied"]
            path += ["closed"] if last == "closed" else []
            path += ["review_requested", "reviewed", "reexam_requested"]
            async with db.transaction("intake") as conn:
                for seq, status in enumerate(path, start=1):
                    await conn.execute(
                        text(
                            "INSERT INTO intake.public_milestone (case_id, seq, milestone, "
                            "status, message, occurred_at) VALUES (CAST(:c AS uuid), :s, :st, "
                            ":st, 'x', now())"
                        ),
                        {"c": cases[no]["case_id"], "s": seq, "st": status},
                    )
                await conn.execute(
                    text(
                        "UPDATE intake.petition SET status = :st WHERE case_id = CAST(:c AS uuid)"
                    ),
                    {"c": cases[no]["case_id"], "st": path[-1]},
                )
        repeat = await hotline.post("/api/v1/hotline/work-orders", order("GD-RV-1"))
        assert repeat.status_code == 200 and repeat.json()["status"] == "replied"
        batch = await hotline.post(
            "/api/v1/hotline/work-orders/batch", {"orders": [order("GD-RV-2"), order("GD-RV-1")]}
        )
        assert [r["status"] for r in batch.json()["results"]] == ["closed", "replied"]
        cancelled = await hotline.post(
            "/api/v1/hotline/work-orders/GD-RV-2/cancel",
            {"reason": "来电人撤单", "cancelled_at": "2026-11-22T12:00:00+08:00"},
        )
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "closed"
        today = system_clock.local_now().date().isoformat()
        rec = await hotline.get("/api/v1/hotline/reconciliation", {"date": today})
        assert {o["order_no"]: o["status"] for o in rec.json()["orders"]} == {
            "GD-RV-1": "replied",
            "GD-RV-2": "closed",
        }


async def test_reconciliation_checks_the_signature_before_the_date(
    settings: Settings, clean: None
) -> None:
    """A forged or unsigned request gets 401, never a 422 that tells how we validate."""
    async with intake_client(settings) as client:
        hotline = Hotline(client)
        for params in ({}, {"date": "bad"}, {"date": "2026-11-22"}):
            r = await client.get("/api/v1/hotline/reconciliation", params=params)
            assert r.status_code == 401, (params, r.text)
            assert r.json()["errors"][0]["code"] == "missing_signature"
        missing = await hotline.get("/api/v1/hotline/reconciliation", {})
        assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "date"
        bad = await hotline.get("/api/v1/hotline/reconciliation", {"date": "2026-13-01"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "date"


async def test_partner_types_are_strict_and_secondary_fields_never_block(
    settings: Settings, db: Database, clean: None
) -> None:
    """A malformed phone or ID number of any length is flagged, not refused (§1); a value of
    the wrong JSON type is refused, never coerced ("1" or true for an integer); an optional
    list sent as null is empty; a refusal for length names the limit."""
    async with intake_client(settings) as client:
        hotline = Hotline(client)
        long_ids = {"name": "张三", "phone": "1" * 41, "id_number": "X" * 41}
        r = await hotline.post("/api/v1/hotline/work-orders", order("GD-S-1", caller=long_ids))
        assert r.status_code == 201, r.text
        flags = await count(
            db,
            "SELECT quality_flags::text FROM intake.petition WHERE case_id = CAST(:c AS uuid)",
            c=r.json()["case_id"],
        )
        assert "invalid_phone" in flags and "invalid_id_number" in flags
        r = await hotline.post("/api/v1/hotline/work-orders", order("GD-S-2", attachments=None))
        assert r.status_code == 201, r.text
        for over in ({"revision": "1"}, {"revision": True}, {"anonymous": "false"}):
            r = await hotline.post("/api/v1/hotline/work-orders", order("GD-S-3", **over))
            field = next(iter(over))
            assert r.status_code == 422, (over, r.text)
            assert r.json()["errors"][0] == {
                "field": field,
                "code": "invalid_type",
                "message": r.json()["errors"][0]["message"],
            }
        for over, code in (
            ({"revision": 2**31}, "too_large"),  # past the column: 422, not the driver's 500
            ({"due_at": 0}, "invalid_datetime"),  # not read as Unix time
            ({"location": {"lat": 22.5, "lng": False}}, "invalid_type"),
        ):
            r = await hotline.post("/api/v1/hotline/work-orders", order("GD-S-3", **over))
            assert r.status_code == 422 and r.json()["errors"][0]["code"] == code, (over, r.text)
        r = await hotline.post("/api/v1/hotline/work-orders", order("GD-S-3", content="长" * 5001))
        assert r.json()["errors"] == [
            {
                "field": "content",
                "code": "too_long",
                "message": "内容过长（最多5000个字符） / too long (at most 5000 characters)",
            }
        ]
        ev = {"order_no": "GD-S-1", "visited_at": "2026-11-23T10:00:00+08:00", "contacted": "yes"}
        r = await hotline.post("/api/v1/hotline/evaluations", ev)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "contacted"
    assert await count(db, "SELECT count(*) FROM intake.petition") == 2
