"""Structured JSON logs with the trace id of the request or event being handled.

Personal data never reaches a log: every string value passes through the redactor for phone
and ID numbers, and fields named like personal data are dropped whole.
"""

from __future__ import annotations

import logging
import sys
import uuid
from contextvars import ContextVar
from typing import Any

import structlog

trace_id_var: ContextVar[str | None] = ContextVar("trace_id", default=None)

_PERSONAL_FIELDS = {
    "phone",
    "id_number",
    "address",
    "name",
    "query_code",
    "code",
    "password",
    "totp",
    "token",
    "content",
    "caller",
    "petitioners",
    "pii",
}


def new_trace_id() -> str:
    return uuid.uuid4().hex


def current_trace_id() -> str:
    value = trace_id_var.get()
    if value is None:
        value = new_trace_id()
        trace_id_var.set(value)
    return value


def _add_trace(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    trace = trace_id_var.get()
    if trace and "trace_id" not in event_dict:
        event_dict["trace_id"] = trace
    return event_dict


def _scrub(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    from shared.crypto.redact import redact

    for key in list(event_dict):
        if key in _PERSONAL_FIELDS:
            event_dict[key] = "[removed]"
            continue
        value = event_dict[key]
        if isinstance(value, str):
            event_dict[key] = redact(value)
    return event_dict


def configure_logging(service: str, level: str = "INFO", json: bool = True) -> None:
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace,
        structlog.processors.format_exc_info,
        _scrub,
    ]
    processors.append(
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries that log through the standard library: keep them quiet and out of the way of
    # personal data (uvicorn's access log prints query strings, so ours replaces it).
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("arq").setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
