"""One error shape for every 4xx (integrations §1, §5):
``{"errors": [{"field": "content", "code": "too_long", "message": "中文 / English"}]}``.

Codes are stable identifiers that clients may branch on; messages carry Chinese and English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import get_route_path


@dataclass(frozen=True)
class ErrorItem:
    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": self.message}


def bilingual(zh: str, en: str) -> str:
    return f"{zh} / {en}"


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        zh: str,
        en: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        more: list[ErrorItem] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.items = [ErrorItem(field, code, bilingual(zh, en)), *(more or [])]
        self.headers = headers or {}

    @classmethod
    def of(cls, status: int, items: list[ErrorItem]) -> ApiError:
        err = cls(status, items[0].code, "", "", items[0].field)
        err.items = items
        return err


def not_found(what_zh: str = "未找到", what_en: str = "not found") -> ApiError:
    """Out of scope and absent look the same (architecture §2.6)."""
    return ApiError(404, "not_found", what_zh, what_en)


def error_response(
    status: int, items: list[ErrorItem], headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps({"errors": [i.as_dict() for i in items]}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


# pydantic error types -> our stable codes and messages
_PYDANTIC_CODES: dict[str, tuple[str, str, str]] = {
    "missing": ("required", "必填字段缺失", "field required"),
    "extra_forbidden": ("unknown_field", "不允许的字段", "unknown field"),
    "string_too_long": ("too_long", "内容过长", "too long"),
    "string_too_short": ("too_short", "内容过短或为空", "too short or empty"),
    "string_pattern_mismatch": ("invalid_format", "格式不正确", "invalid format"),
    "json_invalid": ("invalid_json", "JSON 格式错误", "malformed JSON"),
    "enum": ("invalid_choice", "取值不在允许范围内", "value not allowed"),
    "literal_error": ("invalid_choice", "取值不在允许范围内", "value not allowed"),
    "int_parsing": ("invalid_type", "应为整数", "integer expected"),
    "string_type": ("invalid_type", "应为字符串", "string expected"),
    "bool_parsing": ("invalid_type", "应为布尔值", "boolean expected"),
    "date_parsing": ("invalid_date", "日期格式不正确", "invalid date"),
    "date_from_datetime_parsing": ("invalid_date", "日期格式不正确", "invalid date"),
    "date_from_datetime_inexact": ("invalid_date", "日期不得含时刻", "a date without a time"),
    "datetime_parsing": ("invalid_datetime", "时间格式不正确", "invalid date-time"),
    "datetime_from_date_parsing": ("invalid_datetime", "时间格式不正确", "invalid date-time"),
    "timezone_aware": ("invalid_datetime", "时间须带时区", "date-time needs an offset"),
    "greater_than_equal": ("too_small", "数值过小", "value too small"),
    "less_than_equal": ("too_large", "数值过大", "value too large"),
    "model_type": ("invalid_type", "应为对象", "object expected"),
    "list_type": ("invalid_type", "应为数组", "array expected"),
    "int_type": ("invalid_type", "应为整数", "integer expected"),
    "bool_type": ("invalid_type", "应为布尔值", "boolean expected"),
    "float_type": ("invalid_type", "应为数值", "number expected"),
    "float_parsing": ("invalid_type", "应为数值", "number expected"),
    "too_long": ("too_long", "项数过多", "too many items"),
    "too_short": ("too_short", "项数过少", "too few items"),
}

# the limit a refusal names, from pydantic's context: (context key, 中文, English)
_LIMITS: dict[str, tuple[str, str, str]] = {
    "string_too_long": ("max_length", "最多{}个字符", "at most {} characters"),
    "string_too_short": ("min_length", "至少{}个字符", "at least {} characters"),
    "too_long": ("max_length", "最多{}项", "at most {} items"),
    "too_short": ("min_length", "至少{}项", "at least {} items"),
    "greater_than_equal": ("ge", "不得小于{}", "at least {}"),
    "less_than_equal": ("le", "不得大于{}", "at most {}"),
}


def field_path(loc: tuple[Any, ...]) -> str:
    """``("body", "caller", "phone")`` -> ``caller.phone``; list indexes as ``[0]``."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "body"


