"""The two formats of the standard: JSON (Spark convention) and schemaless XML, both UTF-8, and
the standard's error body ``[{"code": 404, "description": "…"}]`` / ``<errors><error>…``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal
from xml.etree import ElementTree as ET

import orjson
from starlette.responses import Response

from shared.clock import SHANGHAI
from shared.text import printable

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"

# XML element of each member of a list, per the standard's examples
_ITEM_TAG = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


class Open311Error(Exception):
    """A 400 / 403 / 404 in the standard's format; descriptions in Chinese and English."""

    def __init__(self, status: int, zh: str, en: str) -> None:
        super().__init__(en)
        self.status = status
        self.description = f"{zh} / {en}"


def bad_request(zh: str, en: str) -> Open311Error:
    return Open311Error(400, zh, en)


def not_found(zh: str, en: str) -> Open311Error:
    return Open311Error(404, zh, en)


def forbidden(zh: str, en: str) -> Open311Error:
    return Open311Error(403, zh, en)


def w3c(value: datetime | None) -> str | None:
    """W3C date-time with the offset, in Beijing time: ``2026-11-24T09:15:00+08:00``."""
    if value is None:
        return None
    return value.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


def split_format(spec: str) -> tuple[str, Format]:
    """``"abc.json"`` → ``("abc", "json")``; an unknown or missing format is a 404."""
    name, dot, fmt = spec.rpartition(".")
    if not dot or not name or fmt not in FORMATS:
        raise not_found(
            "不支持的格式或资源不存在", "unknown resource or format (use .json or .xml)"
        )
    return name, fmt


def format_of_path(path: str) -> Format:
    return "xml" if path.endswith(".xml") else "json"


def render(body: Any, fmt: Format, root: str, status: int = 200) -> Response:
    """``body`` is a list (rendered under ``root``) or a mapping (``root`` is its element)."""
    if fmt == "json":
        return Response(orjson.dumps(body), status_code=status, media_type=JSON_TYPE)
    xml = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        _element(root, body), encoding="unicode"
    )
    return Response(xml.encode("utf-8"), status_code=status, media_type=XML_TYPE)


# what every Open311 operation documents: its answer in JSON or XML, as the path asks, and
# any refusal as the standard's error array (in our house shape it would break 311 clients)
_XML: dict[str, Any] = {"text/xml": {"schema": {"type": "string"}}}
RESPONSES_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": _XML},
    "4XX": {
        "description": "the standard's error array (400, 403, 404)",
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["code", "description"],
                        "properties": {
                            "code": {"type": "integer", "description": "the HTTP status"},
                            "description": {"type": "string", "description": "中文 / English"},
                        },
                    },
                }
            },
            **_XML,
        },
    },
}


def error_response(err: Open311Error, fmt: Format) -> Response:
    return render([{"code": err.status, "description": err.description}], fmt, "errors", err.status)


def _element(tag: str, value: Any) -> ET.Element:
    el = ET.Element(tag)
    if isinstance(value, Mapping):
        for key, child in value.items():
            el.append(_element(key, child))
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        item = _ITEM_TAG.get(tag, "item")
        for child in value:
            el.append(_element(item, child))
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    elif value is not None:
        el.text = printable(str(value))  # XML 1.0 has no control characters, escaped or not
    return el
