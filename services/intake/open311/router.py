"""Open311 GeoReport v2 endpoints under ``/open311/v2`` (integrations §4). Every resource is
served as ``.json`` and ``.xml``; every refusal is the standard's error array, in the format the
path asked for, with descriptions in Chinese and English."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from services.intake.open311 import service
from services.intake.open311.render import (
    FORMATS,
    RESPONSES_DOC,
    Format,
    Open311Error,
    bad_request,
    error_response,
    forbidden,
    format_of_path,
    not_found,
    render,
    split_format,
)
from services.intake.open311.schemas import parse_form, parse_query
from shared.api.deps import ClockDep, DbDep, KeysDep, SettingsDep
from shared.db import text_refused

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Open311Route(APIRoute):
    """Turns :class:`Open311Error` into the standard's error body instead of our house format,
    and so a 4xx of Starlette's own (a form it cannot parse, such as multipart without a
    boundary): the document promises the standard's body for every 4xx here."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Open311Error as err:
                return error_response(err, format_of_path(request.url.path))
            except DBAPIError as exc:
                if not text_refused(exc):
                    raise
                refused = Open311Error(400, "不得含空字符（U+0000）", "no NUL characters (U+0000)")
                return error_response(refused, format_of_path(request.url.path))
            except HTTPException as exc:
                if not 400 <= exc.status_code < 500:
                    raise
                refused = Open311Error(exc.status_code, "请求无法处理", str(exc.detail))
                return error_response(refused, format_of_path(request.url.path))

        return route


router = APIRouter(
    prefix=service.PREFIX,
    tags=["Open311 GeoReport v2"],
    route_class=Open311Route,
    responses=RESPONSES_DOC,
)


def _format(fmt: str) -> Format:
    if fmt not in FORMATS:
        raise not_found("不支持的格式（请用 .json 或 .xml）", "unknown format (use .json or .xml)")
    return fmt


@router.get("/discovery.{fmt}", summary="Service discovery")
async def discovery(fmt: str, settings: SettingsDep) -> Response:
    return render(service.discovery(settings), _format(fmt), "discovery")


@router.get("/services.{fmt}", summary="Service list: our categories")
async def services(fmt: str) -> Response:
    return render(service.service_list(), _format(fmt), "services")


@router.get("/services/{spec}", summary="Service definition: services/{service_code}.{format}")
async def service_definition(spec: str) -> Response:
    service_code, fmt = split_format(spec)
    definition = service.service_definition(service_code)
    if definition is None:
        raise not_found(
            f"未知的服务代码 service_code：{service_code}",
            f"service_code not found: {service_code}",
        )
    return render(definition, fmt, "service_definition")


@router.post("/requests.{fmt}", summary="Create a service request (form-encoded, api_key)")
async def create_request(
    fmt: str,
    request: Request,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    out = _format(fmt)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in _FORM_TYPES:
        raise bad_request(
            "请以 application/x-www-form-urlencoded 表单提交",
            "send the request form-encoded (application/x-www-form-urlencoded)",
        )
    form = {k: v for k, v in (await request.form()).multi_items() if isinstance(v, str)}
    api_key = service.valid_key(
        form.get("api_key") or request.query_params.get("api_key"), settings
    )
    if api_key is None:
        raise forbidden(
            "缺少或无效的 api_key，无法提交", "missing or invalid api_key -- can't create a request"
        )
    parsed = parse_form(form)
    raw: dict[str, Any] = {k: v for k, v in form.items() if k != "api_key"}
    async with db.transaction("intake") as conn:
        created = await service.create(
            conn, form=parsed, raw=raw, api_key=api_key, keys=keys, clock=clock, settings=settings
        )
    return render(created, out, "service_requests")


@router.get("/requests.{fmt}", summary="Service requests (90 days / 1,000 by default)")
async def list_requests(
    fmt: str,
    request: Request,
    db: DbDep,
    keys: KeysDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    out = _format(fmt)
    query = parse_query(request.query_params, clock.now())
    reader = service.reader(request.query_params.get("api_key"), settings, keys)
    async with db.transaction("intake") as conn:
        rows = await service.find_many(conn, query)
    return render(service.present_all(rows, filer=reader, keys=keys), out, "service_requests")


@router.get("/requests/{spec}", summary="One service request: requests/{id}.{format}")
async def get_request(
    spec: str, request: Request, db: DbDep, keys: KeysDep, settings: SettingsDep
) -> Response:
    request_id, fmt = split_format(spec)
    reader = service.reader(request.query_params.get("api_key"), settings, keys)
    async with db.transaction("intake") as conn:
        row = await service.find_one(conn, request_id)
    if row is None:
        raise not_found(f"未找到诉求 {request_id}", f"service_request_id not found: {request_id}")
    return render([service.present(row, filer=reader, keys=keys)], fmt, "service_requests")


@router.get("/tokens/{spec}", summary="service_request_id from a token (never issued here)")
async def token(spec: str) -> Response:
    """Every service is ``realtime``: POST answers with the service_request_id at once and no
    token is ever issued, so every token is unknown (404, as the standard says)."""
    token_id, _ = split_format(spec)
    raise not_found(
        f"未找到令牌 {token_id}（本系统提交即返回编号，不发放令牌）",
        f"token not found: {token_id} (requests are realtime; no tokens are issued)",
    )


@router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
async def unknown(rest: str) -> Response:
    raise not_found("资源不存在", f"no such Open311 resource: {rest}")
