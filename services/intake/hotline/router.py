"""The hotline's endpoints (integrations §1). Every request is signed (§0): the signature is
checked on the bytes as received before the body is parsed, so a forged request gets 401,
never a 422 that reveals how we validate."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.hotline import service
from services.intake.hotline.schemas import (
    Cancellation,
    Evaluation,
    OrderAnswer,
    Reconciliation,
    WorkOrder,
)
from services.intake.partner import refusals, signed, validate
from shared.api.deps import ClockDep, DbDep, KeysDep
from shared.api.errors import ApiError
from shared.api.openapi import body_schema
from shared.clock import Clock
from shared.signing import Partner

router = APIRouter(prefix="/api/v1/hotline", tags=["12345 hotline (signed)"])

PARTNER: Partner = "hotline"
MAX_BATCH = 500

_SIGNED = refusals(
    PARTNER,
    "invalid order (field paths such as caller.phone, attachments[0].sha256); nothing stored",
)


def _answer(status: int, answer: OrderAnswer) -> JSONResponse:
    return JSONResponse(answer.model_dump(), status_code=status)


@router.post(
    "/work-orders",
    response_model=OrderAnswer,
    status_code=201,
    responses={**_SIGNED, 200: {"model": OrderAnswer, "description": "a repeat, stale or amended"}},
    summary="Push one work order (201 new; 200 repeat, stale or amended)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": body_schema(WorkOrder)}},
        }
    },
)
async def push_order(request: Request, db: DbDep, keys: KeysDep, clock: ClockDep) -> JSONResponse:
    async def work(conn: AsyncConnection, data: Any) -> JSONResponse:
        order = validate(WorkOrder, data)
        status, answer = await service.push(conn, order=order, raw=data, keys=keys, clock=clock)
        return _answer(status, answer)

    return await signed(request, db, clock, work, partner=PARTNER)


@router.post(
    "/work-orders/batch",
    responses=_SIGNED,
    summary="Push 1 to 500 orders; one result per order, in the order sent",
)
async def push_batch(request: Request, db: DbDep, keys: KeysDep, clock: ClockDep) -> JSONResponse:
    async def work(conn: AsyncConnection, data: Any) -> JSONResponse:
        orders = data.get("orders") if isinstance(data, dict) else None
        if not isinstance(orders, list) or not 1 <= len(orders) <= MAX_BATCH:
            raise ApiError(
                422,
                "batch_size",
                "每批须含1至500个工单",
                "a batch holds 1 to 500 orders",
                field="orders",
            )
        return JSONResponse({"results": await _batch(conn, orders, keys=keys, clock=clock)})

    return await signed(request, db, clock, work, partner=PARTNER)


async def _batch(
    conn: AsyncConnection, items: list[Any], *, keys: Any, clock: Clock
) -> list[dict[str, Any]]:
    """One result per order, in the order sent, each what the single push would answer. An
    invalid order stores nothing; the valid ones go in together, in the request's
    transaction, through the set-based path."""
    results: list[dict[str, Any] | None] = []
    valid: list[tuple[WorkOrder, dict[str, Any]]] = []
    for i, item in enumerate(items):
        try:
            valid.append((validate(WorkOrder, item, prefix=f"orders[{i}]"), item))
            results.append(None)
        except ApiError as exc:
            results.append(
                {
                    "order_no": item.get("order_no") if isinstance(item, dict) else None,
                    "http_status": exc.status,
                    "case_id": None,
                    "tracking_no": None,
                    "status": None,
                    "errors": [e.as_dict() for e in exc.items],
                }
            )
    pushed = iter(await service.push_many(conn, orders=valid, keys=keys, clock=clock))
    stored = iter(valid)
    return [
        r if r is not None else _result(next(stored)[0].order_no, *next(pushed)) for r in results
    ]


def _result(order_no: str, status: int, answer: OrderAnswer) -> dict[str, Any]:
    return {"order_no": order_no, "http_status": status, **answer.model_dump(), "errors": []}


@router.post(
    "/work-orders/{order_no}/cancel",
    response_model=OrderAnswer,
    responses=_SIGNED,
    summary="The caller withdrew the order (撤单)",
)
async def cancel_order(
    order_no: str, request: Request, db: DbDep, keys: KeysDep, clock: ClockDep
) -> JSONResponse:
    async def work(conn: AsyncConnection, data: Any) -> JSONResponse:
        cancellation = validate(Cancellation, data)
        answer = await service.cancel(
            conn, order_no=order_no, cancellation=cancellation, keys=keys, clock=clock
        )
        return _answer(200, answer)

    return await signed(request, db, clock, work, partner=PARTNER)


@router.post(
    "/evaluations",
    responses={**_SIGNED, 201: {"description": "recorded (200: this visit was recorded before)"}},
    summary="The hotline's call-back result (12345 回访), idempotent per visit",
)
async def evaluation(request: Request, db: DbDep, keys: KeysDep, clock: ClockDep) -> JSONResponse:
    async def work(conn: AsyncConnection, data: Any) -> JSONResponse:
        ev = validate(Evaluation, data)
        new = await service.record_evaluation(conn, evaluation=ev, keys=keys, clock=clock)
        return JSONResponse(
            {"order_no": ev.order_no, "visited_at": ev.visited_at.isoformat(), "recorded": new},
            status_code=201 if new else 200,
        )

    return await signed(request, db, clock, work, partner=PARTNER)


@router.get(
    "/reconciliation",
    response_model=Reconciliation,
    responses=_SIGNED,
    summary="对账: every order received that day (Asia/Shanghai)",
)
async def reconciliation(
    request: Request,
    db: DbDep,
    clock: ClockDep,
    day: Annotated[
        str | None, Query(alias="date", description="YYYY-MM-DD, Asia/Shanghai (required)")
    ] = None,
) -> JSONResponse:
    # the date is read after the signature checked out: an unsigned request gets 401, never a
    # 422 (so the parameter is optional to FastAPI and required here)
    async def work(conn: AsyncConnection, _: Any) -> JSONResponse:
        on = _day(day)
        items = await service.reconciliation(conn, day=on)
        return JSONResponse(Reconciliation(date=on, orders=items).model_dump(mode="json"))

    return await signed(request, db, clock, work, partner=PARTNER, parse=False)


def _day(value: str | None) -> date:
    if value is None:
        raise ApiError(422, "required", "缺少日期", "date is required", field="date")
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(
            422, "invalid_date", "日期格式应为 YYYY-MM-DD", "date must be YYYY-MM-DD", field="date"
        ) from None
