"""The published OpenAPI documents (each service's and the gateway's merged one) say what the
API does, so that client generators and schema-driven fuzzers can trust them: references
resolve, merging loses no service's schema, answers validate against their documented
schemas, every refusal is documented in the shape it has, 405 names every method of the path.

The apps are built, never started: ``app.openapi()`` and a 405 need no database."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import jsonschema_rs  # with schemathesis, a dev dependency
import orjson
import pytest
from fastapi import FastAPI

from minsheng.gateway import build_service_apps, merged_openapi
from services.casework.notice.schemas import NoticeList, NoticeRead
from services.casework.notice.service import Delivery, NoticeRecord
from services.intake.app import create_app as create_intake
from services.intake.exchange.schemas import ProvincialPetition
from services.intake.hotline.schemas import WorkOrder
from services.intake.open311.render import error_response as open311_error
from services.intake.open311.render import not_found as open311_not_found
from shared.api.errors import ApiError, ErrorItem, error_response
from shared.api.idempotency import validate_key
from shared.settings import Settings
from shared.signing import SignatureError

METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


@pytest.fixture(scope="module")
def apps() -> dict[str, FastAPI]:
    return build_service_apps(Settings(env="test"))


@pytest.fixture(scope="module")
def merged(apps: dict[str, FastAPI]) -> dict[str, Any]:
    return merged_openapi(apps)


def documents(apps: dict[str, FastAPI], merged: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {"merged": merged, **{name: app.openapi() for name, app in apps.items()}}


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def inlined(doc: dict[str, Any], node: Any, seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every reference replaced by what it points at (a recursive one kept)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            return inlined(doc, resolve(doc, ref), (*seen, ref))
        return {k: inlined(doc, v, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [inlined(doc, v, seen) for v in node]
    return node


def validator(doc: dict[str, Any], schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """A JSON Schema 2020-12 validator (OpenAPI 3.1) resolving ``#/components`` in ``doc``."""
    return jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]})


