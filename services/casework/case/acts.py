"""Acting on a case: every transition of the workflow, guarded by role, unit and state, and
recorded with who, when and why — in one transaction with its milestone event.

``perform`` checks that the caller may see the case (404), holds a role for the act (403),
belongs to the unit the act is for (403), and that the act is allowed in the case's state
(409). Acts that need a head's sign-off become an approval request; the act takes effect
when the approver approves (``approval.service.decide`` calls ``apply``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.case import access, oversight, timing, workflow
from services.casework.case.schemas import (
    ACT_BODIES,
    AcceptIn,
    ActResult,
    AssignIn,
    CloseIn,
    ContactIn,
    DecideReviewIn,
    DisputeIn,
    DivertIn,
    EvaluateIn,
    ExtendIn,
    MediateIn,
    NameAccusedIn,
    RefuseIn,
    ReplyIn,
    SignIn,
    SuperviseIn,
    TakeChargeIn,
    UrgeIn,
    VerifyIn,
)
from services.casework.models import case
from services.casework.org import OrgDirectory
from shared.api.errors import ApiError, validation_items
from shared.bus.outbox import publish_many
from shared.clock import Clock
from shared.crypto import redact, redact_many
from shared.events import casework as ev
from shared.identity.principal import Principal
from shared.identity.roles import DISCIPLINE_INSPECTOR, LEADER, PETITION_OFFICER, UNIT_LEAD
from shared.settings import Settings

PRODUCER = "casework"
APPROVER_ROLES = frozenset({UNIT_LEAD, LEADER})


def _err(status: int, code: str, zh: str, en: str, field: str | None = None) -> ApiError:
    return ApiError(status, code, zh, en, field)


def _unknown_unit(field: str) -> ApiError:
    return _err(422, "unknown_org_unit", "机构不存在", "no such org unit", field)


def parse_body(act: str, raw: dict[str, Any]) -> BaseModel:
    """The act's body, validated (422 with every field's code on failure)."""
    model = ACT_BODIES.get(act)
    if model is None:
        raise _err(404, "unknown_act", "没有这个办理动作", "no such act", "act")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ApiError.of(422, validation_items([dict(e) for e in exc.errors()])) from None


def effective_roles(principal: Principal, row: dict[str, Any]) -> frozenset[str]:
    """For an accusation, the discipline inspector does the petition office's part."""
    roles = principal.roles
    if row["accusation"] and DISCIPLINE_INSPECTOR in roles:
        roles = roles | {PETITION_OFFICER}
    return roles


def _in_unit(principal: Principal, org: OrgDirectory, unit_id: str | None) -> bool:
    unit = org.get(unit_id)
    if unit is None or not principal.org_path:
        return False
    return (principal.org_path.rstrip("/") + "/").startswith(unit.path)


def _above(principal: Principal, org: OrgDirectory, unit_id: str | None) -> bool:
    """The caller's unit is a body above ``unit_id`` (a government above its office)."""
    unit = org.get(unit_id)
    if unit is None or not principal.org_path:
        return False
    return unit.path.startswith(principal.org_path.rstrip("/") + "/")


async def _office_ids(db: AsyncConnection, case_id: uuid.UUID) -> list[str]:
    rows = await db.execute(
        text("SELECT unit_id FROM casework.case_access WHERE case_id = :c AND reason = 'office'"),
        {"c": case_id},
    )
    return [r[0] for r in rows]


async def contested_units(db: AsyncConnection, row: dict[str, Any]) -> set[str]:
    """The units whose decision a 复查 / 复核 reviews: the lead and co-units that handled the
    case, the petition office that accepted and assigned it, and — under 复核 — the body that
    decided the 复查 (from the case history: whoever accepted, assigned or decided)."""
    units = {u for u in (row["lead_unit_id"], *row["co_unit_ids"], row["office_unit_id"]) if u}
    acted = await db.execute(
        text(
            "SELECT DISTINCT actor_unit_id FROM casework.case_history WHERE case_id = :c "
            "AND actor_unit_id IS NOT NULL "
            "AND action IN ('accept', 'assign', 'reassign', 'reply', 'decide_review')"
        ),
        {"c": row["case_id"]},
    )
    units.update(r[0] for r in acted)
    return units


