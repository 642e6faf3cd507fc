"""Reading cases: the workbench queues, search, and the case detail — each one query for a
page (no related rows loaded one at a time), always within the caller's scope."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    DateTime,
    Integer,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.case import access, acts, oversight, search, search_plan, workflow
from services.casework.case.schemas import (
    CaseDetail,
    CasePage,
    CaseSummary,
    ClockView,
    HistoryItem,
    LeaderView,
    Petitioner,
    PriorCase,
    SupervisionView,
)
from services.casework.models import assignment, case, case_clock, case_history, case_signature
from services.casework.org import OrgDirectory
from shared.api.errors import ApiError
from shared.crypto import KeyRing, mask_name, mask_phone, open_pii
from shared.identity.principal import Principal
from shared.identity.scope import escape_like

QUEUES = ("all", "mine", "unit", "to_sign", "due_soon", "overdue")
_OPEN = sorted(workflow.OPEN)


def _bad_cursor() -> ApiError:
    return ApiError(422, "invalid_cursor", "翻页游标无效", "invalid cursor", "cursor")


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except Exception:
        raise _bad_cursor() from None
    if not isinstance(values, list) or len(values) != 2:
        raise _bad_cursor()
    return values


def summary(r: Any) -> CaseSummary:
    return CaseSummary(
        case_id=str(r["case_id"]),
        tracking_no=r["tracking_no"],
        title=r["title"],
        status=r["status"],
        source=r["source"],
        channel=r["channel"],
        category_code=r["category_code"],
        region_code=r["region_code"],
        urgency=r["urgency"],
        accusation=r["accusation"],
        lead_unit_id=r["lead_unit_id"],
        handler_id=str(r["handler_id"]) if r["handler_id"] else None,
        received_at=r["received_at"],
        due_at=r["due_at"],
        updated_at=r["updated_at"],
    )


_SUMMARY_COLUMNS = [
    case.c.case_id,
    case.c.tracking_no,
    case.c.title,
    case.c.status,
    case.c.source,
    case.c.channel,
    case.c.category_code,
    case.c.region_code,
    case.c.urgency,
    case.c.accusation,
    case.c.lead_unit_id,
    case.c.handler_id,
    case.c.received_at,
    case.c.due_at,
    case.c.updated_at,
]


async def page(
    db: AsyncConnection,
    principal: Principal,
    *,
    queue: str = "all",
    status: str | None = None,
    source: str | None = None,
    category: str | None = None,
    region: str | None = None,
    q: str | None = None,
    due_within_days: int = 3,
    supervised: bool | None = None,
    leader_owned: bool | None = None,
    cursor: str | None = None,
    limit: int = 25,
    now: datetime,
) -> CasePage:
    """A page of a queue, newest activity first (due queues: soonest deadline first).
    ``supervised``: under a current supervision (督办) or not; ``leader_owned``: owned by a
    leader (领导包案) or not — each has a partial index for the newest-first pages."""
    by_due = queue in ("due_soon", "overdue")
    values: dict[str, Any] = {"limit": limit + 1, **access.scope_params(principal)}
    handler_ok = queue != "mine" or _is_uuid(principal.subject)
    if queue == "mine" and handler_ok:
        values["handler"] = uuid.UUID(principal.subject)
    if queue == "to_sign":
        values["unit"] = principal.org_unit_id or ""
    if queue == "unit":
        values["unit"] = principal.org_unit_id or ""
        values["unit_array"] = [principal.org_unit_id or ""]
    if queue in ("due_soon", "overdue"):
        values["now"] = now
        values["due_before"] = now + timedelta(days=due_within_days)
    for name, value in (("status", status), ("source", source)):
        if value:
            values[name] = value
    for name, value in (("category", category), ("region", region)):
        if value:
            values[name + "_like"] = escape_like(value) + "%"
    tsq = search.query(q) if q else None
    if q and tsq is None:
        raise ApiError(
            422, "empty_query", "检索词中没有可检索的文字", "nothing searchable in q", "q"
        )
    if tsq is not None:
        values["tsq"] = tsq
    if cursor:
        value, last_id = _decode(cursor)
        try:
            values["after_at"] = datetime.fromisoformat(value)
            values["after_id"] = uuid.UUID(last_id)
        except (TypeError, ValueError):
            raise _bad_cursor() from None
    shape = _Shape(
        queue=queue,
        handler_ok=handler_ok,
        scope=access.scope_kind(principal),
        status=bool(status),
        source=bool(source),
        category=bool(category),
        region=bool(region),
        supervised=supervised,
        leader_owned=leader_owned,
        cursor=bool(cursor),
        search=tsq is not None,
    )
    if tsq is not None and queue in ("all", "mine") and q:
        # common words: the newest cases in order, stopping at the page (see search_plan)
        stats = await search_plan.term_stats(db)
        terms = search.query_terms(q)
        if stats.worth_a_window(terms, signed=_signed(shape)):
            bits = search_plan.signature_bits(stats.rarest_first(terms))
            bits = bits[: search_plan.TESTED_BITS]
            values |= {f"bit{i}": b for i, b in enumerate(bits)}
            window = search_plan.PROBE
            while window:
                statement = _windowed_statement(shape, len(bits))
                found = (await db.execute(statement, {**values, "window": window})).mappings()
                rows = found.all()
                if len(rows) > limit:
                    return _page_of(rows, limit, by_due)
                window = search_plan.next_window(window, len(rows), limit + 1)
    rows = (await db.execute(_page_statement(shape), values)).mappings().all()
    return _page_of(rows, limit, by_due)


@dataclass(frozen=True)
class _Shape:
    """What decides a page statement's SQL; the request's values are its parameters, so the
    statement of each shape is built once per process (``_page_statement``)."""

    queue: str
    handler_ok: bool  # the caller's subject is a staff id (the mine queue's key)
    scope: str  # access.scope_kind
    cursor: bool
    search: bool
    # filters on the case's own columns
    status: bool = False
    source: bool = False
    category: bool = False
    region: bool = False
    supervised: bool | None = None
    leader_owned: bool | None = None

    @property
    def filtered(self) -> bool:
        """Filters on the case's own columns (the cursor aside)."""
        flags = (self.status, self.source, self.category, self.region)
        return any(flags) or self.supervised is not None or self.leader_owned is not None