def json_schema(response: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def body(response: Any) -> Any:
    return orjson.loads(bytes(response.body))


def test_every_reference_resolves(apps: dict[str, FastAPI], merged: dict[str, Any]) -> None:
    for name, doc in documents(apps, merged).items():
        for ref in refs(doc):
            assert ref.startswith("#/components/"), f"{name}: {ref}"
            resolve(doc, ref)


def test_merging_changes_no_operation(apps: dict[str, FastAPI], merged: dict[str, Any]) -> None:
    """Two services may name different schemas alike (casework's ``DeliveryRead`` of a notice,
    notify's of a message): in the merged document each operation still means what it means
    in its own service's."""
    for name, app in apps.items():
        own = app.openapi()
        for path, method, op in operations(own):
            if path in ("/healthz", "/readyz", "/metrics"):
                continue
            assert inlined(merged, merged["paths"][path][method]) == inlined(own, op), (
                f"{name}: {method.upper()} {path}"
            )


def test_a_delivered_notice_validates(merged: dict[str, Any]) -> None:
    at = datetime(2026, 11, 24, 2, tzinfo=UTC)
    record = NoticeRecord(
        id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        kind="accept",
        number="信受〔2026〕第000123号",
        template_version="accept/v1",
        issued_at=at,
        issued_by="staff-1",
        docx_key="k.docx",
        docx_sha256="0" * 64,
        pdf_key="k.pdf",
        pdf_sha256="1" * 64,
        delivery=Delivery(method="in_person", outcome="signed", at=at, recorded_by="staff-1"),
    )
    notice = NoticeRead.of(record).model_dump(mode="json")
    assert set(notice["delivery"]) == {"method", "outcome", "at", "recorded_by"}
    delivered = merged["paths"]["/api/v1/casework/notices/{notice_id}/delivery"]["post"]
    validator(merged, json_schema(delivered["responses"]["200"])).validate(notice)
    listed = merged["paths"]["/api/v1/casework/cases/{case_id}/notices"]["get"]
    answer = NoticeList(items=[NoticeRead.of(record)]).model_dump(mode="json")
    validator(merged, json_schema(listed["responses"]["200"])).validate(answer)


def test_every_refusal_is_documented_in_its_shape(
    apps: dict[str, FastAPI], merged: dict[str, Any]
) -> None:
    ours = body(
        error_response(
            422,
            [
                ErrorItem("caller.phone", "invalid_format", "格式不正确 / invalid format"),
                ErrorItem(None, "required", "必填字段缺失 / field required"),
            ],
        )
    )
    fastapis = {"detail": [{"loc": ["body", "x"], "msg": "Field required", "type": "missing"}]}
    open311 = body(open311_error(open311_not_found("未找到", "not found"), "json"))
    for name, doc in documents(apps, merged).items():
        assert "HTTPValidationError" not in doc["components"]["schemas"], name
        for path, method, op in operations(doc):
            where = f"{name}: {method.upper()} {path}"
            responses = op["responses"]
            assert "4XX" in responses, where
            refusals = {s: r for s, r in responses.items() if s.startswith("4")}
            for status, response in refusals.items():
                assert "application/json" in response.get("content", {}), f"{where} {status}"
                check = validator(doc, json_schema(response))
                if path.startswith("/open311/"):
                    assert check.is_valid(open311), f"{where} {status}"
                    assert not check.is_valid(ours), f"{where} {status}"
                elif status != "401" or not path.startswith(
                    ("/api/v1/hotline", "/api/v1/exchange")
                ):
                    assert check.is_valid(ours), f"{where} {status}"
                    assert not check.is_valid(fastapis), f"{where} {status}"
                    assert not check.is_valid(open311), f"{where} {status}"


async def test_open311_refuses_a_form_it_cannot_parse_in_its_own_format(
    merged: dict[str, Any],
) -> None:
    """Starlette's own 400 (multipart without a boundary) in the standard's error array too."""
    app = create_intake(Settings(env="test"))
    app.state.db = None  # never reached: the form is refused first
    documented = merged["paths"]["/open311/v2/requests.{fmt}"]["post"]["responses"]["4XX"]
    check = validator(merged, json_schema(documented))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        junk = {"Content-Type": "multipart/form-data"}
        answer = await c.post("/open311/v2/requests.json", content=b"junk", headers=junk)
        assert answer.status_code == 400 and check.is_valid(answer.json()), answer.text
        answer = await c.post("/open311/v2/requests.xml", content=b"junk", headers=junk)
        assert answer.status_code == 400 and answer.text.endswith("</error></errors>")
        assert answer.headers["content-type"].startswith("text/xml")


@pytest.mark.parametrize("partner", ["hotline", "exchange"])
def test_signature_refusals_are_documented_as_sent(merged: dict[str, Any], partner: str) -> None:
    prefix = "Hotline" if partner == "hotline" else "Exchange"
    sent = SignatureError("stale_timestamp", f"X-{prefix}-Timestamp").items
    refused = [
        SignatureError("bad_signature", "X-Other-Signature").items,  # another partner's header
        [ErrorItem(f"X-{prefix}-Nonce", "who_knows", "? / ?")],  # a code §0 does not name
        sent + sent,  # §0: exactly one item
    ]
    found = 0
    for path, method, op in operations(merged):
        if path.startswith(f"/api/v1/{partner}/"):
            found += 1
            check = validator(merged, json_schema(op["responses"]["401"]))
            assert check.is_valid(body(error_response(401, sent))), f"{method.upper()} {path}"
            for items in refused:
                assert not check.is_valid(body(error_response(401, items))), items
    assert found


def test_signed_bodies_validate_as_the_models_do(merged: dict[str, Any]) -> None:
    """The partner bodies are pasted into the document (the signature is checked before the
    body is parsed): with their definitions inlined they still check nested parts."""
    order = WorkOrder.model_json_schema()["examples"][0]
    petition = {  # integrations §3
        "province_case_no": "YX4400002026112200123",
        "handling": "assign",
        "form": "letter",
        "petitioners": [{"name": "李四", "phone": "13900139000", "address": "宝安区"}],
        "people_count": 12,
        "title": "拖欠工资",
        "content": "某公司拖欠工资三个月。",
        "region_code": "440306",
        "transferred_at": "2026-11-22T10:00:00+08:00",
        "attachments": [],
    }
    cases = [
        ("/api/v1/hotline/work-orders", WorkOrder, order, {"caller": {"name": 5}}),
        (
            "/api/v1/exchange/petitions",
            ProvincialPetition,
            petition,
            {"petitioners": [{"name": 5}]},
        ),
    ]
    for path, model, good, broken in cases:
        schema = json_schema(merged["paths"][path]["post"]["requestBody"])
        assert "$defs" not in schema and not refs(schema), path
        check = validator(merged, schema)
        model.model_validate(good)
        assert check.is_valid(good), path
        assert not check.is_valid({}), path
        assert not check.is_valid({**good, **broken}), path


def test_idempotency_key_is_documented_as_enforced(merged: dict[str, Any]) -> None:
    declared = [
        (f"{method.upper()} {path}", p["schema"])
        for path, method, op in operations(merged)
        for p in op.get("parameters", [])
        if p["in"] == "header" and p["name"] == "Idempotency-Key"
    ]
    assert declared
    for where, schema in declared:
        low, high = schema["minLength"], schema["maxLength"]
        assert validate_key("k" * low) and validate_key("k" * high), where
        for refused in ("k" * (low - 1), "k" * (high + 1)):
            with pytest.raises(ApiError):
                validate_key(refused)


async def test_405_allows_every_method_of_the_path(apps: dict[str, FastAPI]) -> None:
    for name, app in apps.items():
        transport = httpx.ASGITransport(app=app)  # no lifespan: routing only
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for path, item in app.openapi()["paths"].items():
                documented = {m.upper() for m in item if m in METHODS}
                url = re.sub(r"\{[^}]+\}", "x1", path)
                for method in ("OPTIONS", "PATCH", "TRACE"):
                    if method in documented:
                        continue
                    answer = await client.request(method, url)
                    assert answer.status_code == 405, f"{name}: {method} {url}"
                    allowed = {m.strip() for m in answer.headers["allow"].split(",")}
                    assert allowed == documented, f"{name}: {method} {url}"


def test_the_bearer_token_is_declared_where_it_is_read(merged: dict[str, Any]) -> None:
    """The "Authorize" button of /docs, and what a client generator reads: staff and citizen
    operations need the token, the citizen's filing may be anonymous, partners sign instead."""
    scheme = merged["components"]["securitySchemes"]
    assert scheme == {"bearer": {**scheme["bearer"], "type": "http", "scheme": "bearer"}}
    security = {(m, p): op.get("security") for p, m, op in operations(merged)}
    assert security[("get", "/api/v1/casework/cases")] == [{"bearer": []}]
    assert security[("get", "/api/v1/auth/me")] == [{"bearer": []}]
    assert security[("post", "/api/v1/petitions")] == [{}, {"bearer": []}]
    assert security[("post", "/api/v1/hotline/work-orders")] is None
    assert security[("get", "/open311/v2/services.{fmt}")] is None
    assert "bearer_optional" not in str(merged)