async def may_review(
    db: AsyncConnection, principal: Principal, org: OrgDirectory, row: dict[str, Any]
) -> bool:
    """复查 / 复核 (and a hearing's pause and resume) belong to the reviewing body itself — the
    case's current ``review_unit_id``, the next-higher government — never to a unit below it
    (its petition office, its departments) nor to anyone in the subtree of a unit whose
    decision is under review (domain §2; 条例 Art. 35–36)."""
    review_unit = row["review_unit_id"]
    if not review_unit or principal.org_unit_id != review_unit:
        return False
    return not any(_in_unit(principal, org, u) for u in await contested_units(db, row))


async def check_unit(
    db: AsyncConnection, principal: Principal, org: OrgDirectory, rule: workflow.Act, row: dict
) -> None:
    """403 unless the caller belongs to the unit the act is for."""
    if rule.unit == workflow.ANY:
        return
    if rule.unit == workflow.OFFICE:
        ok = any(_in_unit(principal, org, u) for u in await _office_ids(db, row["case_id"]))
    elif rule.unit == workflow.OVERSIGHT:
        ok = any(
            _in_unit(principal, org, u) or _above(principal, org, u)
            for u in await _office_ids(db, row["case_id"])
        )
    elif rule.unit == workflow.LEAD:
        ok = _in_unit(principal, org, row["lead_unit_id"])
    elif rule.unit == workflow.HANDLING and row["status"] in workflow.UNDER_REVIEW:
        # the clock running is the reviewing body's: only it may act on it (an extension)
        ok = await may_review(db, principal, org, row)
    elif rule.unit == workflow.HANDLING:
        ok = any(_in_unit(principal, org, u) for u in [row["lead_unit_id"], *row["co_unit_ids"]])
    else:  # REVIEW
        ok = await may_review(db, principal, org, row)
    reviewing = rule.unit == workflow.REVIEW or row["status"] in workflow.UNDER_REVIEW
    if not ok and reviewing:
        raise _err(
            403,
            "not_your_unit",
            "复查、复核由复查（复核）机关本身办理，原办理单位及其下属不能办理",
            "the reviewing body itself decides; not a unit whose decision is under review",
        )
    if not ok:
        raise _err(
            403,
            "not_your_unit",
            "该办理动作不由您所在单位办理",
            "this act belongs to another unit",
        )


async def perform(
    db: AsyncConnection,
    *,
    principal: Principal,
    case_id: str,
    act: str,
    raw: dict[str, Any],
    org: OrgDirectory,
    clock: Clock,
    settings: Settings,
    actor_name: str | None = None,
) -> ActResult:
    """``actor_name``: the caller's display name, for acts that name them (领导包案)."""
    body = parse_body(act, raw)
    row = await access.load(db, principal, case_id, for_update=True)
    rule = workflow.ACTS[act]
    if effective_roles(principal, row).isdisjoint(rule.roles):
        raise _err(403, "role_required", "您的角色不能办理此事项", "your role may not do this")
    await check_unit(db, principal, org, rule, row)
    if row["status"] not in rule.sources:
        raise _err(
            409,
            "invalid_transition",
            f"办件当前状态（{row['status']}）不允许此操作",
            f"not allowed while the case is {row['status']}",
            "act",
        )
    await validate(db, row=row, act=act, body=body, org=org, clock=clock, settings=settings)
    needs_approval = rule.approval or (act == "reply" and row["major"])
    if needs_approval:
        from services.casework.approval import service as approvals

        approval_id = await approvals.request(
            db,
            row=row,
            act=act,
            body=body,
            principal=principal,
            org=org,
            clock=clock,
        )
        return ActResult(case_id=case_id, status=row["status"], act=act, approval_id=approval_id)
    status = await apply(
        db,
        row=row,
        act=act,
        body=body,
        actor=principal.subject,
        actor_unit=principal.org_unit_id,
        org=org,
        clock=clock,
        settings=settings,
        actor_name=actor_name,
    )
    return ActResult(case_id=case_id, status=status, act=act, approval_id=None)


