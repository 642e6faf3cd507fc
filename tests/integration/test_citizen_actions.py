"""A citizen's own actions: anonymous filing with the query code as the only key, filing when
signed in and listing "my petitions", supplementary material, attachments, withdrawal before
the reply (through casework and back to the tracking view), and the rate limits."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from shared.db import Database
from shared.settings import Settings
from tests.integration.test_slice import PETITION, intake_client, system
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

ANON = {
    "title": "举报某小区违建",
    "content": "某小区顶楼违法加建，影响安全。",
    "region_code": "440306",
    "anonymous": True,
}


async def q(db: Database, schema: str, sql: str) -> Any:
    async with db.transaction(schema) as conn:
        return await conn.scalar(text(sql))


async def test_anonymous_filing_and_code_as_key(
    settings: Settings, db: Database, clean: None
) -> None:
    async with intake_client(settings) as client:
        r = await client.post("/api/v1/petitions", json=ANON)
        assert r.status_code == 201, r.text
        created = r.json()
        bad = await client.post("/api/v1/petitions", json={**ANON, "phone": "13800138000"})
        assert (
            bad.status_code == 422 and bad.json()["errors"][0]["code"] == "anonymous_with_contact"
        )
        missing = await client.post("/api/v1/petitions", json={**ANON, "anonymous": False})
        assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "phone"
        url = f"/api/v1/petitions/{created['tracking_no']}"
        sup = await client.post(
            f"{url}/supplements",
            json={"code": created["query_code"], "content": "补充：已持续两个月"},
        )
        assert sup.status_code == 201
        wrong = await client.post(f"{url}/supplements", json={"code": "000001", "content": "x"})
        assert wrong.status_code == 404
        files = {"file": ("photo.jpg", b"\xff\xd8\xff" + b"0" * 2000, "image/jpeg")}
        att = await client.post(
            f"{url}/attachments", files=files, data={"code": created["query_code"]}
        )
        assert att.status_code == 201, att.text
        assert len(att.json()["sha256"]) == 64
        exe = await client.post(
            f"{url}/attachments",
            data={"code": created["query_code"]},
            files={"file": ("x.exe", b"MZ...", "application/x-msdownload")},
        )
        assert exe.status_code == 422 and exe.json()["errors"][0]["code"] == "unsupported_type"
        # the content must be what the type says: a program or a web page sent as a picture,
        # a binary as text, are refused; real text (UTF-8 or GB 18030) is taken
        program = b"MZ\x90\x00\x03\x00\x00\x00This program cannot be run in DOS mode"
        for name, body, media_type, status in (
            ("photo.jpg", program, "image/jpeg", 422),
            ("photo.png", b"<html><script>alert(1)</script></html>", "image/png", 422),
            ("notes.txt", program + b"\x00\x00", "text/plain", 422),
            ("notes.txt", "楼道堆物，影响通行".encode("gb18030"), "text/plain", 201),
        ):
            r = await client.post(
                f"{url}/attachments",
                data={"code": created["query_code"]},
                files={"file": (name, body, media_type)},
            )
            assert r.status_code == status, (name, media_type, r.text)
            if status == 422:
                assert r.json()["errors"][0] == {
                    "field": "file",
                    "code": "type_mismatch",
                    "message": "附件内容与所声明的类型不符 / "
                    "the file's content does not match its declared type",
                }
    assert await q(db, "intake", "SELECT anonymous FROM intake.petition") is True
    assert await q(db, "intake", "SELECT count(*) FROM intake.petitioner") == 0
    assert await q(db, "intake", "SELECT count(*) FROM intake.attachment") == 2
    assert await q(
        db, "intake", "SELECT string_agg(type, ',' ORDER BY position) FROM intake.outbox_event"
    ) == (
        "intake.petition.received,intake.petition.supplemented,intake.petition.supplemented,"
        "intake.petition.supplemented"
    )


async def test_signed_in_my_petitions_and_withdrawal(
    settings: Settings, db: Database, clean: None
) -> None:
    async with system(settings) as (client, sms_url, _cfg):
        phone = "13500135000"
        rid = (await client.post("/api/v1/citizen/auth/code", json={"phone": phone})).json()

        async def code() -> Any:
            async with httpx.AsyncClient() as c:
                msgs = (await c.get(f"{sms_url}/v1/messages", params={"phone": phone})).json()
            found = [re.search(r"验证码为(\d{6})", m["text"]) for m in msgs]
            return next((f.group(1) for f in found if f), None)

        token = (
            await client.post(
                "/api/v1/citizen/auth/verify",
                json={
                    "request_id": rid["request_id"],
                    "phone": phone,
                    "code": await eventually(code),
                },
            )
        ).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        mismatch = await client.post(
            "/api/v1/petitions", headers=auth, json={**PETITION, "phone": "13600136000"}
        )
        assert (
            mismatch.status_code == 422 and mismatch.json()["errors"][0]["code"] == "phone_mismatch"
        )
        mine = []
        for i in range(3):
            r = await client.post(
                "/api/v1/petitions",
                headers=auth,
                json={**PETITION, "phone": phone, "title": f"诉求{i}"},
            )
            assert r.status_code == 201
            mine.append(r.json()["tracking_no"])
        page1 = (
            await client.get("/api/v1/citizen/petitions", headers=auth, params={"limit": 2})
        ).json()
        page2 = (
            await client.get(
                "/api/v1/citizen/petitions",
                headers=auth,
                params={"limit": 2, "cursor": page1["next_cursor"]},
            )
        ).json()
        listed = [p["tracking_no"] for p in page1["items"] + page2["items"]]
        assert sorted(listed) == sorted(mine) and page2["next_cursor"] is None
        assert (await client.get("/api/v1/citizen/petitions")).status_code == 401

        async def registered() -> bool:
            return (
                await q(
                    db, "casework", "SELECT count(*) FROM casework.case WHERE status = 'registered'"
                )
                == 3
            )

        await eventually(registered)
        # signed in, no code needed for one's own petition
        w = await client.post(
            f"/api/v1/petitions/{mine[0]}/withdraw", headers=auth, json={"reason": "问题已解决"}
        )
        assert w.status_code == 200, w.text

        async def withdrawn() -> bool:
            return (
                await q(
                    db, "intake", "SELECT count(*) FROM intake.petition WHERE status = 'withdrawn'"
                )
                == 1
            )

        await eventually(withdrawn)
        again = await client.post(
            f"/api/v1/petitions/{mine[0]}/withdraw", headers=auth, json={"reason": "再撤一次"}
        )
        assert again.status_code == 409
        late = await client.post(
            f"/api/v1/petitions/{mine[0]}/supplements", headers=auth, json={"content": "补充"}
        )
        assert late.status_code == 409 and late.json()["errors"][0]["code"] == "petition_ended"


async def test_rate_limits(settings: Settings, clean: None) -> None:
    tight = settings.model_copy(update={"rate_per_phone_per_hour": 2, "rate_per_ip_per_minute": 4})
    async with intake_client(tight) as client:
        codes = [
            (await client.post("/api/v1/petitions", json=PETITION)).status_code for _ in range(3)
        ]
        assert codes == [201, 201, 429]
        other = [
            (
                await client.post("/api/v1/petitions", json={**PETITION, "phone": f"1370013700{i}"})
            ).status_code
            for i in range(2)
        ]
        assert other == [201, 429]  # the IP's limit of 4 a minute
        r = await client.post("/api/v1/petitions", json={**PETITION, "phone": "13700137009"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        assert r.json()["errors"][0]["code"] == "rate_limited"


async def test_a_retry_over_the_limit_gets_its_stored_answer(
    settings: Settings, clean: None
) -> None:
    """integrations §5: a repeat with the same Idempotency-Key and body gets the stored
    response — also once the phone's limit is reached by later filings."""
    tight = settings.model_copy(update={"rate_per_phone_per_hour": 2})
    async with intake_client(tight) as client:
        key = {"Idempotency-Key": "filed-once"}
        first = await client.post("/api/v1/petitions", json=PETITION, headers=key)
        second = await client.post("/api/v1/petitions", json={**PETITION, "title": "另一件"})
        assert (first.status_code, second.status_code) == (201, 201)
        over = await client.post("/api/v1/petitions", json={**PETITION, "title": "第三件"})
        assert over.status_code == 429
        retry = await client.post("/api/v1/petitions", json=PETITION, headers=key)
        assert retry.status_code == 201 and retry.json() == first.json()


async def test_an_attachment_name_is_printable_text(settings: Settings, clean: None) -> None:
    """The name is for display only (the object is stored by its hash): control characters in
    it — U+0000 included, which PostgreSQL cannot hold — are dropped, not a 500."""
    async with intake_client(settings) as client:
        created = (await client.post("/api/v1/petitions", json=ANON)).json()
        url = f"/api/v1/petitions/{created['tracking_no']}/attachments"
        for raw, shown in (("照片\x00\x0b.jpg", "照片.jpg"), ("\x00", "attachment")):
            # written by hand: httpx would percent-encode the control characters of the name
            form = (
                (
                    f'--b\r\nContent-Disposition: form-data; name="code"\r\n\r\n'
                    f"{created['query_code']}\r\n--b\r\nContent-Disposition: form-data; "
                    f'name="file"; filename="{raw}"\r\nContent-Type: image/jpeg\r\n\r\n'
                ).encode()
                + b"\xff\xd8\xff"
                + b"1" * 2000
                + b"\r\n--b--\r\n"
            )
            named = await client.post(
                url, content=form, headers={"Content-Type": "multipart/form-data; boundary=b"}
            )
            assert named.status_code == 201, named.text
            assert named.json()["name"] == shown
