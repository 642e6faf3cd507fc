"""The staff API of casework: workbench queues, search, case detail, every act of the
workflow, the approval queue, routing rules and handover. Every read is scoped to the
caller's org subtree (404 outside it); accusations only to discipline inspectors."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.approval import service as approvals
from services.casework.case import acts, queries
from services.casework.case.schemas import (
    ActResult,
    ApprovalView,
    CaseDetail,
    CasePage,
    DecisionIn,
    HandoverIn,
    RuleIn,
)
from services.casework.org import directory
from services.casework.routing import rules
from shared.api import idempotency
from shared.api.deps import ClockDep, DbDep, IdempotencyKey, SettingsDep
from shared.api.errors import ApiError, not_found
from shared.identity.deps import require_roles
from shared.identity.principal import Principal
from shared.identity.roles import ADMIN, PETITION_OFFICER, STAFF_ROLES, UNIT_LEAD
from shared.security import keys_for

PREFIX = "/api/v1/casework"
_require_staff = require_roles(*sorted(STAFF_ROLES))
Staff = Annotated[Principal, Depends(_require_staff)]
RuleKeeper = Annotated[Principal, Depends(require_roles(ADMIN, PETITION_OFFICER))]
UnitLead = Annotated[Principal, Depends(require_roles(UNIT_LEAD))]

router = APIRouter(prefix=PREFIX, tags=["casework (办理)"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "the role or unit may not do this"},
    404: {"description": "unknown, or outside the caller's scope"},
    409: {"description": "not allowed in the case's state (`invalid_transition`) or in flight"},
    422: {"description": "validation failed: `{errors: [{field, code, message}]}`"},
}
_NO_STORE = {"Cache-Control": "no-store"}
CaseId = Annotated[str, Path(max_length=64, description="the case id (UUID)")]


def _json(body: BaseModel, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body.model_dump(mode="json")),
        status_code=status,
        media_type="application/json",
        headers=_NO_STORE,
    )


async def _once(
    request: Request,
    db: DbDep,
    clock: ClockDep,
    principal: Principal,
    key: str | None,
    act: Callable[[AsyncConnection], Awaitable[BaseModel]],
) -> Response:
    async def answer(conn: AsyncConnection) -> bytes:
        return orjson.dumps((await act(conn)).model_dump(mode="json"))

    return await idempotency.run_once(
        db,
        schema="casework",
        request=request,
        caller=f"staff:{principal.subject}",
        key=key,
        ring=keys_for(request.app.state.settings).ring,
        clock=clock,
        status=200,
        act=answer,
        headers=_NO_STORE,
    )


@router.get(
    "/cases",
    response_model=CasePage,
    responses=_ERRORS,
    summary="Workbench: a page of a queue, with filters and full-text search",
)
async def list_cases(
    principal: Staff,
    db: DbDep,
    clock: ClockDep,
    queue: Annotated[
        Literal["all", "mine", "unit", "to_sign", "due_soon", "overdue"],
        Query(
            description="mine: my cases; unit: my unit's open cases; to_sign: awaiting "
            "my unit's 签收; due_soon / overdue: by the first running deadline"
        ),
    ] = "all",
    status: Annotated[str | None, Query(max_length=32)] = None,
    source: Annotated[str | None, Query(max_length=40)] = None,
    category: Annotated[str | None, Query(max_length=32, description="category prefix")] = None,
    region: Annotated[str | None, Query(max_length=12, description="region code prefix")] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, description="words of the title or content (Chinese too)"),
    ] = None,
    due_within_days: Annotated[int, Query(ge=1, le=60)] = 3,
    supervised: Annotated[
        bool | None, Query(description="under supervision (督办) now, or not")
    ] = None,
    leader_owned: Annotated[
        bool | None, Query(description="owned by a leader (领导包案), or not")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> Response:
    async with db.autocommit("casework") as conn:  # a page is one statement's snapshot
        found = await queries.page(
            conn,
            principal,
            queue=queue,
            status=status,
            source=source,
            category=category,
            region=region,
            q=q,
            due_within_days=due_within_days,
            supervised=supervised,
            leader_owned=leader_owned,
            cursor=cursor,
            limit=limit,
            now=clock.now(),
        )
    return _json(found)


@router.get(
    "/cases/{case_id}",
    response_model=CaseDetail,
    responses=_ERRORS,
    summary="A case: its data, clocks, public timeline and internal records kept apart",
)
async def get_case(case_id: CaseId, principal: Staff, db: DbDep, settings: SettingsDep) -> Response:
    org = await directory(db)
    async with db.transaction("casework") as conn:
        found = await queries.detail(conn, principal, case_id, org, keys_for(settings).ring)
    return _json(found)


_ACT_EXAMPLES = {
    "accept": {"summary": "受理", "value": {"handling_path": "claim", "major": False}},
    "assign": {
        "summary": "交办",
        "value": {"mode": "assign", "lead_unit_id": "440306.housing", "co_unit_ids": []},
    },
    "sign": {"summary": "签收", "value": {}},
    "contact": {
        "summary": "联系信访人",
        "value": {"method": "phone", "reached": True, "note": "约定现场查看"},
    },
    "reply": {
        "summary": "答复（处理意见书）",
        "value": {
            "summary": "经调查，小区电梯已安排维修。",
            "claims": [
                {
                    "claim": "要求维修电梯",
                    "decision": "support",
                    "facts": "电梯停运两周属实",
                    "basis": "《特种设备安全法》第三十九条",
                }
            ],
        },
    },
    "extend": {"summary": "延期", "value": {"days": 30, "reason": "需多部门会商"}},
    "refuse": {
        "summary": "不予受理 / 不再受理",
        "value": {
            "kind": "not_accepted",
            "reason": "所反映事项已进入诉讼程序",
            "where_to_go": "向人民法院提出",
        },
    },
    "divert": {
        "summary": "导入法定途径",
        "value": {
            "route": "politics_law",
            "reason": "涉法涉诉事项",
            "where_to_go": "区委政法委",
        },
    },
    "reassign": {
        "summary": "改派",
        "value": {
            "mode": "assign",
            "lead_unit_id": "440306.urban_mgmt",
            "co_unit_ids": [],
            "reason": "经核实属城管职责",
        },
    },
    "dispute": {
        "summary": "职责争议（报共同上级）",
        "value": {
            "unit_ids": ["440306.housing", "440306.urban_mgmt"],
            "reason": "两单位均称非本单位职责",
        },
    },
    "object": {"summary": "异议（非本单位职责）", "value": {"reason": "该事项属城管执法职责"}},
    "visit_site": {
        "summary": "现场查看",
        "value": {"place": "西乡街道某小区3栋", "findings": "电梯停运属实"},
    },
    "mediate": {
        "summary": "调解",
        "value": {
            "parties": ["信访人", "某物业公司"],
            "agreement": "物业公司于月底前完成维修",
            "fulfil_by": "2026-12-31",
        },
    },
    "fulfil": {"summary": "履行调解协议", "value": {"fulfilled": True, "note": "已维修"}},
    "evaluate": {
        "summary": "评价",
        "value": {"unit_rating": "satisfied", "office_rating": "basically_satisfied"},
    },
    "verify": {
        "summary": "回访复核",
        "value": {"upheld": False, "finding": "经回访核实，已按意见书办理"},
    },
    "close": {"summary": "办结", "value": {"resolved": True}},
    "request_review": {"summary": "申请复查", "value": {"reason": "对处理意见不服"}},
    "decide_review": {
        "summary": "复查意见",
        "value": {
            "outcome": "upheld",
            "opinion": "维持原处理意见",
            "facts": "经复查，原处理意见认定事实清楚",
            "basis": "《信访工作条例》第三十五条",
        },
    },
    "request_reexam": {"summary": "申请复核", "value": {"reason": "对复查意见不服"}},
    "pause": {"summary": "听证中止计时", "value": {"reason": "组织听证"}},
    "resume": {"summary": "听证结束恢复计时", "value": {"reason": "听证结束"}},
    "decide_reexam": {
        "summary": "复核意见",
        "value": {
            "outcome": "upheld",
            "opinion": "维持复查意见",
            "facts": "经复核，事实清楚",
            "basis": "《信访工作条例》第三十六条",
        },
    },
    "name_accused": {
        "summary": "列明被检举对象（纪检）",
        "value": {"unit_ids": ["440306.housing"], "staff_ids": []},
    },
    "note": {"summary": "内部备注", "value": {"text": "已电话联系街道核实"}},
    "supervise": {
        "summary": "督办",
        "value": {
            "reason": "群众反映强烈，请限期办结",
            "days": 10,
            "notice_no": "宝信督〔2026〕12号",
        },
    },
    "urge": {"summary": "催办", "value": {"reason": "办理期限将至，请加快办理"}},
    "take_charge": {
        "summary": "领导包案",
        "value": {"resolve_by": "2026-12-31", "measures": "每周约谈一次，专人稳控"},
    },
}


@router.post(
    "/cases/{case_id}/acts/{act}",
    response_model=ActResult,
    responses=_ERRORS,
    summary="Act on a case (受理, 交办, 签收, 答复 …); acts needing sign-off return an approval id",
)
async def act_on_case(
    case_id: CaseId,
    act: Annotated[str, Path(max_length=32)],
    request: Request,
    principal: Staff,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey,
    body: Annotated[dict[str, Any], Body(openapi_examples=_ACT_EXAMPLES)],
) -> Response:
    org = await directory(db)
    actor_name = await _display_name(db, principal) if act == "take_charge" else None

    async def run(conn: AsyncConnection) -> BaseModel:
        return await acts.perform(
            conn,
            principal=principal,
            case_id=case_id,
            act=act,
            raw=body,
            org=org,
            clock=clock,
            settings=settings,
            actor_name=actor_name,
        )

    return await _once(request, db, clock, principal, idempotency_key, run)


async def _display_name(db: DbDep, principal: Principal) -> str | None:
    """The caller's display name (a 包案 leader is named in the event for the reports)."""
    from shared.identity import service as identity

    async with db.transaction("identity") as iconn:
        account = await identity.get_staff(iconn, staff_id=principal.subject)
    return account.display_name if account else None