async def validate(
    db: AsyncConnection,
    *,
    row: dict[str, Any],
    act: str,
    body: BaseModel,
    org: OrgDirectory,
    clock: Clock,
    settings: Settings,
) -> None:
    """The act's own rules, beyond role, unit and state (checked before anything changes)."""
    if isinstance(body, AssignIn):
        units = [body.lead_unit_id, *body.co_unit_ids]
        for i, unit_id in enumerate(units):
            field = "lead_unit_id" if i == 0 else f"co_unit_ids.{i - 1}"
            unit = org.get(unit_id)
            if unit is None:
                raise _err(422, "unknown_org_unit", "机构不存在", "no such org unit", field)
            if unit.kind == "petition_office":
                raise _err(
                    422,
                    "not_a_handling_unit",
                    "信访工作机构不能作为承办单位",
                    "a petition office is not a handling unit",
                    field,
                )
        if len(set(units)) != len(units):
            raise _err(422, "duplicate_unit", "单位重复", "a unit is named twice", "co_unit_ids")
    if isinstance(body, DisputeIn):
        for i, unit_id in enumerate(body.unit_ids):
            if org.get(unit_id) is None:
                raise _err(
                    422, "unknown_org_unit", "机构不存在", "no such org unit", f"unit_ids.{i}"
                )
        if org.common_superior(body.unit_ids[0], body.unit_ids[1]) is None:
            raise _err(
                422,
                "no_common_superior",
                "这些单位没有共同上级",
                "these units have no common superior",
                "unit_ids",
            )
    if act == "object":
        due = await timing.running_due(db, row["case_id"], "object")
        if due is not None and clock.now() > due:
            raise _err(
                409,
                "objection_window_closed",
                "异议期（5个工作日）已过，请办理或申请改派",
                "the 5 working days to object have passed",
            )
    if isinstance(body, ReplyIn) and not row["contacted"]:
        if row["contact_attempts"] < settings.casework_unreachable_attempts:
            raise _err(
                409,
                "petitioner_not_contacted",
                f"答复前须联系信访人（未联系上的，须有{settings.casework_unreachable_attempts}次联系记录）",
                f"contact the petitioner first (or record "
                f"{settings.casework_unreachable_attempts} attempts)",
            )
    if act == "close" and (row["evaluation"] or {}).get("verification") == "pending":
        raise _err(
            409,
            "verification_pending",
            "不满意评价尚待回访复核，复核后方可办结",
            "a 不满意 rating awaits its verification (verify) before the case can be closed",
        )
    if isinstance(body, ExtendIn):
        await timing.check_extension(db, row["case_id"], extension_clock(row["status"]), body.days)
    if isinstance(body, EvaluateIn) and "dissatisfied" in (body.unit_rating, body.office_rating):
        if not body.reason:
            raise _err(422, "reason_required", "不满意须说明理由", "a reason is required", "reason")
    if act in ("request_review", "request_reexam"):
        since = (
            row["replied_at"]
            if act == "request_review"
            else await timing.last_stop(db, row["case_id"], "review")
        )
        if since is not None:
            window = await timing.window_end(db, since, days=30, region_code=row["region_code"])
            if clock.now() > window:
                raise _err(
                    409,
                    "review_window_closed",
                    "已超过申请期限（收到意见之日起30日）",
                    "the 30 days to ask have passed",
                )
        superior = (
            org.superior_body(row["lead_unit_id"])
            if act == "request_review"
            else org.superior_body(row["review_unit_id"] or "")
        )
        if row["lead_unit_id"] is None or superior is None:
            raise _err(
                409,
                "no_superior_body",
                "找不到上一级机关",
                "no next-higher body is known for this case",
            )
    if isinstance(body, SuperviseIn):
        oversight.check_date_or_days(
            body.due_on, body.days, clock.now(), field="due_on", required=False
        )
    if isinstance(body, TakeChargeIn):
        oversight.check_date_or_days(
            body.resolve_by, body.days, clock.now(), field="resolve_by", required=True
        )
        if body.handler_id is not None:
            try:
                uuid.UUID(body.handler_id)
            except ValueError:
                raise _err(
                    422, "invalid_staff_id", "人员编号无效", "not a staff id", "handler_id"
                ) from None
    if isinstance(body, RefuseIn) and body.kind == "not_reaccepted" and body.prior_case_id:
        prior = await db.scalar(
            text("SELECT status FROM casework.case WHERE case_id::text = :p"),
            {"p": body.prior_case_id},
        )
        if prior not in (workflow.REEXAMINED, workflow.REVIEWED, workflow.CLOSED):
            raise _err(
                422,
                "prior_case_not_final",
                "引用的原信访事项尚未办结或复核",
                "the prior case is not final",
                "prior_case_id",
            )


