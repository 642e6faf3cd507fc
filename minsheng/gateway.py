"""One base URL for the four services (architecture §3, embedded run).

Requests are dispatched to the service whose routes own the path prefix (``/api/v1/<area>``
or ``/open311``), computed from the apps' own routes, so adding an endpoint to a service needs
no change here. ``/<service>/…`` reaches a service's own ``/healthz``, ``/readyz``, ``/metrics``
and ``/openapi.json``. ``/readyz`` is 200 only when all four are ready; ``/openapi.json`` and
``/docs`` are one merged document. In ``deploy/`` each service runs alone behind an ingress
with the same prefixes — the same code.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from shared.api.app import readiness
from shared.api.docs import install_docs
from shared.api.errors import install_error_handlers
from shared.api.openapi import document_errors
from shared.settings import SERVICES, Settings, get_settings


def build_service_apps(settings: Settings) -> dict[str, FastAPI]:
    from services.analytics.app import create_app as analytics
    from services.casework.app import create_app as casework
    from services.intake.app import create_app as intake
    from services.notify.app import create_app as notify

    return {
        "intake": intake(settings),
        "casework": casework(settings),
        "notify": notify(settings),
        "analytics": analytics(settings),
    }


def _prefix(path: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api" and parts[1] == "v1":
        return "/" + "/".join(parts[:3])
    if parts and parts[0] == "open311":
        return "/open311"
    return None


def route_table(apps: dict[str, FastAPI]) -> dict[str, str]:
    table: dict[str, str] = {}
    for name, app in apps.items():
        # the OpenAPI paths are the public routes, however the app nests its routers
        for path in app.openapi().get("paths", {}):
            prefix = _prefix(path)
            if prefix is None:
                continue
            owner = table.setdefault(prefix, name)
            if owner != name:
                raise RuntimeError(f"{prefix} is claimed by both {owner} and {name}")
    return table


def merged_openapi(apps: dict[str, FastAPI]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Minsheng (民声) API",
            "version": "0.1.0",
            "description": "Petitions (信访) and 12345 requests: intake, casework, notify "
            "and analytics behind one base URL.",
        },
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [],
    }
    seen_tags: set[str] = set()
    for name, app in apps.items():
        spec = _unclashed(app.openapi(), doc["components"]["schemas"], name)
        for path, item in spec.get("paths", {}).items():
            if path in ("/healthz", "/readyz", "/metrics"):
                continue
            doc["paths"][path] = item
        for key in ("schemas", "securitySchemes"):
            doc["components"][key].update(spec.get("components", {}).get(key, {}))
        for tag in spec.get("tags", []) or []:
            if tag["name"] not in seen_tags:
                seen_tags.add(tag["name"])
                doc["tags"].append(tag)
        doc["tags"].append({"name": f"service:{name}", "description": spec["info"]["title"]})
    doc["paths"]["/readyz"] = {
        "get": {
            "summary": "All four services ready",
            "tags": ["operations"],
            "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}},
        }
    }
    return document_errors(doc)


def _unclashed(spec: dict[str, Any], merged: dict[str, Any], service: str) -> dict[str, Any]:
    """``spec`` with each schema whose name another service already gave a different schema
    (casework's ``DeliveryRead`` of a notice, notify's of a message) renamed ``<Service><Name>``,
    references included: merged as they were, one would silently replace the other."""
    schemas = spec.get("components", {}).get("schemas", {})
    clashes = {n for n, s in schemas.items() if n in merged and merged[n] != s}
    if not clashes:
        return spec
    prefix = "#/components/schemas/"
    renamed = {f"{prefix}{n}": f"{prefix}{service.title()}{n}" for n in clashes}

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: renamed.get(v, v) if k == "$ref" and isinstance(v, str) else rewrite(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    out: dict[str, Any] = rewrite(spec)
    out["components"]["schemas"] = {
        (f"{service.title()}{n}" if n in clashes else n): s
        for n, s in out["components"]["schemas"].items()
    }
    return out


class BaseUrlApp:
    """ASGI app dispatching to the service apps by path prefix."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.apps = build_service_apps(self.settings)
        self.table = route_table(self.apps)
        self.own = self._own_app()

    def _own_app(self) -> FastAPI:
        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            async with contextlib.AsyncExitStack() as stack:
                for app in self.apps.values():
                    await stack.enter_async_context(app.router.lifespan_context(app))
                yield

        own = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
        spec: dict[str, Any] = {}

        @own.get("/openapi.json", include_in_schema=False)
        async def openapi() -> JSONResponse:
            if not spec:
                spec.update(merged_openapi(self.apps))
            return JSONResponse(spec)

        install_docs(own, title="Minsheng API")
        install_error_handlers(own)  # a path no service has: 404 in the documented shape

        @own.get("/healthz", include_in_schema=False)
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @own.get("/readyz", include_in_schema=False)
        async def readyz() -> JSONResponse:
            result = {name: await readiness(app, name) for name, app in self.apps.items()}
            ready = {name: all(c["ok"] for c in checks.values()) for name, checks in result.items()}
            ok = all(ready.values())
            return JSONResponse(
                {"ready": ok, "services": ready, "checks": result}, status_code=200 if ok else 503
            )

        @own.get("/", include_in_schema=False)
        async def index() -> dict[str, Any]:
            return {
                "name": "Minsheng (民声)",
                "docs": "/docs",
                "openapi": "/openapi.json",
                "readyz": "/readyz",
                "services": list(self.apps),
            }

        return own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.own(scope, receive, send)
            return
        path: str = scope.get("path", "")
        first = path.split("/", 2)[1] if path.count("/") >= 1 else ""
        if first in SERVICES and first in self.apps:
            rest = path[len(first) + 1 :] or "/"
            child = dict(scope, path=rest, root_path=scope.get("root_path", "") + "/" + first)
            await self.apps[first](child, receive, send)
            return
        prefix = _prefix(path)
        target = self.table.get(prefix) if prefix else None
        if target is not None:
            await self.apps[target](scope, receive, send)
            return
        await self.own(scope, receive, send)