def _conditions(shape: _Shape) -> tuple[list[Any], list[Any]]:
    """The page's conditions besides the caller's scope and the search words, and its order."""
    conds: list[Any] = []
    by_due = shape.queue in ("due_soon", "overdue")
    if shape.queue == "mine":
        conds.append(
            case.c.handler_id == bindparam("handler", type_=UUID(as_uuid=True))
            if shape.handler_ok
            else literal_column("false")
        )
    elif shape.queue == "unit":
        conds.append(case.c.status.in_(_OPEN))
    elif shape.queue == "to_sign":
        conds.append(
            exists(
                select(1).where(
                    assignment.c.case_id == case.c.case_id,
                    assignment.c.unit_id == bindparam("unit", type_=Text),
                    assignment.c.role == "lead",  # a co-unit (协办) helps; the lead signs
                    assignment.c.state == "pending",
                )
            )
        )
    elif shape.queue == "due_soon":
        conds += [
            case.c.due_at >= bindparam("now", type_=DateTime(timezone=True)),
            case.c.due_at < bindparam("due_before", type_=DateTime(timezone=True)),
            case.c.status.in_(_OPEN),
        ]
    elif shape.queue == "overdue":
        conds += [
            case.c.due_at < bindparam("now", type_=DateTime(timezone=True)),
            case.c.status.in_(_OPEN),
        ]
    if shape.supervised is not None:
        conds.append(
            case.c.supervision_due_at.isnot(None)
            if shape.supervised
            else case.c.supervision_due_at.is_(None)
        )
    if shape.leader_owned is not None:
        conds.append(case.c.leader.isnot(None) if shape.leader_owned else case.c.leader.is_(None))
    if shape.status:
        conds.append(case.c.status == bindparam("status", type_=Text))
    if shape.source:
        conds.append(case.c.source == bindparam("source", type_=Text))
    if shape.category:
        conds.append(case.c.category_code.like(bindparam("category_like", type_=Text), "\\"))
    if shape.region:
        conds.append(case.c.region_code.like(bindparam("region_like", type_=Text), "\\"))
    key = case.c.due_at if by_due else case.c.updated_at
    if shape.cursor:
        conds.append(_after(key, case.c.case_id, ascending=by_due))
    order = [key.asc(), case.c.case_id.asc()] if by_due else [key.desc(), case.c.case_id.desc()]
    return conds, order