def extension_clock(status: str) -> str:
    """The clock an extension (延期) in ``status`` extends."""
    return {
        workflow.REVIEW_REQUESTED: "review",
        workflow.REEXAM_REQUESTED: "reexam",
    }.get(status, "handle")


def _public_message(
    act: str, row: dict[str, Any], body: BaseModel, org: OrgDirectory
) -> str | None:
    t = row["tracking_no"]
    if isinstance(body, AcceptIn):
        return f"您的信访事项（编号 {t}）已受理，将依法办理并按时答复。 / Accepted."
    if isinstance(body, RefuseIn):
        what = "不予受理" if body.kind == "not_accepted" else "不再受理"
        return (
            f"您的信访事项（编号 {t}）{what}：{body.reason}。您可以：{body.where_to_go}。"
            f" / Not accepted: see the notice."
        )
    if isinstance(body, DivertIn):
        return f"您的诉求（编号 {t}）请通过以下途径解决：{body.where_to_go}。 / Diverted."
    if isinstance(body, AssignIn):
        unit = org.get(body.lead_unit_id)
        name = unit.name if unit else body.lead_unit_id
        return f"您的信访事项（编号 {t}）已转交{name}办理。 / Passed to the handling unit."
    if act == "sign":
        return f"您的信访事项（编号 {t}）承办单位已签收，正在办理。 / Being handled."
    if isinstance(body, ReplyIn):
        return f"您的信访事项（编号 {t}）已作出处理意见，请查收。 / Replied."
    if isinstance(body, ExtendIn):
        return (
            f"您的信访事项（编号 {t}）办理期限延长{body.days}日，原因：{body.reason}。"
            " / The handling period is extended."
        )
    if act in ("request_review", "request_reexam"):
        what = "复查" if act == "request_review" else "复核"
        return f"您的{what}申请（编号 {t}）已收到。 / Your request was received."
    if isinstance(body, DecideReviewIn):
        what = "复查" if row["status"] == workflow.REVIEW_REQUESTED else "复核"
        return f"您的信访事项（编号 {t}）已作出{what}意见，请查收。 / Decided."
    if isinstance(body, CloseIn):
        return f"您的信访事项（编号 {t}）已办结。 / Closed."
    return None


