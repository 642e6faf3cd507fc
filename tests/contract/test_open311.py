"""Contract tests of Open311 GeoReport v2 (integrations §4), called as a 311 app calls it:
form-encoded POSTs with an api_key, keyless and keyed GETs, JSON and XML."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import orjson
import pytest
from pydantic import ValidationError
from sqlalchemy import text

from services.casework.app import create_app as create_casework
from services.intake.open311.router import router
from services.intake.open311.service import PUBLIC_FIELDS
from services.intake.petition import repository as petition_repo
from services.intake.petition.normalized import Channel, NormalizedPetition, Person, Source
from services.intake.petition.service import take_in
from shared.api.app import create_service_app
from shared.clock import system_clock
from shared.db import Database
from shared.identity import service as identity
from shared.reference import categories, regions
from shared.security import keys_for
from shared.settings import Settings
from tests.integration.test_slice import system
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

BASE = "/open311/v2"
CODE = "urban-construction.property-management.service-quality"
DESCRIPTION = "小区电梯长期故障，物业不维修，老人上下楼困难，请督促处理。"
FORM = {
    "jurisdiction_id": "sz.gov.cn",
    "service_code": CODE,
    "lat": "22.5405",
    "long": "114.0550",
    "address_string": "福田区福田街道某花园3栋",
    "description": DESCRIPTION,
    "email": "lisi@example.com",
    "phone": "13900139000",
    "first_name": "四",
    "last_name": "李",
    "media_url": "https://img.example.com/elevator.jpg",
}
PERSONAL = ("13900139000", "lisi@example.com", "李四", "某花园", "电梯", "22.54", "114.05", "img.")


def cfg(settings: Settings) -> Settings:
    return settings.model_copy(update={"open311_api_keys": "key-a, key-b"})


@contextlib.asynccontextmanager
async def open311(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app("intake", [router], settings=cfg(settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield client


async def post(client: httpx.AsyncClient, key: str | None = "key-a", **over: Any) -> httpx.Response:
    form = {**FORM, **over}
    if key is not None:
        form["api_key"] = key
    return await client.post(
        f"{BASE}/requests.json", data={k: v for k, v in form.items() if v is not None}
    )


def assert_error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body, list) and body and set(body[0]) == {"code", "description"}
    assert body[0]["code"] == status
    description: str = body[0]["description"]
    assert " / " in description  # Chinese / English
    return description


async def stored(db: Database, tracking_no: str) -> Any:
    async with db.transaction("intake") as conn:
        return (
            await conn.execute(
                text("SELECT * FROM intake.petition WHERE tracking_no = :t"), {"t": tracking_no}
            )
        ).one()


def normalized(received_at: datetime, **over: Any) -> NormalizedPetition:
    base: dict[str, Any] = dict(
        source=Source.CITIZEN,
        channel=Channel.WEB,
        petitioners=[Person(name="王五", phone="13700137000")],
        title="道路积水",
        content="宝安区西乡大道积水严重，请处理。",
        category_code=categories.by_service_code(CODE).code,  # type: ignore[union-attr]
        region_code="440306",
        received_at=received_at,
    )
    base.update(over)
    return NormalizedPetition(**base)


async def insert(db: Database, settings: Settings, petition: NormalizedPetition) -> str:
    async with db.transaction("intake") as conn:
        created = await take_in(
            conn, petition=petition, keys=keys_for(settings), clock=system_clock
        )
    return created.tracking_no


async def test_discovery_services_and_definitions(settings: Settings) -> None:
    async with open311(settings) as c:
        d = (await c.get(f"{BASE}/discovery.json")).json()
        assert {"changeset", "contact", "key_service", "endpoints"} <= set(d)
        (endpoint,) = d["endpoints"]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"].endswith("/open311/v2")
        assert set(endpoint["formats"]) == {"application/json", "text/xml"}
        x = await c.get(f"{BASE}/discovery.xml")
        assert x.headers["content-type"].startswith("text/xml")
        assert x.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
        root = ET.fromstring(x.content)
        assert root.tag == "discovery"
        assert [f.text for f in root.iter("format")] == endpoint["formats"]

        r = await c.get(f"{BASE}/services.json", params={"jurisdiction_id": "ignored"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json; charset=utf-8"
        services = r.json()
        by_code = {s["service_code"]: s for s in services}
        assert len(by_code) == len(services) > 10
        for s in services:
            assert set(s) == {
                "service_code", "service_name", "description", "metadata", "type", "keywords",
                "group",
            }  # fmt: skip
            node = categories.by_service_code(s["service_code"])
            assert node is not None and node.level >= 2
            assert s["service_name"] == node.name
            assert s["group"] == categories.get(node.top_code).name  # type: ignore[union-attr]
            assert s["type"] == "realtime" and s["metadata"] is True
            assert node.handling_path != "accusation"  # confidential: not offered
        assert by_code[CODE]["group"] == "城乡建设"
        xml = ET.fromstring((await c.get(f"{BASE}/services.xml")).content)
        assert xml.tag == "services" and len(xml.findall("service")) == len(services)
        assert xml.find("service/metadata").text == "true"  # type: ignore[union-attr]

        definition = (await c.get(f"{BASE}/services/{CODE}.json")).json()
        assert definition["service_code"] == CODE
        (attr,) = definition["attributes"]
        assert attr["code"] == "region_code" and attr["required"] is False
        assert attr["variable"] is True and attr["datatype"] == "singlevaluelist"
        assert {v["key"] for v in attr["values"]} == {d.code for d in regions.districts()}
        xml = ET.fromstring((await c.get(f"{BASE}/services/{CODE}.xml")).content)
        assert xml.tag == "service_definition"
        assert len(xml.findall("attributes/attribute/values/value")) == len(attr["values"])

        assert_error(await c.get(f"{BASE}/services/no-such-service.json"), 404)
        accusation = next(
            n for n in categories.all_categories()
            if n.handling_path == "accusation" and n.open311_service_code
        )  # fmt: skip
        assert_error(await c.get(f"{BASE}/services/{accusation.open311_service_code}.json"), 404)
        assert_error(await c.get(f"{BASE}/services.yaml"), 404)
        assert_error(await c.get(f"{BASE}/tokens/12345.json"), 404)
        assert_error(await c.get(f"{BASE}/no/such/thing.json"), 404)


async def test_post_then_read_with_and_without_key(
    settings: Settings, db: Database, clean: None
) -> None:
    keys = keys_for(settings)
    async with open311(settings) as c:
        r = await post(c)
        assert r.status_code == 200, r.text
        (created,) = r.json()
        assert set(created) == {"service_request_id", "service_notice", "account_id"}
        assert created["account_id"] is None and created["service_notice"]
        rid = created["service_request_id"]

        row = await stored(db, rid)
        assert row.registered_by == "open311:" + keys.hash.digest("open311_key", "key-a")
        assert row.source == "citizen" and row.channel == "web"
        assert row.category_code == categories.by_service_code(CODE).code  # type: ignore[union-attr]
        assert row.region_code == "440304"  # the district named in address_string
        assert row.title.startswith("物业服务质量：小区电梯")
        assert row.content == DESCRIPTION and not row.accusation
        assert keys.ring.decrypt_text(row.address_enc) == FORM["address_string"]
        raw = orjson.loads(keys.ring.decrypt_text(row.raw_enc))  # type: ignore[arg-type]
        assert "api_key" not in raw and raw["email"] == FORM["email"]
        async with db.transaction("intake") as conn:
            pii = await conn.scalar(
                text("SELECT pii_enc FROM intake.petitioner WHERE case_id = :c"), {"c": row.case_id}
            )
        person = orjson.loads(keys.ring.decrypt_text(pii))  # type: ignore[arg-type]
        assert person["name"] == "李四" and person["phone"] == "13900139000"
        assert person["unverified"] == {"email": "lisi@example.com"}

        # the key that filed it: full detail
        (full,) = (await c.get(f"{BASE}/requests/{rid}.json", params={"api_key": "key-a"})).json()
        assert full["service_request_id"] == rid
        assert full["description"] == DESCRIPTION
        assert (full["lat"], full["long"]) == (22.5405, 114.055)
        assert full["address"].startswith(FORM["address_string"])
        assert full["media_url"] == FORM["media_url"]
        assert full["status"] == "open" and full["service_code"] == CODE
        assert full["service_name"] == "物业服务质量"
        assert full["agency_responsible"] == "福田区住房和城乡建设局"
        assert full["requested_datetime"].endswith("+08:00")
        assert full["expected_datetime"] is None

        # no key, a wrong key, another key: the public form only
        public = None
        for params in ({}, {"api_key": "nope"}, {"api_key": "key-b"}):
            r = await c.get(f"{BASE}/requests/{rid}.json", params=params)
            assert r.status_code == 200
            (item,) = r.json()
            assert set(item) == set(PUBLIC_FIELDS)
            assert item["address"] == "广东省深圳市福田区"
            for secret in PERSONAL:
                assert secret not in r.text
            public = public or item
            assert item == public
        assert public is not None and public["service_code"] == CODE
        assert public["agency_responsible"] == full["agency_responsible"]
        assert public["requested_datetime"] == full["requested_datetime"]

        # lists follow the same rule
        mine = (await c.get(f"{BASE}/requests.json", params={"api_key": "key-a"})).json()
        assert [m["description"] for m in mine] == [DESCRIPTION]
        r = await c.get(f"{BASE}/requests.json", params={"api_key": "key-b"})
        assert [set(m) for m in r.json()] == [set(PUBLIC_FIELDS)]
        assert all(secret not in r.text for secret in PERSONAL)

        # XML, both ways
        x = await c.post(
            f"{BASE}/requests.xml", data={**FORM, "api_key": "key-b", "device_id": "dev-1"}
        )
        assert x.status_code == 200 and x.headers["content-type"].startswith("text/xml")
        other = ET.fromstring(x.content).findtext("request/service_request_id")
        assert other and (await stored(db, other)).channel == "app"
        x = await c.get(f"{BASE}/requests/{rid}.xml")
        request = ET.fromstring(x.content).find("request")
        assert request is not None and request.findtext("service_request_id") == rid
        assert request.find("description") is None and request.find("lat") is None
        # key-a sees its own request in full and key-b's in the public form
        both = (await c.get(f"{BASE}/requests.json", params={"api_key": "key-a"})).json()
        assert {m["service_request_id"]: "description" in m for m in both} == {
            rid: True,
            other: False,
        }


async def test_post_refusals(settings: Settings, db: Database) -> None:
    async with open311(settings) as c:
        assert "api_key" in assert_error(await post(c, key=None), 403)
        assert_error(await post(c, key="wrong"), 403)
        assert_error(await post(c, key=None, description=None), 403)  # the key is checked first
        assert "description" in assert_error(await post(c, description=None), 400)
        assert "description" in assert_error(await post(c, description="   "), 400)
        assert "service_code" in assert_error(await post(c, service_code="no-such-code"), 404)
        assert "service_code" in assert_error(await post(c, service_code=None), 400)
        accusation = next(
            n.open311_service_code for n in categories.all_categories()
            if n.handling_path == "accusation" and n.open311_service_code
        )  # fmt: skip
        assert_error(await post(c, service_code=accusation), 404)
        no_location = await post(c, lat=None, long=None, address_string=None)
        assert "address_string" in assert_error(no_location, 400)
        assert_error(await post(c, long=None, address_string=None), 400)  # lat alone
        assert_error(await post(c, lat="north"), 400)
        assert_error(await post(c, description="长" * 4001), 400)
        assert_error(await post(c, **{"attribute[region_code]": "110101"}), 400)
        r = await c.post(f"{BASE}/requests.json", json={**FORM, "api_key": "key-a"})
        assert_error(r, 400)  # not form-encoded
        x = await c.post(f"{BASE}/requests.xml", data={k: v for k, v in FORM.items()})
        assert x.status_code == 403
        assert ET.fromstring(x.content).findtext("error/code") == "403"


async def test_region_and_person_checks(settings: Settings, db: Database) -> None:
    async with open311(settings) as c:

        async def region(**over: Any) -> tuple[str, list[str]]:
            r = await post(c, **over)
            assert r.status_code == 200, r.text
            row = await stored(db, r.json()[0]["service_request_id"])
            return row.region_code, [f["code"] for f in row.quality_flags]

        assert await region(**{"attribute[region_code]": "440305"}) == ("440305", [])
        assert await region(**{"attribute[region_code]": "440306002"}) == ("440306002", [])
        # no district named: the nearest district centroid to lat/long, flagged as an estimate
        assert await region(address_string="某小区") == ("440304", ["estimated_from_location"])
        assert await region(address_string=None, lat="22.72", long="114.36") == (
            "440310",
            ["estimated_from_location"],
        )
        # outside the city and no district named: the configured default, flagged
        assert await region(address_string=None, lat="39.9", long="116.4") == (
            "440306",
            ["default_region"],
        )
        assert await region(lat=None, long=None, address_string="不知道哪里") == (
            "440306",
            ["default_region"],
        )
        # a bad phone does not block the request: it is flagged and kept unverified
        r = await post(c, phone="12345", email="not-an-email")
        assert r.status_code == 200, r.text
        row = await stored(db, r.json()[0]["service_request_id"])
        assert {f["code"] for f in row.quality_flags} == {"invalid_phone", "invalid_email"}
        async with db.transaction("intake") as conn:
            pii = await conn.scalar(
                text("SELECT pii_enc FROM intake.petitioner WHERE case_id = :c"), {"c": row.case_id}
            )
        person = orjson.loads(keys_for(settings).ring.decrypt_text(pii))  # type: ignore[arg-type]
        assert person["phone"] is None
        assert person["unverified"] == {"phone": "12345", "email": "not-an-email"}
        # anonymous-style request: no person at all
        r = await post(c, phone=None, email=None, first_name=None, last_name=None)
        assert r.status_code == 200
        row = await stored(db, r.json()[0]["service_request_id"])
        async with db.transaction("intake") as conn:
            n = await conn.scalar(
                text("SELECT count(*) FROM intake.petitioner WHERE case_id = :c"),
                {"c": row.case_id},
            )
        assert n == 0


async def test_list_filters_window_and_accusations(
    settings: Settings, db: Database, clean: None
) -> None:
    now = datetime.now(UTC)
    other = next(
        n for n in categories.all_categories()
        if n.open311_service_code and n.open311_service_code != CODE
        and n.handling_path != "accusation"
    )  # fmt: skip
    recent = await insert(db, settings, normalized(now - timedelta(days=10)))
    closed = await insert(db, settings, normalized(now - timedelta(days=20)))
    withdrawn = await insert(db, settings, normalized(now - timedelta(days=30)))
    elsewhere = await insert(
        db, settings, normalized(now - timedelta(days=5), category_code=other.code)
    )
    old = await insert(db, settings, normalized(now - timedelta(days=100)))
    secret = await insert(db, settings, normalized(now - timedelta(days=1), accusation=True))
    discipline = next(c for c in categories.all_categories() if c.handling_path == "accusation")
    unflagged = await insert(
        db, settings, normalized(now - timedelta(days=1), category_code=discipline.code)
    )
    async with db.transaction("intake") as conn:
        await conn.execute(
            text("UPDATE intake.petition SET status = 'closed' WHERE tracking_no = :t"),
            {"t": closed},
        )
        await conn.execute(
            text("UPDATE intake.petition SET status = 'withdrawn' WHERE tracking_no = :t"),
            {"t": withdrawn},
        )
        case_id = await conn.scalar(
            text("SELECT case_id FROM intake.petition WHERE tracking_no = :t"), {"t": withdrawn}
        )
        await conn.execute(
            text(
                "INSERT INTO intake.public_milestone VALUES (:c, 1, 'withdrawn', 'withdrawn', "
                "'您的诉求已撤回 / withdrawn', :at)"
            ),
            {"c": case_id, "at": now - timedelta(days=2)},
        )

    async def ids(**params: str) -> list[str]:
        r = await c.get(f"{BASE}/requests.json", params=params)
        assert r.status_code == 200, r.text
        return [item["service_request_id"] for item in r.json()]

    async with open311(settings) as c:
        # the default window: the last 90 days, newest first; never the accusation
        assert await ids() == [elsewhere, recent, closed, withdrawn]
        assert await ids(status="open") == [elsewhere, recent]
        assert await ids(status="closed") == [closed, withdrawn]
        assert await ids(status="open,closed") == [elsewhere, recent, closed, withdrawn]
        assert await ids(service_code=other.open311_service_code or "") == [elsewhere]
        assert await ids(service_code=f"{CODE},{other.open311_service_code}") == [
            elsewhere, recent, closed, withdrawn,
        ]  # fmt: skip
        assert await ids(service_code="no-such-code") == []
        day = timedelta(days=1)
        w3 = "%Y-%m-%dT%H:%M:%SZ"
        assert await ids(
            start_date=(now - 25 * day).strftime(w3), end_date=(now - 8 * day).strftime(w3)
        ) == [recent, closed]
        assert await ids(start_date=(now - 25 * day).strftime(w3)) == [elsewhere, recent, closed]
        assert await ids(end_date=(now - 15 * day).strftime(w3)) == [closed, withdrawn, old]
        # service_request_id overrides the window and every other argument
        assert set(await ids(service_request_id=f"{old},{recent},{secret}", status="closed")) == {
            old,
            recent,
        }
        assert_error(
            await c.get(
                f"{BASE}/requests.json",
                params={"start_date": (now - 120 * day).isoformat(), "end_date": now.isoformat()},
            ),
            400,
        )
        assert_error(await c.get(f"{BASE}/requests.json", params={"status": "pending"}), 400)
        assert_error(await c.get(f"{BASE}/requests.json", params={"start_date": "yesterday"}), 400)

        (item,) = (await c.get(f"{BASE}/requests/{withdrawn}.json")).json()
        assert item["status"] == "closed"
        assert item["updated_datetime"] > item["requested_datetime"]
        assert "status_notes" not in item  # the public form
        # the accusation is invisible everywhere, even by id
        assert "not found" in assert_error(await c.get(f"{BASE}/requests/{secret}.json"), 404)
        assert_error(await c.get(f"{BASE}/requests/{unflagged}.json"), 404)
        assert await ids(service_request_id=f"{secret},{unflagged}") == []
        x = await c.get(f"{BASE}/requests/{secret}.xml")
        assert x.status_code == 404 and ET.fromstring(x.content).tag == "errors"
        assert_error(await c.get(f"{BASE}/requests/MS000000NOSUCHID.json"), 404)


async def test_the_default_region_is_a_setting(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINSHENG_OPEN311_DEFAULT_REGION", "440311")
    assert Settings().open311_default_region == "440311"
    for bad in ("4403", "44031a", "4403060"):
        monkeypatch.setenv("MINSHENG_OPEN311_DEFAULT_REGION", bad)
        with pytest.raises(ValidationError):
            Settings()
    monkeypatch.delenv("MINSHENG_OPEN311_DEFAULT_REGION")
    assert Settings().open311_default_region == "440306"

    # a request whose location names no district of the city goes to the configured default
    app = create_service_app(
        "intake",
        [router],
        settings=cfg(settings).model_copy(update={"open311_default_region": "440311"}),
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as c:
            for where in (
                {"address_string": None, "lat": "39.9", "long": "116.4"},
                {"lat": None, "long": None, "address_string": "不知道哪里"},
            ):
                r = await post(c, **where)
                assert r.status_code == 200, r.text
                row = await stored(db, r.json()[0]["service_request_id"])
                assert row.region_code == "440311"
                assert [f["code"] for f in row.quality_flags] == ["default_region"]
            # the attribute and a district named still come first
            r = await post(c, **{"attribute[region_code]": "440305"})
            assert (await stored(db, r.json()[0]["service_request_id"])).region_code == "440305"
            r = await post(c)
            assert (await stored(db, r.json()[0]["service_request_id"])).region_code == "440304"


AIR = "environmental-protection.air-pollution.cooking-fumes"  # 餐饮油烟 (duty: 生态环境局)


@contextlib.asynccontextmanager
async def followed_case(
    settings: Settings, db: Database, *, source_deadline: datetime | None = None
) -> AsyncIterator[Any]:
    """The whole system running, a petition office and a department of 宝安区 with staff,
    and one petition of category 餐饮油烟 taken in: its tracking view, its Open311 reads and
    casework's acts on it."""
    s = uuid.uuid4().hex[:8]
    office, housing = f"O311-{s}", f"ZJ311-{s}"
    async with db.transaction("identity") as conn:
        await identity.create_org_unit(conn, id=office, name="宝安区信访局",
                                       kind="petition_office", parent_id=None,
                                       region_codes=["440306"])  # fmt: skip
        await identity.create_org_unit(conn, id=housing, name="宝安区住房和城乡建设局",
                                       kind="department", parent_id=office,
                                       region_codes=["440306"])  # fmt: skip
    staff: dict[str, dict[str, str]] = {}
    for who, unit, roles in (
        ("officer", office, ["petition_officer"]),
        ("handler", housing, ["handler"]),
        ("lead", housing, ["unit_lead"]),
    ):
        username = f"o311.{who}.{s}"
        async with db.transaction("identity") as conn:
            await identity.create_staff(conn, username=username, display_name=who,
                                        org_unit_id=unit, roles=roles,
                                        password="correct-horse-1")  # fmt: skip
        async with db.transaction("identity") as conn:
            login = await identity.authenticate(conn, username=username,
                                                password="correct-horse-1", totp_code=None,
                                                clock=system_clock, settings=settings)  # fmt: skip
        staff[who] = {"Authorization": f"Bearer {login.access_token}"}

    async with system(cfg(settings)) as (client, _, config):
        async with db.transaction("intake") as conn:
            created = await take_in(
                conn,
                petition=normalized(
                    datetime.now(UTC), source=Source.PROVINCE_ASSIGN,
                    source_deadline=source_deadline,
                    category_code=categories.by_service_code(AIR).code,  # type: ignore[union-attr]
                ),
                keys=keys_for(settings), clock=system_clock,
            )  # fmt: skip
        casework = create_casework(config)
        async with casework.router.lifespan_context(casework):
            transport = httpx.ASGITransport(app=casework)
            async with httpx.AsyncClient(transport=transport, base_url="http://cw") as cw:

                async def tracked(status: str, milestone: str | None = None) -> Any:
                    """The tracking view once it shows ``status`` (and ``milestone``)."""
                    view = (
                        await client.get(
                            f"/api/v1/petitions/{created.tracking_no}",
                            params={"code": created.query_code},
                        )
                    ).json()
                    if view["status"] != status:
                        return None
                    if milestone and view["history"][-1]["milestone"] != milestone:
                        return None
                    return view

                async def read(rid: str | None = None, **params: str) -> dict[str, Any]:
                    r = await client.get(
                        f"{BASE}/requests/{rid or created.tracking_no}.json", params=params
                    )
                    assert r.status_code == 200, r.text
                    (item,) = r.json()
                    return item

                async def act(who: str, name: str, body: dict[str, Any]) -> httpx.Response:
                    r = await cw.post(
                        f"/api/v1/casework/cases/{created.case_id}/acts/{name}",
                        json=body, headers=staff[who],
                    )  # fmt: skip
                    assert r.status_code == 200, r.text
                    return r

                async def approve(approval_id: int) -> None:
                    r = await cw.post(
                        f"/api/v1/casework/approvals/{approval_id}/decision",
                        json={"decision": "approve"}, headers=staff["lead"],
                    )  # fmt: skip
                    assert r.status_code == 200, r.text

                yield SimpleNamespace(
                    tracking_no=created.tracking_no,
                    housing=housing,
                    intake=client,
                    tracked=tracked,
                    open311=read,
                    act=act,
                    approve=approve,
                )


