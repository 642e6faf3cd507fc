"""The reception desk (登记) against real PostgreSQL: letters and visits registered by staff,
collective visits and their representatives, a person's earlier petitions by keyed hash,
corrections kept in the history, the receipt slip, roles and jurisdiction, and the level of
the desk that received a petition (city or district) on its received event."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from services.intake.petition import service as petition_service
from services.intake.petition.normalized import Channel, NormalizedPetition, Person, Source
from services.intake.registrar.router import router
from shared.api.app import create_service_app
from shared.clock import system_clock
from shared.crypto import id_check_char, mask_id_number
from shared.db import Database
from shared.identity import service as identity
from shared.security import keys_for
from shared.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")

PASSWORD = "correct-horse-1"
BASE = "/api/v1/registrar"


def id_number(seq: int) -> str:
    first17 = f"44030619800101{seq:03d}"
    return first17 + id_check_char(first17)


@dataclass
class Desk:
    client: httpx.AsyncClient
    registrar: dict[str, str]  # Bao'an (440306)
    registrar_id: str
    futian: dict[str, str]  # a registrar of another district (440304)
    handler: dict[str, str]  # Bao'an, no registrar role
    city: dict[str, str]  # a registrar of the city's petition office (440300)


async def _login(db: Database, settings: Settings, unit: str, roles: list[str]) -> tuple[str, str]:
    username = f"r{uuid.uuid4().hex[:12]}"
    async with db.transaction("identity") as conn:
        await identity.create_staff(
            conn,
            username=username,
            display_name="登记员",
            org_unit_id=unit,
            roles=roles,
            password=PASSWORD,
        )
    async with db.transaction("identity") as conn:
        result = await identity.authenticate(
            conn,
            username=username,
            password=PASSWORD,
            totp_code=None,
            clock=system_clock,
            settings=settings,
        )
    return result.access_token, str(result.staff.id)


@contextlib.asynccontextmanager
async def desk_client(settings: Settings, db: Database) -> AsyncIterator[Desk]:
    suffix = uuid.uuid4().hex[:8]
    async with db.transaction("identity") as conn:
        await identity.create_org_unit(
            conn, id=f"BA-{suffix}", name="宝安区信访局", kind="government", parent_id=None,
            region_codes=["440306"],
        )  # fmt: skip
        await identity.create_org_unit(
            conn, id=f"FT-{suffix}", name="福田区信访局", kind="government", parent_id=None,
            region_codes=["440304"],
        )  # fmt: skip
        await identity.create_org_unit(
            conn, id=f"SZ-{suffix}", name="深圳市信访局", kind="government", parent_id=None,
            region_codes=["440300"],
        )  # fmt: skip
    reg, reg_id = await _login(db, settings, f"BA-{suffix}", ["registrar"])
    ft, _ = await _login(db, settings, f"FT-{suffix}", ["registrar"])
    handler, _ = await _login(db, settings, f"BA-{suffix}", ["handler"])
    city, _ = await _login(db, settings, f"SZ-{suffix}", ["registrar"])
    app = create_service_app("intake", [router], settings=settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield Desk(
                client=client,
                registrar={"Authorization": f"Bearer {reg}"},
                registrar_id=reg_id,
                futian={"Authorization": f"Bearer {ft}"},
                handler={"Authorization": f"Bearer {handler}"},
                city={"Authorization": f"Bearer {city}"},
            )


def letter(**over: Any) -> dict[str, Any]:
    return {
        "petitioners": [
            {"name": "张三", "id_number": id_number(1), "phone": "13800138000"},
            {"name": "李四", "phone": "0755-12345678", "address": "宝安区新安街道某小区"},
        ],
        "title": "小区门口餐饮店油烟扰民",
        "content": "宝安区某小区门口的餐饮店每天排放油烟，影响居民休息。",
        "category": "环境保护",
        "region_code": "440306",
        **over,
    }


def visit(people: int, reps: int, **over: Any) -> dict[str, Any]:
    return {
        "petitioners": [
            {"name": f"代表{i}", "id_number": id_number(100 + i), "representative": True}
            for i in range(reps)
        ],
        "people_count": people,
        "title": "小区业主反映物业违规收费",
        "content": "十二名业主来访，反映物业公司违规收取停车费。",
        "category": "物业管理",
        "region_code": "440306",
        **over,
    }


def fields(r: httpx.Response) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in r.json()["errors"]}


def decrypt(settings: Settings, token: str) -> str:
    plain = keys_for(settings).ring.decrypt_text(token)
    assert plain is not None
    return plain


async def sql(db: Database, query: str, **params: Any) -> list[Any]:
    async with db.transaction("intake") as conn:
        return list((await conn.execute(text(query), params)).all())


async def test_letter_with_two_petitioners(settings: Settings, db: Database, clean: None) -> None:
    async with desk_client(settings, db) as desk:
        headers = {**desk.registrar, "Idempotency-Key": "letter-1"}
        r = await desk.client.post(f"{BASE}/letters", json=letter(), headers=headers)
        assert r.status_code == 201, r.text
        got = r.json()
        assert got["source"] == got["channel"] == "letter"
        assert got["status"] == "received" and len(got["query_code"]) == 6
        assert got["people_count"] == 2 and got["batch"] is None and got["person_times"] is None
        assert got["registered_by"] == desk.registrar_id
        assert got["receipt"]["html"].startswith(f"{BASE}/petitions/{got['tracking_no']}/")
        again = await desk.client.post(f"{BASE}/letters", json=letter(), headers=headers)
        assert again.status_code == 201 and again.json() == got  # the first answer, once
        rows = await sql(
            db,
            "SELECT p.registered_by, p.category_code, count(t.*) FROM intake.petition p "
            "JOIN intake.petitioner t USING (case_id) GROUP BY p.case_id",
        )
        assert len(rows) == 1
        assert rows[0][0] == desk.registrar_id and rows[0][1] and rows[0][2] == 2
        # an unknown field, a bad checksum and a bad phone are refused on their field
        r = await desk.client.post(f"{BASE}/letters", json=letter(extra=1), headers=desk.registrar)
        assert ("extra", "unknown_field") in fields(r)
        bad = letter()
        bad["petitioners"][0]["id_number"] = id_number(1)[:-1] + (
            "0" if id_number(1)[-1] != "0" else "1"
        )
        bad["petitioners"][1]["phone"] = "12345"
        r = await desk.client.post(f"{BASE}/letters", json=bad, headers=desk.registrar)
        assert r.status_code == 422
        assert fields(r) == {
            ("petitioners[0].id_number", "invalid_id_number"),
            ("petitioners[1].phone", "invalid_phone"),
        }


async def test_collective_visit_representatives(
    settings: Settings, db: Database, clean: None
) -> None:
    async with desk_client(settings, db) as desk:
        r = await desk.client.post(f"{BASE}/visits", json=visit(12, 5), headers=desk.registrar)
        assert r.status_code == 201, r.text
        got = r.json()
        assert got["collective"] is True and got["batch"] == 1 and got["person_times"] == 12
        stored = await sql(db, "SELECT people_count, source FROM intake.petition")
        assert stored == [(12, "visit")]
        event = await sql(
            db,
            "SELECT payload->>'collective', payload->>'people_count' FROM intake.outbox_event "
            "WHERE type = 'intake.petition.received'",
        )
        assert event == [("true", "12")]

        r = await desk.client.post(f"{BASE}/visits", json=visit(12, 6), headers=desk.registrar)
        assert r.status_code == 422
        assert fields(r) == {("petitioners", "too_many_representatives")}
        none = visit(12, 2)
        for p in none["petitioners"]:
            p["representative"] = False
        r = await desk.client.post(f"{BASE}/visits", json=none, headers=desk.registrar)
        assert fields(r) == {("petitioners", "representatives_required")}
        r = await desk.client.post(f"{BASE}/visits", json=visit(2, 3), headers=desk.registrar)
        assert fields(r) == {("people_count", "people_count_too_small")}
        # an individual visit: counted in 人次, not in 批
        r = await desk.client.post(f"{BASE}/visits", json=visit(2, 0), headers=desk.registrar)
        assert r.status_code == 422  # nobody named and not anonymous
        r = await desk.client.post(f"{BASE}/visits", json=visit(2, 1), headers=desk.registrar)
        assert r.status_code == 201 and (r.json()["batch"], r.json()["person_times"]) == (None, 2)
        # a six-person letter (联名信) has no representatives rule
        r = await desk.client.post(
            f"{BASE}/letters", json=visit(12, 6, category=None), headers=desk.registrar
        )
        assert r.status_code == 201 and r.json()["person_times"] is None


async def test_earlier_petitions_by_id_number(
    settings: Settings, db: Database, clean: None
) -> None:
    person = id_number(7)
    async with desk_client(settings, db) as desk:
        first = letter(
            petitioners=[{"name": "王五", "id_number": person}],
            received_at="2025-01-10T09:00:00+08:00",
        )
        r1 = await desk.client.post(f"{BASE}/letters", json=first, headers=desk.registrar)
        second = visit(1, 1)
        second["petitioners"] = [
            {"name": "王五", "id_number": person.lower(), "phone": "13900139000"}
        ]
        r2 = await desk.client.post(f"{BASE}/visits", json=second, headers=desk.registrar)
        await desk.client.post(f"{BASE}/letters", json=letter(), headers=desk.registrar)  # others
        assert r1.status_code == r2.status_code == 201

        r = await desk.client.post(
            f"{BASE}/people/petitions/search", json={"id_number": person}, headers=desk.registrar
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert person not in r.text and body["person"] == {"id_number": mask_id_number(person)}
        assert [i["tracking_no"] for i in body["items"]] == [
            r2.json()["tracking_no"],
            r1.json()["tracking_no"],
        ]
        assert body["items"][0]["source"] == "visit" and body["items"][1]["channel"] == "letter"
        assert body["next_cursor"] is None

        page1 = await desk.client.post(
            f"{BASE}/people/petitions/search",
            json={"id_number": person, "limit": 1},
            headers=desk.registrar,
        )
        cursor = page1.json()["next_cursor"]
        assert cursor and person not in cursor
        page2 = await desk.client.post(
            f"{BASE}/people/petitions/search",
            json={"id_number": person, "limit": 1, "cursor": cursor},
            headers=desk.registrar,
        )
        assert [i["tracking_no"] for i in page2.json()["items"]] == [r1.json()["tracking_no"]]
        assert page2.json()["next_cursor"] is None

        by_phone = await desk.client.post(
            f"{BASE}/people/petitions/search",
            json={"phone": "139 0013 9000"},
            headers=desk.registrar,
        )
        # the phone belongs to the same person: their letter (given without it) is found too
        assert by_phone.json()["items"] == body["items"]
        assert by_phone.json()["person"] == {"phone": "139****9000"}

        for params, field in (
            ({}, "phone"),
            ({"id_number": person, "phone": "13900139000"}, "id_number"),
            ({"id_number": "440306198001011230"}, "id_number"),
            ({"id_number": person, "cursor": "bm90LWpzb24"}, "cursor"),
        ):
            bad = await desk.client.post(
                f"{BASE}/people/petitions/search", json=params, headers=desk.registrar
            )
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == field
            assert "440306198001011230" not in bad.text
        # the identifier is never taken from the URL any more, and unknown fields are refused
        old = await desk.client.get(
            f"{BASE}/people/petitions", params={"id_number": person}, headers=desk.registrar
        )
        assert old.status_code in (404, 405)
        extra = await desk.client.post(
            f"{BASE}/people/petitions/search",
            json={"id_number": person, "name": "王五"},
            headers=desk.registrar,
        )
        assert extra.status_code == 422 and extra.json()["errors"][0]["field"] == "name"

        # another district's registrar sees nothing of ours
        other = await desk.client.post(
            f"{BASE}/people/petitions/search", json={"id_number": person}, headers=desk.futian
        )
        assert other.status_code == 200 and other.json()["items"] == []


async def test_correction_keeps_the_original(settings: Settings, db: Database, clean: None) -> None:
    keys = keys_for(settings)
    async with desk_client(settings, db) as desk:
        r = await desk.client.post(f"{BASE}/visits", json=visit(6, 2), headers=desk.registrar)
        created = r.json()
        tn = created["tracking_no"]
        fix = {
            "title": "小区业主反映物业违规收取停车费",
            "content": "业主来访，联系电话13700137000，反映物业公司违规收取停车费。",
            "petitioners": [
                {"name": "代表甲", "id_number": id_number(100), "representative": True},
                {"name": "代表乙", "id_number": id_number(101), "representative": True},
            ],
            "reason": "登记时姓名录入错误",
        }
        url = f"{BASE}/petitions/{tn}/corrections"
        c = await desk.client.post(
            url, json=fix, headers={**desk.registrar, "Idempotency-Key": "c1"}
        )
        assert c.status_code == 200, c.text
        assert c.json()["revision"] == 2
        assert c.json()["changed"] == ["content", "petitioners", "title"]

        row = (await sql(db, "SELECT title, content, revision, original_enc FROM intake.petition"))[
            0
        ]
        assert row.title == fix["title"] and row.revision == 2
        assert "13700137000" not in row.content and "137****7000" in row.content
        assert decrypt(settings, row.original_enc).endswith(str(fix["content"]))
        names = [
            orjson.loads(decrypt(settings, p[0]))["name"]
            for p in await sql(db, "SELECT pii_enc FROM intake.petitioner ORDER BY ordinal")
        ]
        assert names == ["代表甲", "代表乙"]

        history = await sql(
            db, "SELECT action, actor, revision, changes_enc FROM intake.petition_history"
        )
        assert [(h.action, h.actor, h.revision) for h in history] == [
            ("corrected", desk.registrar_id, 2)
        ]
        changes = orjson.loads(decrypt(settings, history[0].changes_enc))
        assert changes["title"] == ["小区业主反映物业违规收费", fix["title"]]
        assert [p["name"] for p in changes["petitioners"][0]] == ["代表0", "代表1"]
        assert changes["reason"] == fix["reason"]

        events = await sql(
            db,
            "SELECT payload FROM intake.outbox_event WHERE type = 'intake.petition.amended'",
        )
        assert len(events) == 1
        payload = events[0][0]
        assert payload["source"] == "registrar" and payload["revision"] == 2
        assert (
            payload["changed"]["title"] == fix["title"]
            and payload["changed"]["petitioners"] is None
        )
        assert "代表甲" not in orjson.dumps(payload).decode()
        # the new petitioners' pseudonymous person keys, so that analytics links them
        assert payload["person_keys"] == [
            keys.hash.digest("id_number", id_number(100)),
            keys.hash.digest("id_number", id_number(101)),
        ]
        assert id_number(100) not in orjson.dumps(payload).decode()

        # six representatives are refused here too; nothing changes
        six = visit(6, 6)["petitioners"]
        r = await desk.client.post(url, json={"petitioners": six}, headers=desk.registrar)
        assert fields(r) == {("petitioners", "too_many_representatives")}
        # no change: nothing recorded
        same = await desk.client.post(url, json={"title": fix["title"]}, headers=desk.registrar)
        assert same.json()["changed"] == [] and same.json()["revision"] == 2
        assert len(await sql(db, "SELECT 1 FROM intake.petition_history")) == 1

        # out of scope, a region outside ours, unknown, and a citizen's petition: 404 / 422
        r = await desk.client.post(url, json={"title": "x"}, headers=desk.futian)
        assert r.status_code == 404
        r = await desk.client.post(url, json={"region_code": "440304"}, headers=desk.registrar)
        assert fields(r) == {("region_code", "out_of_jurisdiction")}
        r = await desk.client.post(
            f"{BASE}/petitions/MS000000XXXXXXXX/corrections", json={"title": "x"},
            headers=desk.registrar,
        )  # fmt: skip
        assert r.status_code == 404
        async with db.transaction("intake") as conn:
            web = await petition_service.take_in(
                conn,
                petition=NormalizedPetition(
                    source=Source.CITIZEN,
                    channel=Channel.WEB,
                    petitioners=[Person(name="赵六", phone="13600136000")],
                    title="网上诉求",
                    content="网上提交的诉求",
                    region_code="440306",
                    received_at=datetime.now(UTC),
                ),
                keys=keys,
                clock=system_clock,
            )
        r = await desk.client.post(
            f"{BASE}/petitions/{web.tracking_no}/corrections", json={"title": "x"},
            headers=desk.registrar,
        )  # fmt: skip
        assert r.status_code == 404


async def test_receipt_slip(settings: Settings, db: Database, clean: None) -> None:
    async with desk_client(settings, db) as desk:
        r = await desk.client.post(f"{BASE}/visits", json=visit(12, 5), headers=desk.registrar)
        created = r.json()
        tn, code = created["tracking_no"], created["query_code"]

        page = await desk.client.get(created["receipt"]["html"], headers=desk.registrar)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        for needle in (
            tn,
            code,
            "15日内登记",
            "15日内告知",
            "60日内办结",
            "30日内请求复查",
            "12人",
            "宝安区信访局",  # the desk, and who registered it (首问负责)
            "登记员",
        ):
            assert needle in page.text
        pdf = await desk.client.get(created["receipt"]["pdf"], headers=desk.registrar)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"

        wrong = "000000" if code != "000000" else "111111"
        for suffix in ("html", "pdf"):
            url = f"{BASE}/petitions/{tn}/receipt.{suffix}"
            bad = await desk.client.get(url, params={"code": wrong}, headers=desk.registrar)
            assert bad.status_code == 404
            out = await desk.client.get(url, params={"code": code}, headers=desk.futian)
            assert out.status_code == 404

        # escaped: markup in the title is shown, not run
        r = await desk.client.post(
            f"{BASE}/letters", json=letter(title="<script>alert(1)</script>"),
            headers=desk.registrar,
        )  # fmt: skip
        page = await desk.client.get(r.json()["receipt"]["html"], headers=desk.registrar)
        assert "<script>" not in page.text and "&lt;script&gt;" in page.text


async def test_roles_and_jurisdiction(settings: Settings, db: Database, clean: None) -> None:
    async with desk_client(settings, db) as desk:
        c = desk.client
        for method, url in (
            ("POST", f"{BASE}/letters"),
            ("POST", f"{BASE}/visits"),
            ("POST", f"{BASE}/people/petitions/search"),
            ("POST", f"{BASE}/petitions/MS000000XXXXXXXX/corrections"),
            ("GET", f"{BASE}/petitions/MS000000XXXXXXXX/receipt.html?code=123456"),
            ("GET", f"{BASE}/petitions/MS000000XXXXXXXX/receipt.pdf?code=123456"),
        ):
            body = letter() if method == "POST" else None
            r = await c.request(method, url, json=body, headers=desk.handler)
            assert r.status_code == 403, (url, r.text)
            r = await c.request(method, url, json=body)
            assert r.status_code == 401
        # registering a matter outside one's jurisdiction is refused
        r = await c.post(f"{BASE}/letters", json=letter(), headers=desk.futian)
        assert fields(r) == {("region_code", "out_of_jurisdiction")}
        assert await sql(db, "SELECT 1 FROM intake.petition") == []


async def test_the_receiving_desk_level_is_on_the_received_event(
    settings: Settings, db: Database, clean: None
) -> None:
    """A visit registered at 宝安区信访局's desk is received at district level, one at 深圳市信访局's
    at city level (what analytics counts 去市 by); nobody can claim a level in the request."""
    async with desk_client(settings, db) as desk:
        c = desk.client
        r = await c.post(f"{BASE}/visits", json=visit(1, 1), headers=desk.registrar)
        assert r.status_code == 201, r.text
        district_case = r.json()["case_id"]
        r = await c.post(f"{BASE}/visits", json=visit(6, 2), headers=desk.city)
        assert r.status_code == 201, r.text  # the city's desk covers 宝安 too
        city_case = r.json()["case_id"]
        r = await c.post(f"{BASE}/letters", json=letter(), headers=desk.city)
        assert r.status_code == 201, r.text
        city_letter = r.json()["case_id"]
        # the level is the desk's, never the client's: an unknown field, refused
        for url, body in ((f"{BASE}/visits", visit(1, 1)), (f"{BASE}/letters", letter())):
            r = await c.post(url, json={**body, "received_level": "city"}, headers=desk.registrar)
            assert r.status_code == 422
            assert ("received_level", "unknown_field") in fields(r)
        events = await sql(
            db,
            "SELECT payload->>'case_id', payload->>'source', payload->>'received_level' "
            "FROM intake.outbox_event WHERE type = 'intake.petition.received'",
        )
        assert sorted(events) == sorted(
            [
                (district_case, "visit", "district"),
                (city_case, "visit", "city"),
                (city_letter, "letter", "city"),
            ]
        )