async def apply(
    db: AsyncConnection,
    *,
    row: dict[str, Any],
    act: str,
    body: BaseModel,
    actor: str,
    actor_unit: str | None,
    org: OrgDirectory,
    clock: Clock,
    settings: Settings,
    approved_by: str | None = None,
    actor_name: str | None = None,
) -> str:
    """Make the act's change, record it, emit its milestone. Returns the new status."""
    rule = workflow.ACTS[act]
    body = _redacted(body)
    now = clock.now()
    case_id: uuid.UUID = row["case_id"]
    status = row["status"]
    new_status = workflow.next_status(act, status)
    sets: dict[str, Any] = {}
    details: dict[str, Any] = body.model_dump(mode="json")
    if approved_by:
        details["approved_by"] = approved_by
    events: list[ev.EventPayload] = []
    base = {
        "case_id": str(case_id),
        "tracking_no": row["tracking_no"],
        "occurred_at": now,
        "actor": actor,
        "unit_id": actor_unit,
        "unit_name": unit.name if (unit := org.get(actor_unit)) else None,
        "region_code": row["region_code"],
        "category_code": row["category_code"],
        "source": row["source"],
        "accusation": row["accusation"],
        "public_message": _public_message(act, row, body, org) if rule.public else None,
    }

    if isinstance(body, AcceptIn):
        sets.update(handling_path=body.handling_path, major=body.major, accepted_at=now)
        on_time = await timing.stop(db, case_id, "accept", now)
        await timing.start(db, row, "handle", now, clock)
        events.append(
            ev.CaseAcceptedV1(
                **base, status=new_status, handling_path=body.handling_path, on_time=on_time
            )
        )
    elif isinstance(body, RefuseIn):
        on_time = await timing.stop(db, case_id, "accept", now)
        await timing.stop_all(db, case_id, now)
        sets.update(closed_at=now)
        events.append(
            ev.CaseRefusedV1(
                **base,
                status=new_status,
                kind=body.kind,
                reason=body.reason,
                where_to_go=body.where_to_go,
                on_time=on_time,
            )
        )
    elif isinstance(body, DivertIn):
        await timing.stop_all(db, case_id, now)
        sets.update(closed_at=now)
        events.append(
            ev.CaseDivertedV1(**base, status=new_status, route=body.route, reason=body.reason)
        )
    elif isinstance(body, AssignIn):
        reassign = act == "reassign"
        old = [u for u in [row["lead_unit_id"], *row["co_unit_ids"]] if u]
        if reassign:
            await access.revoke(db, case_id=case_id, unit_ids=old)
            await db.execute(
                text(
                    "UPDATE casework.assignment SET state = 'withdrawn', answered_at = :now, "
                    "answered_by = :a, reason = :r WHERE case_id = :c AND state IN "
                    "('pending', 'signed')"
                ),
                {"now": now, "a": actor, "r": getattr(body, "reason", None), "c": case_id},
            )
            await timing.stop(db, case_id, "object", now)
            await timing.stop(db, case_id, "sign", now)
        units = [(body.lead_unit_id, "lead"), *((u, "co") for u in body.co_unit_ids)]
        grants = []
        for unit_id, role in units:
            unit = org.get(unit_id)
            assert unit is not None  # validated
            grants.append((unit.id, unit.path, role))
        await access.grant(db, case_id=case_id, units=grants, at=now)
        await db.execute(
            text(
                "INSERT INTO casework.assignment (case_id, unit_id, role, mode, assigned_at, "
                "assigned_by, state) SELECT :c, u, r, :m, :now, :a, 'pending' "
                "FROM unnest(CAST(:u AS text[]), CAST(:r AS text[])) AS x(u, r)"
            ),
            {
                "c": case_id,
                "u": [u for u, _ in units],
                "r": [r for _, r in units],
                "m": body.mode,
                "now": now,
                "a": actor,
            },
        )
        sets.update(
            lead_unit_id=body.lead_unit_id,
            co_unit_ids=body.co_unit_ids,
            handler_id=None,
            transfers=row["transfers"] + 1,
        )
        await timing.stop(db, case_id, "register", now)
        await timing.start(db, row, "object", now, clock)
        if row["source"] == "hotline":
            await timing.start(db, row, "sign", now, clock)
        events.append(
            ev.CaseAssignedV1(
                **base,
                status=new_status,
                mode=body.mode,
                lead_unit_id=body.lead_unit_id,
                lead_unit_name=lead.name if (lead := org.get(body.lead_unit_id)) else None,
                co_unit_ids=body.co_unit_ids,
                reassignment=reassign,
            )
        )
    elif isinstance(body, SignIn):
        handler = body.handler_id or actor
        try:
            sets.update(handler_id=uuid.UUID(handler))
        except ValueError:
            raise _err(
                422, "invalid_staff_id", "人员编号无效", "not a staff id", "handler_id"
            ) from None
        await _answer_assignment(db, case_id, row["lead_unit_id"], "signed", actor, None, now)
        await timing.stop(db, case_id, "object", now)
        await timing.stop(db, case_id, "sign", now)
        events.append(ev.CaseSignedV1(**base, status=new_status, handler_id=handler))
    elif act == "object":
        reason = getattr(body, "reason", "")
        await _answer_assignment(db, case_id, row["lead_unit_id"], "objected", actor, reason, now)
        await access.revoke(
            db, case_id=case_id, unit_ids=[row["lead_unit_id"], *row["co_unit_ids"]]
        )
        await timing.stop(db, case_id, "object", now)
        await timing.stop(db, case_id, "sign", now)
        sets.update(lead_unit_id=None, co_unit_ids=[], handler_id=None)
        events.append(ev.CaseObjectedV1(**base, status=new_status, reason=reason))
    elif isinstance(body, ContactIn) or act in ("visit_site", "mediate"):
        reached = body.reached if isinstance(body, ContactIn) else True
        method = (
            body.method
            if isinstance(body, ContactIn)
            else ("site_visit" if act == "visit_site" else "mediation")
        )
        attempts = row["contact_attempts"] + 1
        sets.update(contact_attempts=attempts, contacted=row["contacted"] or reached)
        if isinstance(body, MediateIn):
            details["fulfilment"] = "pending"
        events.append(
            ev.CaseContactedV1(
                **{**base, "public_message": None},
                status=new_status,
                method=method,
                reached=reached,
                attempts=attempts,
            )
        )
    elif isinstance(body, ExtendIn):
        kind = extension_clock(status)
        due = await timing.extend(db, case_id, kind, body.days, body.reason, actor, clock)
        details["clock"] = kind
        details["due_at"] = due.isoformat() if due else None
        events.append(
            ev.CaseExtendedV1(
                **base, status=new_status, clock=kind, days=body.days, reason=body.reason
            )
        )
    elif isinstance(body, ReplyIn):
        on_time = await timing.stop(db, case_id, "handle", now)
        sets.update(replied_at=now)
        events.append(
            ev.CaseRepliedV1(
                **base,
                status=new_status,
                stage="reply",
                decisions=[c.decision for c in body.claims],
                on_time=on_time,
                reply_text=reply_text(body),
            )
        )
    elif isinstance(body, EvaluateIn):
        sets.update(
            evaluation=evaluation_record(
                body.unit_rating, body.office_rating, body.reason, "staff", now
            )
        )
        events.append(
            ev.CaseEvaluatedV1(
                **base,
                status=new_status,
                unit_rating=body.unit_rating,
                office_rating=body.office_rating,
                reason=redact(body.reason) if body.reason else None,
            )
        )
    elif isinstance(body, VerifyIn):
        evaluation = dict(row["evaluation"] or {})
        if evaluation.get("verification") != "pending":
            raise _err(409, "nothing_to_verify", "没有待复核的不满意评价", "nothing to verify")
        evaluation["verification"] = "upheld" if body.upheld else "not_upheld"
        evaluation["verified_at"] = now.isoformat()
        sets.update(evaluation=evaluation)
        if body.upheld:  # handled again under supervision (督办), on a new handling clock
            new_status = workflow.IN_PROGRESS
            await timing.start(db, row, "handle", now, clock)
            handle_due = await timing.running_due(db, case_id, "handle")
            assert handle_due is not None  # just started
            reason = redact(f"回访复核：不满意属实，重新办理。{body.finding}")
            unit_id = actor_unit or row["office_unit_id"]
            supervision_id = await oversight.open_supervision(
                db, case_id=case_id, unit_id=unit_id, origin="verify", reason=reason,
                notice_no=None, due_at=handle_due, provisional=False, at=now, by=actor,
            )  # fmt: skip
            details["supervision_id"] = str(supervision_id)
            events.append(
                ev.CaseSupervisedV1(
                    **base,
                    status=new_status,
                    supervision_id=str(supervision_id),
                    supervising_unit_id=unit_id,
                    supervision_due_at=handle_due,
                    reason=reason,
                )
            )
    elif isinstance(body, SuperviseIn):
        counted = await oversight.due(
            db,
            now,
            on=body.due_on,
            days=body.days or (None if body.due_on else oversight.supervision_days(settings)),
            working_days=True,
        )
        due_at = counted if isinstance(counted, datetime) else counted.due_at
        provisional = not isinstance(counted, datetime) and counted.provisional
        unit_id = actor_unit or row["office_unit_id"]
        supervision_id = await oversight.open_supervision(
            db, case_id=case_id, unit_id=unit_id, origin="act", reason=body.reason,
            notice_no=body.notice_no, due_at=due_at, provisional=provisional, at=now, by=actor,
        )  # fmt: skip
        details.update(
            supervision_id=str(supervision_id),
            due_at=due_at.isoformat(),
            provisional=provisional,
            lead_unit_id=row["lead_unit_id"],
        )
        events.append(
            ev.CaseSupervisedV1(
                **base,
                status=new_status,
                supervision_id=str(supervision_id),
                supervising_unit_id=unit_id,
                supervision_due_at=due_at,
                reason=body.reason,
                notice_no=body.notice_no,
            )
        )
    elif isinstance(body, UrgeIn):
        details["lead_unit_id"] = row["lead_unit_id"]
    elif isinstance(body, TakeChargeIn):
        counted = await oversight.due(
            db, now, on=body.resolve_by, days=body.days, working_days=False
        )
        resolve_by = counted if isinstance(counted, datetime) else counted.due_at
        case_handler = body.handler_id or (str(row["handler_id"]) if row["handler_id"] else None)
        leader = {
            "leader_id": actor,
            "leader_name": actor_name,
            "lead_unit_id": row["lead_unit_id"],
            "handler_id": case_handler,
            "resolve_by": resolve_by.isoformat(),
            "measures": body.measures,
            "at": now.isoformat(),
        }
        sets.update(leader=leader)
        details.update(leader)
        if row["leader"]:
            details["replaces"] = row["leader"].get("leader_id")
        events.append(
            ev.CaseLeaderAssignedV1(
                **base,
                status=new_status,
                leader_id=actor,
                leader_name=actor_name,
                lead_unit_id=row["lead_unit_id"],
                handler_id=case_handler,
                resolve_by=resolve_by,
                measures=body.measures,
            )
        )
    elif isinstance(body, CloseIn):
        await timing.stop_all(db, case_id, now)
        sets.update(closed_at=now)
        events.append(ev.CaseClosedV1(**base, status=new_status, resolved=body.resolved))
    elif act in ("request_review", "request_reexam"):
        stage = "review" if act == "request_review" else "reexam"
        superior = (
            org.superior_body(row["lead_unit_id"])
            if stage == "review"
            else org.superior_body(row["review_unit_id"] or "")
        )
        assert superior is not None  # validated
        await access.grant(
            db, case_id=case_id, units=[(superior.id, superior.path, "review")], at=now
        )
        sets.update(review_unit_id=superior.id, closed_at=None)
        await timing.start(db, row, stage, now, clock)
        events.append(
            ev.CaseReviewRequestedV1(
                **base, status=new_status, stage=stage, review_unit_id=superior.id
            )
        )
    elif isinstance(body, DecideReviewIn):
        stage = "review" if status == workflow.REVIEW_REQUESTED else "reexam"
        on_time = await timing.stop(db, case_id, stage, now)
        details["on_time"] = on_time
        events.append(
            ev.CaseReviewedV1(**base, status=new_status, stage=stage, outcome=body.outcome)
        )
    elif act == "pause":
        await timing.pause(db, case_id, "reexam", getattr(body, "reason", ""), actor, clock)
    elif act == "resume":
        await timing.resume(db, case_id, "reexam", getattr(body, "reason", ""), actor, clock)
    elif isinstance(body, NameAccusedIn):
        if not row["accusation"]:
            raise _err(409, "not_an_accusation", "该件不是检举控告件", "not an accusation", "act")
        paths = []
        for i, unit_id in enumerate(body.unit_ids):
            unit = org.get(unit_id)
            if unit is None:
                raise _err(
                    422, "unknown_org_unit", "机构不存在", "no such org unit", f"unit_ids.{i}"
                )
            paths.append(unit.path)
        sets.update(
            accused_paths=sorted({*row["accused_paths"], *paths}),
            accused_staff=sorted({*row["accused_staff"], *body.staff_ids}),
        )
        # the accused units lose any access they had (they never had a reason to see it)
        await access.revoke_units(db, case_id=case_id, unit_paths=paths)
    # "fulfil" and "note" only record
    if row.get("supervision_due_at") is not None and new_status in oversight.ENDS_SUPERVISION:
        await oversight.end_supervisions(db, case_id, now)

    sets["status"] = new_status
    sets["updated_at"] = now
    await db.execute(case.update().where(case.c.case_id == case_id).values(**sets))
    await timing.refresh_due(db, [case_id])
    await record(
        db,
        case_id=case_id,
        at=now,
        action=act,
        actor=actor,
        actor_unit=actor_unit,
        from_status=status,
        to_status=new_status,
        reason=_reason_of(body),
        details=details,
        public=rule.public,
    )
    if events:
        due = await db.scalar(
            text("SELECT due_at FROM casework.case WHERE case_id = :c"), {"c": case_id}
        )
        public_due = (await timing.public_dues(db, [case_id])).get(str(case_id))
        await publish_many(
            db,
            producer=PRODUCER,
            clock=clock,
            events=[
                (e.model_copy(update={"due_at": due, "public_due_at": public_due}), str(case_id))
                for e in events
            ],
        )
    return new_status