def same_instant(w3: str | None, iso: str | datetime | None) -> bool:
    """An Open311 date-time (whole seconds) and a deadline as the tracking view gives it."""
    assert w3 is not None and iso is not None
    at = iso if isinstance(iso, datetime) else datetime.fromisoformat(iso)
    return datetime.fromisoformat(w3) == at.replace(microsecond=0)


async def test_expected_datetime_is_the_deadline_of_the_tracking_view(
    settings: Settings, db: Database, clean: None
) -> None:
    """``expected_datetime`` is the current deadline (integrations §4): the one the tracking
    view shows, moved by an extension, never the partner's own."""
    province_deadline = datetime.now(UTC) + timedelta(days=3)
    async with followed_case(settings, db, source_deadline=province_deadline) as case:
        view = await eventually(lambda: case.tracked("registered"))
        assert view["deadline"] is not None  # the clocks from receipt
        item = await case.open311()
        assert same_instant(item["expected_datetime"], view["deadline"])
        assert not same_instant(item["expected_datetime"], province_deadline)

        # a request filed through Open311 runs the same clocks once registered
        r = await case.intake.post(
            f"{BASE}/requests.json",
            data={**FORM, "service_code": AIR, "address_string": "宝安区西乡街道某小区",
                  "api_key": "key-a"},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        filed = r.json()[0]["service_request_id"]

        async def registered_deadline() -> Any:
            row = await stored(db, filed)
            if row.status != "registered":
                return None
            async with db.transaction("intake") as conn:
                recorded = await petition_repo.milestones(conn, row.case_id)
            return recorded[-1].due_at  # the tracking view's deadline (petition.service.track)

        due = await eventually(registered_deadline)
        for params in ({}, {"api_key": "key-a"}):
            assert same_instant((await case.open311(filed, **params))["expected_datetime"], due)

        await case.act("officer", "accept", {"handling_path": "claim"})
        await case.act("officer", "assign", {"mode": "assign", "lead_unit_id": case.housing})
        view = await eventually(lambda: case.tracked("assigned"))
        assert same_instant((await case.open311())["expected_datetime"], view["deadline"])
        await case.act("handler", "sign", {})
        before = (await eventually(lambda: case.tracked("signed")))["deadline"]
        r = await case.act("handler", "extend", {"days": 30, "reason": "需多部门会商"})
        await case.approve(r.json()["approval_id"])
        view = await eventually(lambda: case.tracked("signed", "extended"))
        assert datetime.fromisoformat(view["deadline"]) > datetime.fromisoformat(before)
        # the extended deadline, in the single request and in the list alike
        item = await case.open311()
        assert same_instant(item["expected_datetime"], view["deadline"])
        listed = (
            await case.intake.get(
                f"{BASE}/requests.json",
                params={"service_request_id": f"{case.tracking_no},{filed}"},
            )
        ).json()
        assert {i["service_request_id"]: i for i in listed}[case.tracking_no] == item


async def test_agency_responsible_is_the_unit_the_case_was_assigned_to(
    settings: Settings, db: Database, clean: None
) -> None:
    async with followed_case(settings, db) as case:
        await eventually(lambda: case.tracked("registered"))
        # before assignment: the category's department in the district
        assert (await case.open311())["agency_responsible"] == "宝安区生态环境局"
        await case.act("officer", "accept", {"handling_path": "claim"})
        await eventually(lambda: case.tracked("accepted"))
        assert (await case.open311())["agency_responsible"] == "宝安区生态环境局"
        # assigned to the housing bureau: that unit, whatever the category's duty
        await case.act("officer", "assign", {"mode": "assign", "lead_unit_id": case.housing})
        await eventually(lambda: case.tracked("assigned"))
        assert (await case.open311())["agency_responsible"] == "宝安区住房和城乡建设局"
        # later milestones do not change it
        await case.act("handler", "sign", {})
        await eventually(lambda: case.tracked("signed"))
        for params in ({}, {"api_key": "key-a"}):
            item = await case.open311(**params)
            assert item["agency_responsible"] == "宝安区住房和城乡建设局"
        listed = (
            await case.intake.get(
                f"{BASE}/requests.json", params={"service_request_id": case.tracking_no}
            )
        ).json()
        assert [i["agency_responsible"] for i in listed] == ["宝安区住房和城乡建设局"]
