"""What intake's signed partner endpoints (12345 hotline, provincial platform) share: verify
the signature on the bytes as received, then parse and validate, all in the transaction of the
effect; refusals in the documented error shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.api.errors import ApiError, ErrorItem, validation_items
from shared.api.openapi import error_response
from shared.clock import Clock
from shared.db import Database
from shared.signing import MESSAGES, Partner, header_names, remember_nonce, verify_partner

M = TypeVar("M", bound=BaseModel)


def refusals(partner: Partner, invalid: str) -> dict[int | str, dict[str, Any]]:
    """The refusals a signed endpoint documents: 401 as §0 fixes it (one item, the header at
    fault, one of the five codes; nothing changed) and 422 ``invalid`` in the error shape."""
    return {
        401: error_response(
            "signature refused; nothing changed",
            codes=MESSAGES,
            fields=header_names(partner).all(),
            one=True,
        ),
        422: {"description": invalid},
    }


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(
            422, "invalid_json", "JSON 格式错误", "malformed JSON", field="body"
        ) from None


def validate(model: type[M], data: Any, prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        items = validation_items([dict(e) for e in exc.errors()])
        if prefix:
            items = [
                ErrorItem(f"{prefix}.{i.field}" if i.field != "body" else prefix, i.code, i.message)
                for i in items
            ]
        raise ApiError.of(422, items) from None


async def signed(
    request: Request,
    db: Database,
    clock: Clock,
    work: Callable[[AsyncConnection, Any], Awaitable[JSONResponse]],
    *,
    partner: Partner,
    parse: bool = True,
) -> JSONResponse:
    """Verify, then run ``work`` in the same transaction as the nonce. A request that was
    authenticated but then refused (422, 404) still has its nonce remembered: the contract
    counts it as accepted, so its replay is a replay."""
    authenticated: str | None = None
    try:
        async with db.transaction("intake") as conn:
            authenticated = await verify_partner(
                request, conn, partner=partner, schema="intake", clock=clock
            )
            data = parse_json(await request.body()) if parse else None
            return await work(conn, data)
    except ApiError as exc:
        if authenticated is not None and exc.status != 401:
            async with db.transaction("intake") as conn:
                await remember_nonce(
                    conn,
                    schema="intake",
                    partner=partner,
                    key_id=authenticated,
                    nonce=request.headers[header_names(partner).nonce],
                    clock=clock,
                )
        raise