def _redacted(body: BaseModel) -> BaseModel:
    """The free text of the oversight acts without phone and ID numbers (it travels in events
    and is shown to every unit that sees the case)."""
    fields = [
        f for f in ("reason", "measures") if isinstance(getattr(body, f, None), str)
    ] if isinstance(body, SuperviseIn | UrgeIn | TakeChargeIn) else []  # fmt: skip
    if not fields:
        return body
    cleaned = redact_many(getattr(body, f) for f in fields)
    return body.model_copy(update=dict(zip(fields, cleaned, strict=True)))


DISSATISFIED = "dissatisfied"


def evaluation_record(
    unit: str, office: str, reason: str | None, by: str, at: datetime
) -> dict[str, Any]:
    """The case's evaluation; a 不满意 of either party opens a 回访复核 (verification)."""
    record: dict[str, Any] = {
        "unit": unit,
        "office": office,
        "reason": reason,
        "by": by,
        "at": at.isoformat(),
    }
    if DISSATISFIED in (unit, office):
        record["verification"] = "pending"
    return record


_DECISION_ZH = {"support": "支持", "explain": "解释说明", "reject": "不予支持"}


def reply_text(body: ReplyIn) -> str:
    """The reply as the petitioner reads it, redacted of phone and ID numbers."""
    lines = [body.summary]
    for i, c in enumerate(body.claims, 1):
        decision = _DECISION_ZH[c.decision]
        lines.append(f"{i}. 诉求：{c.claim}；意见：{decision}；事实：{c.facts}；依据：{c.basis}")
    lines.append("如不服本处理意见，可自收到之日起30日内向上一级行政机关请求复查。")
    return redact("\n".join(lines))


