"""The ASGI application factory uvicorn imports in each worker process when an API is served
by more than one process (``minsheng serve <service> --workers N``): the service to build is
passed down in ``MINSHENG_SERVE_SERVICE``, the settings are read from the environment as
everywhere else."""

from __future__ import annotations

import importlib
import os
from typing import Any

from shared.settings import get_settings

SERVICE_ENV = "MINSHENG_SERVE_SERVICE"


def build(service: str, settings: Any) -> Any:
    """The app of one service, or every service behind one base URL (``all``)."""
    if service == "all":
        from minsheng.gateway import BaseUrlApp

        return BaseUrlApp(settings)
    return importlib.import_module(f"services.{service}.app").create_app(settings)


def app() -> Any:
    """uvicorn's factory (``minsheng.asgi:app``, ``factory=True``)."""
    return build(os.environ.get(SERVICE_ENV, "all"), get_settings())