@router.get(
    "/approvals",
    response_model=list[ApprovalView],
    responses=_ERRORS,
    summary="Approvals waiting for me (extensions, refusals, diversions, major replies, disputes)",
)
async def my_approvals(principal: Staff, db: DbDep) -> Response:
    async with db.transaction("casework") as conn:
        found = await approvals.waiting_for(conn, principal)
    return Response(
        orjson.dumps([a.model_dump(mode="json") for a in found]),
        media_type="application/json",
        headers=_NO_STORE,
    )


@router.post(
    "/approvals/{approval_id}/decision",
    response_model=ApprovalView,
    responses=_ERRORS,
    summary="Approve (the act takes effect) or send back with a comment",
)
async def decide_approval(
    approval_id: Annotated[int, Path(ge=1, le=2**62)],
    body: DecisionIn,
    request: Request,
    principal: Staff,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey,
) -> Response:
    org = await directory(db)

    async def run(conn: AsyncConnection) -> BaseModel:
        return await approvals.decide(
            conn,
            approval_id=approval_id,
            approve=body.decision == "approve",
            comment=body.comment,
            lead_unit_id=body.lead_unit_id,
            principal=principal,
            org=org,
            clock=clock,
            settings=settings,
        )

    return await _once(request, db, clock, principal, idempotency_key, run)