def _reason_of(body: BaseModel) -> str | None:
    for name in ("reason", "note", "text", "summary", "opinion", "findings", "agreement"):
        value = getattr(body, name, None)
        if value:
            return str(value)
    return None


async def _answer_assignment(
    db: AsyncConnection,
    case_id: uuid.UUID,
    unit_id: str | None,
    state: str,
    actor: str,
    reason: str | None,
    now: datetime,
) -> None:
    await db.execute(
        text(
            "UPDATE casework.assignment SET state = :s, answered_at = :now, answered_by = :a, "
            "reason = :r WHERE case_id = :c AND unit_id = :u AND state = 'pending'"
        ),
        {"s": state, "now": now, "a": actor, "r": reason, "c": case_id, "u": unit_id},
    )


async def record(
    db: AsyncConnection,
    *,
    case_id: uuid.UUID,
    at: datetime,
    action: str,
    actor: str,
    actor_unit: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    public: bool = False,
) -> None:
    """One line of the case history (never rewritten)."""
    import orjson

    await db.execute(
        text(
            "INSERT INTO casework.case_history (case_id, occurred_at, action, actor, "
            "actor_unit_id, from_status, to_status, reason, details, public) VALUES "
            "(:c, :at, :action, :actor, :unit, :f, :t, :r, CAST(:d AS jsonb), :p)"
        ),
        {
            "c": case_id,
            "at": at,
            "action": action,
            "actor": actor,
            "unit": actor_unit,
            "f": from_status,
            "t": to_status,
            "r": reason,
            "d": orjson.dumps(details).decode() if details is not None else None,
            "p": public,
        },
    )


__all__ = ["APPROVER_ROLES", "apply", "check_unit", "perform", "record"]
