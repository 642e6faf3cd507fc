"""The interactive API docs (Swagger UI) served from the installed package's own files, not
from a CDN: the docs work on a machine with no way out, as petition offices' networks often are.
``fastapi-offline`` ships Swagger UI 5 (needed for OpenAPI 3.1) as static files."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from shared.api.errors import not_found

ASSETS = Path(fastapi_offline.__file__).parent / "static"
_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"})


def install_docs(app: FastAPI, *, title: str) -> None:
    """``GET /docs`` (Swagger UI of the app's ``openapi.json``) and its assets under
    ``/docs/static``. The URLs in the page are relative, so the page also works where the app
    is mounted under a prefix (``/intake/docs``)."""

    @app.get("/docs/static/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        # a route, not a mount: the service apps are also served under a prefix by the
        # gateway, which hands them the path without it
        if name not in _FILES:
            raise not_found("未找到", "not found")
        return FileResponse(ASSETS / name, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="openapi.json",
            title=title,
            swagger_js_url="docs/static/swagger-ui-bundle.js",
            swagger_css_url="docs/static/swagger-ui.css",
            swagger_favicon_url="docs/static/favicon.png",
        )