class RouteView(BaseModel):
    lead_unit_id: str | None
    co_unit_ids: list[str]
    basis: str
    rule_id: int | None
    analytics: dict[str, Any] | None


@router.get(
    "/cases/{case_id}/route",
    response_model=RouteView,
    responses=_ERRORS,
    summary="Where the case should go: the routing rule or duty, and analytics' suggestion",
)
async def suggest_route(case_id: CaseId, principal: Staff, db: DbDep) -> Response:
    org = await directory(db)
    async with db.transaction("casework") as conn:
        from services.casework.case import access

        row = await access.load(conn, principal, case_id)
        route = await rules.suggest(
            conn,
            org,
            region_code=row["region_code"],
            category_code=row["category_code"],
            source=row["source"],
        )
    return _json(
        RouteView(
            lead_unit_id=route.lead_unit_id,
            co_unit_ids=route.co_unit_ids,
            basis=route.basis,
            rule_id=route.rule_id,
            analytics=row["route_suggestion"],
        )
    )


class RuleView(BaseModel):
    id: int
    region_prefix: str
    category_prefix: str
    source: str | None
    lead_unit_id: str
    co_unit_ids: list[str]
    active: bool
    created_at: datetime
    created_by: str


@router.get("/routing-rules", response_model=list[RuleView], summary="Routing rules in force")
async def list_rules(principal: Staff, db: DbDep) -> Response:
    async with db.transaction("casework") as conn:
        found = await rules.list_rules(conn)
    return Response(
        orjson.dumps([RuleView.model_validate(r).model_dump(mode="json") for r in found]),
        media_type="application/json",
    )