def _after(key: Any, case_id: Any, *, ascending: bool) -> Any:
    """The keyset cursor: the cases after (``:after_at``, ``:after_id``) in the page's order."""
    at = bindparam("after_at", type_=DateTime(timezone=True))
    last = bindparam("after_id", type_=UUID(as_uuid=True))
    if ascending:
        return or_(key > at, and_(key == at, case_id > last))
    return or_(key < at, and_(key == at, case_id < last))


def _matches(rows: Any) -> Any:
    return rows.c.search.op("@@")(cast(bindparam("tsq", type_=Text), TSQUERY))


def _signed(shape: _Shape) -> bool:
    """A search window of this shape is read from ``case_signature`` (no filters on the
    case's own columns to apply while walking it)."""
    return shape.queue == "all" and not shape.filtered


@lru_cache(maxsize=256)
def _windowed_statement(shape: _Shape, bits: int) -> Any:
    """A search page read through a window of the newest cases (``search_plan``); parameters
    ``window`` and ``bit0`` … ``bit{bits - 1}`` besides the page's. Without filters on the
    case's own columns, the window is read from ``case_signature``'s index, testing those
    bits there; with them, from the case table."""
    limit = bindparam("limit", type_=Integer)

    def visible(rows: Any) -> Any:
        return access.visible_to(shape.scope, rows)

    if _signed(shape):
        sig = case_signature
        return search_plan.signed_window(
            _SUMMARY_COLUMNS,
            base=case,
            signatures=sig,
            after=_after(sig.c.updated_at, sig.c.case_id, ascending=False)
            if shape.cursor
            else None,
            bits=bits,
            in_scope=lambda rows: access.in_subtree(shape.scope, rows),
            matches=_matches,
            visible=lambda rows: access.accusation_allowed(shape.scope, rows),
            limit=limit,
        )
    conds, order = _conditions(shape)
    return search_plan.windowed(
        _SUMMARY_COLUMNS,
        base=case,
        filters=conds,
        matches=_matches,
        visible=visible,
        order=order,
        limit=limit,
    )


@lru_cache(maxsize=256)
def _page_statement(shape: _Shape) -> Any:
    """The page's one SELECT, within the caller's scope (``access.visible_to``)."""
    conds, order = _conditions(shape)
    conds.append(access.visible_to(shape.scope))
    if shape.search:
        conds.append(_matches(case))
    if shape.queue == "unit":
        # the unit leads the case or helps with it: two ordered, limited scans (an index on
        # (lead_unit_id, updated_at) and the GIN index on co_unit_ids), merged — an OR of
        # the two would make PostgreSQL fetch and sort every case of the unit
        sides = [
            case.c.lead_unit_id == bindparam("unit", type_=Text),
            case.c.co_unit_ids.contains(bindparam("unit_array", type_=ARRAY(Text))),
        ]
        pages = [
            select(case.c.case_id)
            .where(side, *conds)
            .order_by(*order)
            .limit(bindparam("limit", type_=Integer))
            for side in sides
        ]
        merged = union_all(*(p.subquery().select() for p in pages)).subquery()
        conds = [case.c.case_id.in_(select(merged.c.case_id))]
    return (
        select(*_SUMMARY_COLUMNS)
        .where(*conds)
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer))
    )


