"""One approval queue (审批) for the acts that need a head's sign-off: extensions,
不予受理 / 不再受理, diversions, replies to major cases, and unit disputes (decided by the
units' common superior). The request is kept as sent; approving applies it as the requester's
act, with the approver on record; sending it back leaves the case as it was."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.case import access, acts, workflow
from services.casework.case.schemas import ACT_BODIES, ApprovalView, AssignIn, DisputeIn
from services.casework.org import OrgDirectory
from shared.api.errors import ApiError, not_found
from shared.bus.outbox import publish_many
from shared.clock import Clock
from shared.events.casework import ApprovalRequestedV1
from shared.identity.principal import Principal
from shared.settings import Settings


def approver_unit(
    act: str, row: dict[str, Any], body: BaseModel, principal: Principal, org: OrgDirectory
) -> str:
    """Whose head signs off: the requesting office for refusals and diversions, the handling
    (or reviewing) unit for extensions and replies, the common superior for a dispute."""
    if isinstance(body, DisputeIn):
        superior = org.common_superior(body.unit_ids[0], body.unit_ids[1])
        for other in body.unit_ids[2:]:
            superior = org.common_superior(superior.id, other) if superior else None
        assert superior is not None  # validated before
        return superior.id
    if act == "extend" and row["status"] in (workflow.REVIEW_REQUESTED, workflow.REEXAM_REQUESTED):
        return str(row["review_unit_id"])
    if act in ("extend", "reply"):
        return str(row["lead_unit_id"])
    return str(principal.org_unit_id)


async def request(
    db: AsyncConnection,
    *,
    row: dict[str, Any],
    act: str,
    body: BaseModel,
    principal: Principal,
    org: OrgDirectory,
    clock: Clock,
) -> int:
    unit_id = approver_unit(act, row, body, principal, org)
    unit = org.get(unit_id)
    if unit is not None:
        await access.grant(
            db, case_id=row["case_id"], units=[(unit.id, unit.path, "approval")], at=clock.now()
        )
    approval_id = await db.scalar(
        text(
            "INSERT INTO casework.approval (case_id, kind, approver_unit_id, requested_at, "
            "requested_by, request) VALUES (:c, :k, :u, :now, :by, CAST(:r AS jsonb)) "
            "ON CONFLICT (case_id, kind) WHERE state = 'pending' DO NOTHING RETURNING id"
        ),
        {
            "c": row["case_id"],
            "k": act,
            "u": unit_id,
            "now": clock.now(),
            "by": principal.subject,
            "r": orjson.dumps(
                {"body": body.model_dump(mode="json"), "unit": principal.org_unit_id}
            ).decode(),
        },
    )
    if approval_id is None:
        raise ApiError(
            409,
            "approval_pending",
            "同类审批尚在等待中",
            "a request of this kind is already waiting for approval",
            "act",
        )
    await publish_many(
        db,
        producer=acts.PRODUCER,
        clock=clock,
        events=[
            (
                ApprovalRequestedV1(
                    approval_id=int(approval_id),
                    case_id=str(row["case_id"]),
                    tracking_no=row["tracking_no"],
                    kind=act,
                    approver_unit_id=unit_id,
                    requested_by=principal.subject,
                    requested_at=clock.now(),
                    accusation=row["accusation"],
                ),
                str(row["case_id"]),
            )
        ],
    )
    await acts.record(
        db,
        case_id=row["case_id"],
        at=clock.now(),
        action=f"request_{act}",
        actor=principal.subject,
        actor_unit=principal.org_unit_id,
        reason=getattr(body, "reason", None),
        details={"approval_id": approval_id, "approver_unit_id": unit_id},
    )
    return int(approval_id)


def _view(r: Any) -> ApprovalView:
    return ApprovalView(
        id=r["id"],
        case_id=str(r["case_id"]),
        kind=r["kind"],
        approver_unit_id=r["approver_unit_id"],
        requested_at=r["requested_at"],
        requested_by=r["requested_by"],
        request=r["request"],
        state=r["state"],
        decided_at=r["decided_at"],
        decided_by=r["decided_by"],
        comment=r["comment"],
    )


async def waiting_for(
    db: AsyncConnection, principal: Principal, limit: int = 50
) -> list[ApprovalView]:
    """Approvals waiting for the caller (a head of the approver unit)."""
    if principal.roles.isdisjoint(acts.APPROVER_ROLES) or not principal.org_unit_id:
        return []
    rows = await db.execute(
        text(
            "SELECT * FROM casework.approval WHERE approver_unit_id = :u AND state = 'pending' "
            "ORDER BY requested_at, id LIMIT :n"
        ),
        {"u": principal.org_unit_id, "n": limit},
    )
    return [_view(r) for r in rows.mappings()]


async def decide(
    db: AsyncConnection,
    *,
    approval_id: int,
    approve: bool,
    comment: str | None,
    lead_unit_id: str | None,
    principal: Principal,
    org: OrgDirectory,
    clock: Clock,
    settings: Settings,
) -> ApprovalView:
    row = (
        (
            await db.execute(
                text("SELECT * FROM casework.approval WHERE id = :i FOR UPDATE"),
                {"i": approval_id},
            )
        )
        .mappings()
        .first()
    )
    if row is None or row["approver_unit_id"] != principal.org_unit_id:
        raise not_found("审批不存在", "approval not found")
    if principal.roles.isdisjoint(acts.APPROVER_ROLES):
        raise ApiError(403, "role_required", "须由单位负责人审批", "a unit head must decide")
    if row["state"] != "pending":
        raise ApiError(409, "already_decided", "该审批已处理", "already decided")
    case_row = await access.load(db, principal, str(row["case_id"]), for_update=True)
    act = row["kind"]
    body = ACT_BODIES[act].model_validate(row["request"]["body"])
    now = clock.now()
    if approve:
        if case_row["status"] not in workflow.ACTS[act].sources:
            raise ApiError(
                409,
                "invalid_transition",
                "办件状态已变化，无法批准",
                f"the case is now {case_row['status']}",
            )
        if isinstance(body, DisputeIn):
            if not lead_unit_id or lead_unit_id not in body.unit_ids:
                raise ApiError(
                    422,
                    "lead_unit_required",
                    "请指定争议单位中的主办单位",
                    "name the lead unit, one of the disputing units",
                    "lead_unit_id",
                )
            requester = str(row["requested_by"])
            await acts.record(
                db,
                case_id=case_row["case_id"],
                at=now,
                action="dispute_decided",
                actor=principal.subject,
                actor_unit=principal.org_unit_id,
                reason=comment,
                details={"lead_unit_id": lead_unit_id, "approval_id": approval_id},
            )
            await acts.apply(
                db,
                row=case_row,
                act="assign",
                body=AssignIn(
                    mode="assign", lead_unit_id=lead_unit_id, co_unit_ids=[], note=comment
                ),
                actor=requester,
                actor_unit=row["request"].get("unit"),
                org=org,
                clock=clock,
                settings=settings,
                approved_by=principal.subject,
            )
        else:
            await acts.apply(
                db,
                row=case_row,
                act=act,
                body=body,
                actor=str(row["requested_by"]),
                actor_unit=row["request"].get("unit"),
                org=org,
                clock=clock,
                settings=settings,
                approved_by=principal.subject,
            )
    else:
        await acts.record(
            db,
            case_id=case_row["case_id"],
            at=now,
            action=f"return_{act}",
            actor=principal.subject,
            actor_unit=principal.org_unit_id,
            reason=comment,
            details={"approval_id": approval_id},
        )
    decided = (
        (
            await db.execute(
                text(
                    "UPDATE casework.approval SET state = :s, decided_at = :now, decided_by = :by, "
                    "comment = :cm WHERE id = :i RETURNING *"
                ),
                {
                    "s": "approved" if approve else "returned",
                    "now": now,
                    "by": principal.subject,
                    "cm": comment,
                    "i": approval_id,
                },
            )
        )
        .mappings()
        .one()
    )
    return _view(decided)