@router.post(
    "/routing-rules",
    response_model=RuleView,
    status_code=201,
    responses=_ERRORS,
    summary="Add a routing rule (region × category × source → lead and co-units)",
)
async def add_rule(body: RuleIn, principal: RuleKeeper, db: DbDep, clock: ClockDep) -> Response:
    org = await directory(db)
    async with db.transaction("casework") as conn:
        made = await rules.create_rule(
            conn,
            org,
            region_prefix=body.region_prefix,
            category_prefix=body.category_prefix,
            source=body.source,
            lead_unit_id=body.lead_unit_id,
            co_unit_ids=body.co_unit_ids,
            actor=principal.subject,
            clock=clock,
        )
    return _json(RuleView.model_validate(made), 201)


@router.delete(
    "/routing-rules/{rule_id}",
    status_code=204,
    responses=_ERRORS,
    summary="Retire a routing rule (kept, inactive)",
)
async def retire_rule(
    rule_id: Annotated[int, Path(ge=1, le=2**62)], principal: RuleKeeper, db: DbDep
) -> Response:
    async with db.transaction("casework") as conn:
        if not await rules.deactivate_rule(conn, rule_id=rule_id):
            raise not_found("规则不存在", "rule not found")
    return Response(status_code=204)


class HandoverResult(BaseModel):
    moved: int


@router.post(
    "/handovers",
    response_model=HandoverResult,
    responses=_ERRORS,
    summary="Hand a departing handler's open cases to another handler of the unit",
)
async def handover(body: HandoverIn, principal: UnitLead, db: DbDep, clock: ClockDep) -> Response:
    from shared.identity import service as identity

    ids = []
    for field, value in (("from_staff_id", body.from_staff_id), ("to_staff_id", body.to_staff_id)):
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            raise ApiError(
                422, "invalid_staff_id", "人员编号无效", "not a staff id", field
            ) from None
    async with db.transaction("identity") as iconn:
        accounts = [await identity.get_staff(iconn, staff_id=i) for i in ids]
    for field, account in zip(("from_staff_id", "to_staff_id"), accounts, strict=True):
        if account is None or account.org_unit_id != principal.org_unit_id:
            raise ApiError(
                422,
                "not_in_your_unit",
                "只能在本单位人员之间移交",
                "both handlers must belong to your unit",
                field,
            )
    async with db.transaction("casework") as conn:
        moved = await queries.handover(
            conn, principal, from_staff=ids[0], to_staff=ids[1], reason=body.reason, now=clock.now()
        )
    return _json(HandoverResult(moved=moved))
