"""The one base URL of `minsheng run`, as a new user meets it: readiness of all four services,
one merged OpenAPI document, each service's own endpoints under /<service>/, a worker that
comes back after kill -9, and a petition followed to its receipt."""

from __future__ import annotations

import asyncio
import os
import signal

import httpx
import pytest

from tests.livesystem import LiveSystem

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_readiness_openapi_and_service_endpoints(live_system: LiveSystem) -> None:
    async with httpx.AsyncClient(base_url=live_system.base_url, timeout=10) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["services"] == {
            s: True for s in ("intake", "casework", "notify", "analytics")
        }
        spec = (await client.get("/openapi.json")).json()
        paths = set(spec["paths"])
        assert {
            "/api/v1/petitions",
            "/api/v1/auth/login",
            "/api/v1/analytics/volumes",
            "/api/v1/citizen/auth/code",
        } <= paths
        for docs in ("/docs", *(f"/{s}/docs" for s in ("intake", "casework"))):
            # Swagger UI from our own files, no CDN: every asset the page names is served
            page = await client.get(docs)
            assert page.status_code == 200 and "cdn." not in page.text
            base = docs.rsplit("/", 1)[0]
            for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
                assert f"docs/static/{asset}" in page.text
                got = await client.get(f"{base}/docs/static/{asset}")
                assert got.status_code == 200 and len(got.content) > 10_000
        for service in ("intake", "casework", "notify", "analytics"):
            assert (await client.get(f"/{service}/readyz")).status_code == 200
            own = (await client.get(f"/{service}/openapi.json")).json()
            assert own["info"]["title"].startswith("Minsheng")
            metrics = (await client.get(f"/{service}/metrics")).text
            assert "minsheng_http_requests_total" in metrics
        assert "minsheng_bus_backlog" in (await client.get("/intake/metrics")).text
        for path in ("/api/v1/nothing-here", "/nothing-here", "/docs/x"):
            missing = await client.get(path)  # no service has it: the documented error shape
            assert missing.status_code == 404
            assert missing.json()["errors"][0]["code"] == "not_found", missing.text


async def test_a_killed_worker_comes_back_and_the_slice_still_works(
    live_system: LiveSystem,
) -> None:
    before = {p.pid for p in live_system.workers()}
    victim = next(p for p in live_system.workers() if "casework" in p.cmdline())
    os.kill(victim.pid, signal.SIGKILL)
    async with httpx.AsyncClient(base_url=live_system.base_url, timeout=10) as client:
        r = await client.post(
            "/api/v1/petitions",
            json={
                "title": "路灯不亮",
                "content": "西乡街道某路段路灯连续一周不亮，夜间出行不安全。",
                "region_code": "440306",
                "phone": "13600136000",
            },
        )
        assert r.status_code == 201
        created = r.json()
        for _ in range(150):
            view = (
                await client.get(
                    f"/api/v1/petitions/{created['tracking_no']}",
                    params={"code": created["query_code"]},
                )
            ).json()
            if view["status"] == "registered":
                break
            await asyncio.sleep(0.2)
        assert view["status"] == "registered"
    after = {p.pid for p in live_system.workers()}
    assert victim.pid not in after and len(after) == len(before)  # restarted by the supervisor


async def test_an_open311_client_library_files_and_follows_a_request(
    live_system: LiveSystem,
) -> None:
    """georeport (a third-party GeoReport v2 client on PyPI) reads our Open311 API in JSON
    and XML; the request it reads back was filed with the standard's form-encoded POST."""
    from georeport import GeoReport

    root = f"{live_system.base_url}/open311/v2"
    json_client = GeoReport(root, jurisdiction="sz.gov.cn", api_key="open311-dev-key")
    xml_client = GeoReport(root, jurisdiction="sz.gov.cn", output_format="xml")
    services = await asyncio.to_thread(json_client.get_service_list)
    assert services and {"service_code", "service_name", "metadata", "type"} <= set(services[0])
    code = next(s["service_code"] for s in services if "路灯" in s["service_name"])
    definition = await asyncio.to_thread(json_client.get_service_definition, code)
    assert definition["service_code"] == code
    assert [s["service_code"] for s in await asyncio.to_thread(xml_client.get_service_list)] == [
        s["service_code"] for s in services
    ]

    async with httpx.AsyncClient(base_url=root, timeout=10) as client:
        filed = await client.post(
            "/requests.json",
            data={
                "api_key": "open311-dev-key",
                "service_code": code,
                "address_string": "宝安区西乡街道某路",
                "description": "路灯连续一周不亮，夜间出行不安全。",
                "phone": "13600136001",
                "attribute[region_code]": "440306",
            },
        )
    assert filed.status_code in (200, 201), filed.text
    request_id = filed.json()[0]["service_request_id"]

    one = await asyncio.to_thread(json_client.get_service_request, request_id)
    assert one["service_request_id"] == request_id and one["service_code"] == code
    assert "13600136001" not in str(one)
    listed = await asyncio.to_thread(json_client.get_service_requests, service_code=code)
    assert request_id in [r["service_request_id"] for r in listed]
    by_xml = await asyncio.to_thread(xml_client.get_service_request, request_id)
    assert by_xml["service_request_id"] == request_id
