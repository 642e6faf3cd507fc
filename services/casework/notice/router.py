"""Notices over HTTP: the kinds and reply templates, a draft prefilled from the case, issuing
(DOCX + PDF stored, 文号 allocated), the files, and the delivery record. Every case-bound
endpoint answers 404 outside the caller's scope, like the rest of casework."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select

from services.casework.case import access
from services.casework.case.acts import record
from services.casework.models import case_clock
from services.casework.notice import kinds, replies, service
from services.casework.notice.schemas import (
    DeliveryIn,
    NoticeIssueIn,
    NoticeKindRead,
    NoticeList,
    NoticeRead,
    ReplyTemplateRead,
)
from services.casework.org import OrgDirectory, directory
from shared.api.deps import ClockDep, DbDep, SettingsDep
from shared.api.errors import ApiError, not_found
from shared.clock import SHANGHAI
from shared.crypto import open_pii
from shared.identity.deps import require_roles
from shared.identity.principal import Principal
from shared.identity.roles import (
    DISCIPLINE_INSPECTOR,
    HANDLER,
    LEADER,
    PETITION_OFFICER,
    REGISTRAR,
    STAFF_ROLES,
    UNIT_LEAD,
)
from shared.security import keys_for
from shared.storage import object_store

PREFIX = "/api/v1/casework"
Staff = Annotated[Principal, Depends(require_roles(*sorted(STAFF_ROLES)))]
# who may issue a notice, and who may record its delivery; checked after the case's scope,
# so that a case out of scope answers 404 to every role, as the acts do
ISSUERS = (PETITION_OFFICER, HANDLER, UNIT_LEAD, LEADER, DISCIPLINE_INSPECTOR)
DELIVERERS = (PETITION_OFFICER, HANDLER, UNIT_LEAD, REGISTRAR, DISCIPLINE_INSPECTOR)


def _require(principal: Principal, roles: tuple[str, ...]) -> None:
    if not principal.has_role(*roles):
        raise ApiError(403, "role_required", "无权办理此告知书", "your roles may not do this")


router = APIRouter(prefix=PREFIX, tags=["notices (告知书、意见书)"])
_NO_STORE = {"Cache-Control": "no-store"}
CaseId = Annotated[str, Path(max_length=64)]


def _json(body: Any, status: int = 200) -> Response:
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return Response(
        orjson.dumps(data), status_code=status, media_type="application/json", headers=_NO_STORE
    )


@router.get("/notice-kinds", response_model=list[NoticeKindRead], summary="The notice kinds")
async def notice_kinds(principal: Staff) -> Response:
    return _json([NoticeKindRead.of(s).model_dump(mode="json") for s in kinds.KINDS.values()])


@router.get(
    "/reply-templates",
    response_model=list[ReplyTemplateRead],
    summary="Reply paragraphs to start from, for the case's category (and a generic one)",
)
async def reply_templates(
    principal: Staff,
    category: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    found = replies.reply_templates(category)
    return _json([ReplyTemplateRead.of(t).model_dump(mode="json") for t in found])


@router.get(
    "/cases/{case_id}/notices",
    response_model=NoticeList,
    responses={404: {"description": "unknown or out of scope"}},
    summary="The notices issued for a case, oldest first",
)
async def case_notices(case_id: CaseId, principal: Staff, db: DbDep) -> Response:
    async with db.transaction("casework") as conn:
        row = await access.load(conn, principal, case_id)
        found = await service.list_for_case(conn, row["case_id"])
    return _json(NoticeList(items=[NoticeRead.of(n) for n in found]))


def _day(value: datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).date().isoformat() if value else None


def draft_context(
    kind: str,
    row: dict[str, Any],
    principal: Principal,
    org: OrgDirectory,
    name: str | None,
    handle_due: datetime | None = None,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """What the system already knows for a notice of ``kind`` (staff complete the rest), and
    warnings about what it could not fill in as it stands (``field``, ``code``, ``message``)."""
    unit = org.get(principal.org_unit_id)
    lead = org.get(row["lead_unit_id"])
    context: dict[str, Any] = {
        "issuer": unit.name if unit else "",
        "petitioner": name or "信访人",
        "matter": row["title"],
    }
    warnings: list[dict[str, str]] = []
    if kind == "accept":
        accepted_on, due_on = _day(row["accepted_at"]), _day(handle_due or row["due_at"])
        if accepted_on and due_on and due_on <= accepted_on:
            # the handling clock ran out before acceptance (a clock from receipt, such as a
            # 12345 order's): a notice must not state a past deadline, so staff decide it
            warnings.append(
                {
                    "field": "context.due_on",
                    "code": "deadline_passed",
                    "message": f"办结期限 {due_on} 已早于受理日期，请核定后填写 / the handling "
                    f"deadline {due_on} is not after the acceptance date: set it before issuing",
                }
            )
            due_on = None
        context.update(
            handling_unit=lead.name if lead else (unit.name if unit else ""),
            accepted_on=accepted_on,
            due_on=due_on,
            handling_path=row["handling_path"],
        )
    elif kind in ("assign", "transfer"):
        context.update(to_unit=lead.name if lead else None, sent_on=_day(row["updated_at"]))
    elif kind == "reply":
        superior = org.superior_body(row["lead_unit_id"]) if row["lead_unit_id"] else None
        context.update(review_body=superior.name if superior else None)
    return {k: v for k, v in context.items() if v is not None}, warnings


@router.get(
    "/cases/{case_id}/notices/draft",
    responses={404: {"description": "unknown or out of scope"}},
    summary="A notice's context prefilled from the case (edit, then issue it)",
)
async def notice_draft(
    case_id: CaseId,
    principal: Staff,
    db: DbDep,
    settings: SettingsDep,
    kind: Annotated[str, Query(max_length=32)],
) -> Response:
    kinds.get(kind)  # 422 for an unknown kind
    org = await directory(db)
    async with db.transaction("casework") as conn:
        row = await access.load(conn, principal, case_id)
        _require(principal, ISSUERS)
        handle_due = await conn.scalar(
            select(case_clock.c.due_at)
            .where(case_clock.c.case_id == row["case_id"], case_clock.c.kind == "handle")
            .order_by(case_clock.c.id.desc())
            .limit(1)
        )
    name = None
    if principal.can_unmask() and row["pii"] and not row["anonymous"]:
        name = open_pii(keys_for(settings).ring, row["pii"]).get("name")
    context, warnings = draft_context(kind, row, principal, org, name, handle_due)
    return _json({"kind": kind, "context": context, "warnings": warnings})


@router.post(
    "/cases/{case_id}/notices",
    response_model=NoticeRead,
    status_code=201,
    responses={404: {"description": "unknown or out of scope"}, 422: {"description": "invalid"}},
    summary="Issue a notice: rendered to DOCX and PDF from its versioned template, stored",
)
async def issue_notice(
    case_id: CaseId,
    body: NoticeIssueIn,
    principal: Staff,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    async with db.transaction("casework") as conn:
        row = await access.load(conn, principal, case_id, for_update=True)
        _require(principal, ISSUERS)
        made = await service.issue(
            conn,
            case_id=row["case_id"],
            kind=body.kind,
            context=body.context,
            issued_by=principal.subject,
            store=object_store(settings),
            clock=clock,
        )
        await record(
            conn,
            case_id=row["case_id"],
            at=clock.now(),
            action="notice",
            actor=principal.subject,
            actor_unit=principal.org_unit_id,
            reason=f"{made.title} {made.number}",
            details={"notice_id": str(made.id), "kind": made.kind, "number": made.number},
            public=True,
        )
    return _json(NoticeRead.of(made), 201)


async def _notice_in_scope(conn: Any, principal: Principal, notice_id: str) -> service.NoticeRecord:
    try:
        nid = uuid.UUID(notice_id)
    except ValueError:
        raise not_found("告知书不存在", "notice not found") from None
    found = await service.get(conn, notice_id=nid)
    if found is None:
        raise not_found("告知书不存在", "notice not found")
    await access.load(conn, principal, str(found.case_id))  # 404 outside scope
    return found


@router.get(
    "/notices/{notice_id}.{fmt}",
    responses={404: {"description": "unknown or out of scope"}},
    summary="A notice's file (pdf or docx)",
)
async def notice_file(
    notice_id: Annotated[str, Path(max_length=64)],
    fmt: Literal["pdf", "docx"],
    principal: Staff,
    db: DbDep,
    settings: SettingsDep,
) -> Response:
    async with db.transaction("casework") as conn:
        found = await _notice_in_scope(conn, principal, notice_id)
    file = await service.open_file(object_store(settings), found, fmt)
    return Response(
        file.data,
        media_type=file.media_type,
        headers={
            **_NO_STORE,
            "Content-Disposition": f'attachment; filename="{file.filename}"',
        },
    )


@router.post(
    "/notices/{notice_id}/delivery",
    response_model=NoticeRead,
    responses={404: {"description": "unknown or out of scope"}, 409: {"description": "recorded"}},
    summary="Record how the notice reached the petitioner (in person / post / electronic)",
)
async def deliver_notice(
    notice_id: Annotated[str, Path(max_length=64)],
    body: DeliveryIn,
    principal: Staff,
    db: DbDep,
) -> Response:
    async with db.transaction("casework") as conn:
        found = await _notice_in_scope(conn, principal, notice_id)
        _require(principal, DELIVERERS)
        done = await service.record_delivery(
            conn,
            notice_id=found.id,
            method=body.method,
            outcome=body.outcome,
            at=body.at,
            recorded_by=principal.subject,
        )
    return _json(NoticeRead.of(done))
