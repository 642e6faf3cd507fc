"""What the published OpenAPI documents say beyond what FastAPI derives from the routes, so
that a client generator or a schema-driven fuzzer can trust them: every operation's 4xx in the
error shape our handlers answer with (``shared.api.errors``), and request bodies whose
references resolve inside the document."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

ERROR_REF = "#/components/schemas/Error"
_FASTAPI_422 = {f"#/components/schemas/{n}" for n in ("HTTPValidationError", "ValidationError")}


def null_is_empty(schema: dict[str, Any]) -> None:
    """``json_schema_extra`` of an optional list a partner may send as ``null``, which the
    model's validator takes as empty: documented as the array or null it accepts."""
    array = {k: v for k, v in schema.items() if k not in ("title", "description", "default")}
    for key in array:
        del schema[key]
    schema["anyOf"] = [array, {"type": "null"}]


def error_schema(
    codes: Iterable[str] | None = None, fields: Iterable[str] | None = None, *, one: bool = False
) -> dict[str, Any]:
    """The body of every 4xx (integrations §1, §5). ``codes`` and ``fields`` narrow ``code`` and
    ``field`` to those an endpoint's contract names; ``one``: exactly one item."""
    code: dict[str, Any] = {"type": "string", "description": "stable; clients may branch on it"}
    if codes is not None:
        code["enum"] = sorted(codes)
    field: dict[str, Any] = {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": "the field, header or parameter at fault (caller.phone, "
        "attachments[0].sha256); null for the request as a whole",
    }
    if fields is not None:
        field = {"type": "string", "enum": list(fields)}
    errors: dict[str, Any] = {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["field", "code", "message"],
            "properties": {
                "field": field,
                "code": code,
                "message": {"type": "string", "description": "中文 / English"},
            },
        },
    }
    if one:
        errors["maxItems"] = 1
    return {
        "type": "object",
        "required": ["errors"],
        "properties": {"errors": errors},
    }


def error_response(
    description: str,
    codes: Iterable[str] | None = None,
    fields: Iterable[str] | None = None,
    *,
    one: bool = False,
) -> dict[str, Any]:
    """A ``responses=`` entry for an error whose codes (or fields) a contract fixes."""
    schema = error_schema(codes, fields, one=one)
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its ``$defs`` inlined, for an ``openapi_extra`` request body
    (the endpoints that verify a signature before they parse): pasted into the document as is,
    a ``#/$defs/…`` reference would point nowhere."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return {**inline(defs[ref.removeprefix("#/$defs/")]), **inline(rest)}
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    out: dict[str, Any] = inline(schema)
    return out


BEARER = "bearer"
OPTIONAL_BEARER = "bearer_optional"


def optional_bearer(doc: dict[str, Any]) -> dict[str, Any]:
    """Operations a caller may use with or without a token (filing a petition anonymously or
    signed in) as OpenAPI says so, ``security: [{}, {"bearer": []}]``: FastAPI would declare
    the token required. ``shared.identity.deps`` marks them with the scheme
    ``bearer_optional``, which this folds into ``bearer``."""
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            needs = operation.get("security", [])
            if any(OPTIONAL_BEARER in requirement for requirement in needs):
                operation["security"] = [{}, {BEARER: []}]
    schemes = doc.get("components", {}).get("securitySchemes", {})
    optional = schemes.pop(OPTIONAL_BEARER, None)
    if optional is not None:
        schemes.setdefault(BEARER, optional)
    return doc


def document_errors(doc: dict[str, Any]) -> dict[str, Any]:
    """Every operation answers any 4xx in the ``Error`` shape unless it declares a ``4XX`` of
    its own (Open311's error array): a ``4XX`` is added, and the 4xx an operation names
    without a body get ``Error``, as does FastAPI's 422 (our handler never answers in
    FastAPI's shape). Idempotent."""
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("4XX", {"description": "refused; `code` says why"})
            for status, response in responses.items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if status.startswith("4") and (schema is None or _refers(schema, _FASTAPI_422)):
                    response["content"] = {"application/json": {"schema": {"$ref": ERROR_REF}}}
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {"title": "Error", **error_schema()}
    if not _refers(doc.get("paths", {}), _FASTAPI_422):
        for ref in _FASTAPI_422:
            schemas.pop(ref.rsplit("/", 1)[1], None)
    return doc


def _refers(node: Any, refs: set[str]) -> bool:
    """Whether ``node`` holds one of the references ``refs``."""
    if isinstance(node, dict):
        return node.get("$ref") in refs or any(_refers(v, refs) for v in node.values())
    if isinstance(node, list):
        return any(_refers(v, refs) for v in node)
    return False


def install_openapi(app: FastAPI) -> None:
    """``app.openapi()`` (and so ``/openapi.json``) with :func:`optional_bearer` and
    :func:`document_errors` applied."""
    derive = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(optional_bearer(derive()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