def validation_items(errors: list[dict[str, Any]]) -> list[ErrorItem]:
    items = []
    for e in errors:
        kind = e.get("type", "value_error")
        code, zh, en = _PYDANTIC_CODES.get(kind, ("invalid", "取值无效", "invalid value"))
        if kind == "value_error":
            # our own validators raise ValueError("code|中文|English")
            msg = str(e.get("ctx", {}).get("error", e.get("msg", "")))
            if msg.count("|") == 2:
                code, zh, en = msg.split("|")
        elif kind in _LIMITS:
            key, zh_limit, en_limit = _LIMITS[kind]
            limit = e.get("ctx", {}).get(key)
            if limit is not None:
                zh, en = f"{zh}（{zh_limit.format(limit)}）", f"{en} ({en_limit.format(limit)})"
        # malformed JSON is located by its character offset (("body", 17)): the field is the body
        where = "body" if kind == "json_invalid" else field_path(tuple(e.get("loc", ())))
        items.append(ErrorItem(where, code, bilingual(zh, en)))
    return items


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.items, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        return error_response(422, validation_items(list(exc.errors())))

    @app.exception_handler(DBAPIError)
    async def _refused_text(request: Request, exc: DBAPIError) -> Response:
        """A client's error, answered without the traceback of a server error."""
        from shared.db import text_refused

        if text_refused(exc):
            return error_response(422, [nul_refused(request)])
        raise exc  # to the handler of every other exception

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Response:
        from shared.db import transient_db_errors
        from shared.logging import get_logger

        if transient_db_errors(exc):
            # the database is restarting or unreachable: nothing was committed, retry later
            return error_response(
                503,
                [
                    ErrorItem(
                        None,
                        "service_unavailable",
                        bilingual(
                            "服务暂时不可用，请稍后重试", "temporarily unavailable; retry later"
                        ),
                    )
                ],
                {"Retry-After": "1"},
            )
        get_logger(__name__).error("http.unhandled", error=type(exc).__name__)
        return error_response(
            500, [ErrorItem(None, "internal_error", bilingual("服务器内部错误", "internal error"))]
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (allowed := allowed_methods(request)):
            headers["Allow"] = ", ".join(allowed)
        codes = {
            401: ("unauthorized", "未登录或凭证无效", "not authenticated"),
            403: ("forbidden", "无权操作", "forbidden"),
            404: ("not_found", "未找到", "not found"),
            405: ("method_not_allowed", "不支持的请求方法", "method not allowed"),
        }
        code, zh, en = codes.get(exc.status_code, ("http_error", "请求错误", str(exc.detail)))
        return error_response(exc.status_code, [ErrorItem(None, code, bilingual(zh, en))], headers)


_PARAM = re.compile(r"\\\{[^/]*?\\\}")  # a path parameter, as re.escape leaves it
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def nul_refused(request: Request) -> ErrorItem:
    """The 422 for text holding U+0000, which PostgreSQL refused: the path or query parameter
    that carries it, else the body (already read, so not searched)."""
    where = "body"
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        if "\x00" in f"{name}{value}":
            where = name.replace("\x00", "") or "query"
            break
    return ErrorItem(
        where,
        "invalid_character",
        bilingual("不得含空字符（U+0000）", "must not contain the NUL character (U+0000)"),
    )


def allowed_methods(request: Request) -> list[str]:
    """The methods the app's OpenAPI document gives the request's path: Starlette's 405 names
    only those of the first route that matched, and FastAPI has a route per method. Paths the
    document leaves out (the docs, Open311's catch-all) keep Starlette's answer."""
    path = get_route_path(request.scope)
    methods: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        if re.fullmatch(_PARAM.sub("[^/]+", re.escape(template)), path):
            methods.update(m.upper() for m in item if m in _METHODS)
    return sorted(methods)