def _page_of(rows: Any, limit: int, by_due: bool) -> CasePage:
    items = [summary(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last_row = rows[limit - 1]
        mark = last_row["due_at"] if by_due else last_row["updated_at"]
        next_cursor = _encode([mark.isoformat(), str(last_row["case_id"])])
    return CasePage(items=items, next_cursor=next_cursor)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _history(r: Any) -> HistoryItem:
    return HistoryItem(
        at=r["occurred_at"],
        action=r["action"],
        actor=r["actor"],
        from_status=r["from_status"],
        to_status=r["to_status"],
        reason=r["reason"],
        details=r["details"],
    )


def acts_for(principal: Principal, row: dict[str, Any]) -> list[str]:
    """The acts the caller's roles allow in the case's state (unit checks apply on acting)."""
    roles = acts.effective_roles(principal, row)
    return [
        name
        for name in workflow.allowed_acts(row["status"])
        if not roles.isdisjoint(workflow.ACTS[name].roles)
    ]


def petitioner(row: dict[str, Any], principal: Principal, ring: KeyRing) -> Petitioner | None:
    """The petitioner's name and phone, masked unless the caller's role needs them; never the
    query code that travels in the same sealed envelope."""
    if row["anonymous"] or not row["pii"]:
        return None
    data = open_pii(ring, row["pii"])
    name, phone = data.get("name"), data.get("phone")
    if principal.can_unmask():
        return Petitioner(name=name, phone=phone, masked=False)
    return Petitioner(
        name=mask_name(name) if name else None,
        phone=mask_phone(phone) if phone else None,
        masked=True,
    )


async def detail(
    db: AsyncConnection, principal: Principal, case_id: str, org: OrgDirectory, ring: KeyRing
) -> CaseDetail:
    row = await access.load(db, principal, case_id)
    clocks = (
        await db.execute(
            select(case_clock)
            .where(case_clock.c.case_id == row["case_id"])
            .order_by(case_clock.c.id)
        )
    ).mappings()
    history = (
        (
            await db.execute(
                select(case_history)
                .where(case_history.c.case_id == row["case_id"])
                .order_by(case_history.c.id)
            )
        )
        .mappings()
        .all()
    )
    prior = []
    ids = [i for i in row["prior_case_ids"] if _is_uuid(i)]
    if ids:
        found = await db.execute(
            select(case.c.case_id, case.c.tracking_no, case.c.status).where(
                case.c.case_id.in_([uuid.UUID(i) for i in ids]), access.visible(principal)
            )
        )
        prior = [
            PriorCase(
                case_id=str(p.case_id),
                tracking_no=p.tracking_no,
                status=p.status,
                final=p.status == workflow.REEXAMINED,
            )
            for p in found
        ]
    supervisions = await oversight.current(db, row["case_id"])
    leader = row["leader"]
    base = summary(row).model_dump()
    return CaseDetail(
        **base,
        content=row["content"],
        petitioner=petitioner(row, principal, ring),
        people_count=row["people_count"],
        collective=row["collective"],
        anonymous=row["anonymous"],
        handling_path=row["handling_path"],
        major=row["major"],
        office_unit_id=row["office_unit_id"],
        co_unit_ids=list(row["co_unit_ids"]),
        review_unit_id=row["review_unit_id"],
        contact_attempts=row["contact_attempts"],
        contacted=row["contacted"],
        transfers=row["transfers"],
        evaluation=row["evaluation"],
        route_suggestion=row["route_suggestion"],
        allowed_acts=acts_for(principal, row),
        prior_cases=prior,
        clocks=[
            ClockView(
                kind=c["kind"],
                started_at=c["started_at"],
                due_at=c["due_at"],
                provisional=c["provisional"],
                extended_days=c["extended_days"],
                paused=c["paused_at"] is not None,
                stopped_at=c["stopped_at"],
                missed=c["missed_at"] is not None,
            )
            for c in clocks
        ],
        supervisions=[SupervisionView(**{**s, "id": str(s["id"])}) for s in supervisions],
        leader=LeaderView.model_validate(leader) if leader else None,
        timeline=[_history(h) for h in history if h["public"]],
        internal=[_history(h) for h in history if not h["public"]],
    )


async def handover(
    db: AsyncConnection,
    principal: Principal,
    *,
    from_staff: uuid.UUID,
    to_staff: uuid.UUID,
    reason: str,
    now: datetime,
) -> int:
    """Hand every open case of a departing handler to another (recorded per case)."""
    moved = (
        (
            await db.execute(
                case.update()
                .where(
                    case.c.handler_id == from_staff,
                    case.c.status.in_(_OPEN),
                    access.visible(principal),
                )
                .values(handler_id=to_staff, updated_at=now)
                .returning(case.c.case_id)
            )
        )
        .scalars()
        .all()
    )
    if moved:
        await db.execute(
            text(
                "INSERT INTO casework.case_history (case_id, occurred_at, action, actor, "
                "actor_unit_id, reason, details) SELECT c, :now, 'handover', :a, :u, :r, "
                "CAST(:d AS jsonb) FROM unnest(CAST(:ids AS uuid[])) AS c"
            ),
            {
                "now": now,
                "a": principal.subject,
                "u": principal.org_unit_id,
                "r": reason,
                "d": orjson.dumps({"from": str(from_staff), "to": str(to_staff)}).decode(),
                "ids": list(moved),
            },
        )
    return len(moved)


__all__ = ["QUEUES", "detail", "handover", "page"]
