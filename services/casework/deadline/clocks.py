"""The running clocks of cases (``casework.case_clock``) and what happens to them.

A clock is started with the rule its policy layers choose (``policy``) and the due time the
engine counts (``engine``) on the database calendar (``calendar``). It is never silently
changed: an extension (延期), a pause (a hearing, 听证) and its resume, and a recomputation
after a year's holidays were loaded each append a ``casework.clock_event`` row with who,
when, why and the due time before and after; ``case_clock`` keeps only the current state.

The due time is always ``engine.due(started_at, days + extended_days + paused_days)``
(hour clocks: ``hours + 24 × extended_days``), so it can be recounted at any time from the
recorded events; ``paused_days`` is the sum of the ``resume`` events' days. A paused day
clock gets back its paused time rounded up to whole days, in its own unit (a working-day
clock gets as many working days). Hour clocks run continuously and cannot be paused.

The extension limit is the statute's (条例第34条): at most 30 days in all per clock. The
approval by the body's head and telling the petitioner (延期告知书, ``CaseExtendedV1``) are
the workflow's part; this module records the extension with its reason and actor.

``start_clock`` and ``stop_clock`` leave ``case.due_at`` to the caller (who starts many
clocks at once and refreshes once, :func:`refresh_case_due`); ``extend``, ``pause``,
``resume`` and ``recompute_year`` refresh it themselves. Nothing here commits.
"""

from __future__ import annotations

import math
import uuid
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Transaction
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.deadline import engine, policy
from services.casework.deadline.calendar import WorkCalendar, load_calendar
from shared.api.errors import ApiError
from shared.clock import Clock, system_clock

MAX_EXTENSION_DAYS = 30  # 条例第34条: 延长期限不得超过三十日

_COLUMNS = (
    "id, case_id, kind, started_at, days, hours, working_days, policy, due_at, provisional, "
    "extended_days, paused_at, stopped_at, warned_at, missed_at"
)


@dataclass(frozen=True)
class ClockRow:
    """A ``casework.case_clock`` row."""

    id: int
    case_id: uuid.UUID
    kind: str
    started_at: datetime
    days: int | None
    hours: int | None
    working_days: bool
    policy: str
    due_at: datetime
    provisional: bool
    extended_days: int
    paused_at: datetime | None
    stopped_at: datetime | None
    warned_at: datetime | None
    missed_at: datetime | None


@dataclass(frozen=True)
class Stopped:
    """A clock that was stopped: its due time and whether it was met."""

    kind: str
    due_at: datetime
    met: bool


@dataclass(frozen=True)
class _Rules:
    calendar: WorkCalendar
    policies: list[policy.PolicyRow]


# The calendar and policy rows are read once per transaction: a batch that starts hundreds
# of clocks reads them once. The entry is checked against the connection's current
# transaction, so a later transaction on the same connection reads afresh.
_per_transaction: weakref.WeakKeyDictionary[AsyncConnection, tuple[Transaction | None, _Rules]] = (
    weakref.WeakKeyDictionary()
)


async def _rules(db: AsyncConnection) -> _Rules:
    tx = db.sync_connection.get_transaction() if db.sync_connection is not None else None
    cached = _per_transaction.get(db)
    if cached is not None and tx is not None and cached[0] is tx:
        return cached[1]
    rules = _Rules(await load_calendar(db), await policy.load_policies(db))
    _per_transaction[db] = (tx, rules)
    return rules


def forget(db: AsyncConnection) -> None:
    """Drop what was read in ``db``'s transaction (after holidays or policies changed)."""
    _per_transaction.pop(db, None)


async def calendar_for(db: AsyncConnection) -> WorkCalendar:
    """The database calendar, read once per transaction."""
    return (await _rules(db)).calendar


def _err(status: int, code: str, zh: str, en: str, field: str | None = None) -> ApiError:
    return ApiError(status, code, zh, en, field)


def recount(row: ClockRow, *, paused_days: int, calendar: WorkCalendar) -> engine.Due:
    """The due time of ``row`` from its start, its extensions and its resumed pauses."""
    if row.hours is not None:
        return engine.due(
            row.started_at, hours=row.hours + 24 * row.extended_days, calendar=calendar
        )
    assert row.days is not None
    return engine.due(
        row.started_at,
        days=row.days + row.extended_days + paused_days,
        working_days=row.working_days,
        calendar=calendar,
    )


async def start_clock(
    db: AsyncConnection,
    *,
    case_id: uuid.UUID,
    kind: str,
    started_at: datetime,
    context: Mapping[str, Any],
    clock: Clock = system_clock,
    calendar: WorkCalendar | None = None,
) -> ClockRow:
    """Start clock ``kind`` of a case at ``started_at`` with the rule its policy layers choose
    for ``context`` (``region_code``, ``source``, ``case_type``, ``urgency``, optionally
    ``complex``). When ``kind`` is already running for the case, that clock is returned
    unchanged (a redelivered event starts nothing twice). ``clock`` is the time source of the
    other calls; the start is ``started_at``. 422 ``unknown_clock`` for an unknown kind."""
    del clock  # the start is given; kept so every call here takes the same arguments
    if kind not in policy.STATUTORY:
        raise _err(422, "unknown_clock", "未知的期限类型", f"unknown clock {kind!r}", "kind")
    rules = await _rules(db)
    rule = policy.choose(kind, context, rules.policies)
    counted = engine.due(
        started_at,
        days=rule.days,
        hours=rule.hours,
        working_days=rule.working_days,
        calendar=calendar or rules.calendar,
    )
    row = (
        await db.execute(
            text(
                f"""
                INSERT INTO casework.case_clock
                    (case_id, kind, started_at, days, hours, working_days, policy, due_at,
                     provisional)
                VALUES (:case_id, :kind, :started_at, :days, :hours, :working_days, :policy,
                        :due_at, :provisional)
                ON CONFLICT (case_id, kind) WHERE stopped_at IS NULL DO NOTHING
                RETURNING {_COLUMNS}
                """  # noqa: S608 - column names are ours
            ),
            {
                "case_id": case_id,
                "kind": kind,
                "started_at": started_at,
                "days": rule.days,
                "hours": rule.hours,
                "working_days": rule.working_days,
                "policy": rule.label,
                "due_at": counted.due_at,
                "provisional": counted.provisional,
            },
        )
    ).one_or_none()
    if row is None:
        running = await running_clock(db, case_id, kind)
        assert running is not None
        return running
    return ClockRow(**row._mapping)


async def running_clock(
    db: AsyncConnection, case_id: uuid.UUID, kind: str, *, lock: bool = False
) -> ClockRow | None:
    """The running (not stopped) clock ``kind`` of a case, locked for update when asked."""
    row = (
        await db.execute(
            text(
                f"SELECT {_COLUMNS} FROM casework.case_clock "  # noqa: S608 - ours
                "WHERE case_id = :c AND kind = :k AND stopped_at IS NULL"
                + (" FOR UPDATE" if lock else "")
            ),
            {"c": case_id, "k": kind},
        )
    ).one_or_none()
    return None if row is None else ClockRow(**row._mapping)


async def stop_clock(
    db: AsyncConnection, case_id: uuid.UUID, kind: str, at: datetime
) -> Stopped | None:
    """Stop the running clock ``kind`` at ``at`` (met, or no longer needed); None when none
    was running. ``met`` compares with the due time; a clock stopped while paused was met when
    it was paused before its due time."""
    row = (
        await db.execute(
            text(
                "UPDATE casework.case_clock SET stopped_at = :at "
                "WHERE case_id = :c AND kind = :k AND stopped_at IS NULL "
                "RETURNING due_at, paused_at"
            ),
            {"at": at, "c": case_id, "k": kind},
        )
    ).one_or_none()
    if row is None:
        return None
    effective = row.paused_at if row.paused_at is not None and row.paused_at < at else at
    return Stopped(kind=kind, due_at=row.due_at, met=effective <= row.due_at)


async def _paused_days(db: AsyncConnection, clock_id: int) -> int:
    n = await db.scalar(
        text(
            "SELECT coalesce(sum(days), 0) FROM casework.clock_event "
            "WHERE clock_id = :id AND kind = 'resume'"
        ),
        {"id": clock_id},
    )
    return int(n or 0)


async def _record(
    db: AsyncConnection,
    row: ClockRow,
    *,
    kind: str,
    at: datetime,
    actor: str,
    reason: str,
    days: int | None,
    due_before: datetime,
    due_after: datetime,
) -> None:
    await db.execute(
        text(
            "INSERT INTO casework.clock_event (clock_id, case_id, kind, occurred_at, actor, "
            "reason, days, due_before, due_after) VALUES (:clock_id, :case_id, :kind, :at, "
            ":actor, :reason, :days, :before, :after)"
        ),
        {
            "clock_id": row.id,
            "case_id": row.case_id,
            "kind": kind,
            "at": at,
            "actor": actor,
            "reason": reason,
            "days": days,
            "before": due_before,
            "after": due_after,
        },
    )


async def _running_or_409(db: AsyncConnection, case_id: uuid.UUID, kind: str) -> ClockRow:
    row = await running_clock(db, case_id, kind, lock=True)
    if row is None:
        raise _err(409, "clock_not_running", "该期限未在计时", f"no running {kind} clock", "kind")
    return row


def _need_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise _err(422, "reason_required", "须说明理由", "a reason is required", "reason")
    return reason


def check_extension_total(already: int, days: int, *, pending: int = 0) -> None:
    """422 ``extension_too_long`` when ``days`` more would take a clock's extensions — the
    ``already`` granted plus the ``pending`` approval — past 30 days in all (Art. 34)."""
    if already + pending + days > MAX_EXTENSION_DAYS:
        zh_pending = f"，待审批{pending}日" if pending else ""
        en_pending = f", {pending} awaiting approval" if pending else ""
        raise _err(
            422,
            "extension_too_long",
            f"延长期限累计不得超过30日（已延长{already}日{zh_pending}）",
            f"extensions total 30 days at most ({already} already{en_pending})",
            "days",
        )


async def extend(
    db: AsyncConnection,
    *,
    case_id: uuid.UUID,
    kind: str,
    days: int,
    reason: str,
    actor: str,
    clock: Clock = system_clock,
) -> datetime:
    """Extend the running clock ``kind`` by ``days`` (延期): the clock is recounted from its
    start with the extra days (see ``engine``), an ``extend`` event records the reason, the
    actor and the due time before and after. Returns the new due time.

    422 ``extension_too_short`` (days < 1), ``extension_too_long`` (more than 30 days in all
    for the clock), ``reason_required``; 409 ``clock_not_running``."""
    if days < 1:
        raise _err(
            422, "extension_too_short", "延期天数至少为1日", "extend by 1 day or more", "days"
        )
    if days > MAX_EXTENSION_DAYS:
        raise _err(
            422, "extension_too_long", "延长期限不得超过30日", "extensions total 30 days at most",
            "days",
        )  # fmt: skip
    why = _need_reason(reason)
    row = await _running_or_409(db, case_id, kind)
    check_extension_total(row.extended_days, days)
    calendar = await calendar_for(db)
    extended = replace(row, extended_days=row.extended_days + days)
    counted = recount(extended, paused_days=await _paused_days(db, row.id), calendar=calendar)
    await db.execute(
        text(
            "UPDATE casework.case_clock SET extended_days = :ext, due_at = :due, "
            "provisional = :prov WHERE id = :id"
        ),
        {
            "ext": extended.extended_days,
            "due": counted.due_at,
            "prov": counted.provisional,
            "id": row.id,
        },
    )
    await _record(
        db, row, kind="extend", at=clock.now(), actor=actor, reason=why, days=days,
        due_before=row.due_at, due_after=counted.due_at,
    )  # fmt: skip
    await refresh_case_due(db, [case_id])
    return counted.due_at


async def pause(
    db: AsyncConnection,
    *,
    case_id: uuid.UUID,
    kind: str,
    reason: str,
    actor: str,
    clock: Clock = system_clock,
) -> None:
    """Pause the running day clock ``kind`` (a hearing, 听证时间不计入): it stops counting
    until :func:`resume`. 409 ``clock_not_running``, ``clock_already_paused``,
    ``clock_not_pausable`` (hour clocks); 422 ``reason_required``."""
    why = _need_reason(reason)
    row = await _running_or_409(db, case_id, kind)
    if row.hours is not None:
        raise _err(
            409, "clock_not_pausable", "按小时计的期限不能中止", "hour clocks cannot be paused"
        )
    if row.paused_at is not None:
        raise _err(409, "clock_already_paused", "该期限已中止计时", "the clock is already paused")
    now = clock.now()
    await db.execute(
        text("UPDATE casework.case_clock SET paused_at = :at WHERE id = :id"),
        {"at": now, "id": row.id},
    )
    await _record(
        db, row, kind="pause", at=now, actor=actor, reason=why, days=None,
        due_before=row.due_at, due_after=row.due_at,
    )  # fmt: skip
    await refresh_case_due(db, [case_id])


def paused_whole_days(paused_at: datetime, resumed_at: datetime) -> int:
    """The paused time rounded up to whole days (a part of a day counts as a day)."""
    seconds = (resumed_at - paused_at).total_seconds()
    return max(0, math.ceil(seconds / timedelta(days=1).total_seconds()))


async def resume(
    db: AsyncConnection,
    *,
    case_id: uuid.UUID,
    kind: str,
    reason: str,
    actor: str,
    clock: Clock = system_clock,
) -> datetime:
    """Resume a paused clock: the paused whole days are added back and the clock recounted;
    a ``resume`` event records them with the due time before and after. Returns the new due
    time. 409 ``clock_not_running``, ``clock_not_paused``; 422 ``reason_required``."""
    why = _need_reason(reason)
    row = await _running_or_409(db, case_id, kind)
    if row.paused_at is None:
        raise _err(409, "clock_not_paused", "该期限未中止计时", "the clock is not paused")
    now = clock.now()
    paused = paused_whole_days(row.paused_at, now)
    counted = recount(
        row,
        paused_days=await _paused_days(db, row.id) + paused,
        calendar=await calendar_for(db),
    )
    await db.execute(
        text(
            "UPDATE casework.case_clock SET paused_at = NULL, due_at = :due, "
            "provisional = :prov WHERE id = :id"
        ),
        {"due": counted.due_at, "prov": counted.provisional, "id": row.id},
    )
    await _record(
        db, row, kind="resume", at=now, actor=actor, reason=why, days=paused,
        due_before=row.due_at, due_after=counted.due_at,
    )  # fmt: skip
    await refresh_case_due(db, [case_id])
    return counted.due_at


async def refresh_case_due(db: AsyncConnection, case_ids: Sequence[uuid.UUID]) -> None:
    """Set ``casework.case.due_at`` of these cases to their earliest running (not stopped,
    not paused) clock's due time, or NULL when none runs."""
    if not case_ids:
        return
    await db.execute(
        text(
            """
            UPDATE casework."case" c SET due_at = (
                SELECT min(k.due_at) FROM casework.case_clock k
                WHERE k.case_id = c.case_id AND k.stopped_at IS NULL AND k.paused_at IS NULL
            )
            WHERE c.case_id = ANY(CAST(:ids AS uuid[]))
            """
        ),
        {"ids": list(case_ids)},
    )


async def window_end(
    db: AsyncConnection, *, since: datetime, days: int, working_days: bool = False
) -> datetime:
    """The end of a window of ``days`` from ``since`` (e.g. 30 days to ask for 复查), counted
    like a clock on the database calendar."""
    return engine.due(
        since, days=days, working_days=working_days, calendar=await calendar_for(db)
    ).due_at


async def recompute_year(
    db: AsyncConnection,
    year: int,
    *,
    clock: Clock = system_clock,
    actor: str = "system",
    note: str = "",
) -> int:
    """Recount every running day clock whose span (start to due, Asia/Shanghai) touches
    ``year`` on the database calendar as it is now, after ``year``'s holidays were loaded.
    Provisional clocks become final when no unknown year is left in their count; clocks of a
    year already known change only when the new rows say something else. A clock whose due
    time or provisional flag changed gets a ``recompute`` event. Stopped clocks are history
    and stay as they were. Returns the number of clocks changed."""
    forget(db)
    return await _recount_where(
        db,
        "extract(year FROM k.started_at AT TIME ZONE 'Asia/Shanghai') <= :y "
        "AND extract(year FROM k.due_at AT TIME ZONE 'Asia/Shanghai') >= :y",
        {"y": year},
        lock="FOR UPDATE OF k",
        clock=clock,
        actor=actor,
        reason=f"holidays of {year} loaded" + (f" ({note})" if note else ""),
    )


async def recompute_provisional(db: AsyncConnection, *, clock: Clock = system_clock) -> int:
    """Recount the running provisional clocks on the calendar as it is now. A backstop for
    :func:`recompute_year`: a clock started in a transaction that read the calendar just
    before a year was loaded, and committed just after, is caught by the next run (the
    sweep job calls this). Clocks locked by others are left for the next run."""
    return await _recount_where(
        db,
        "k.provisional",
        {},
        lock="FOR UPDATE OF k SKIP LOCKED",
        clock=clock,
        actor="system",
        reason="provisional clock recounted on the current calendar",
    )


async def _recount_where(
    db: AsyncConnection,
    where: str,
    params: dict[str, Any],
    *,
    lock: str,
    clock: Clock,
    actor: str,
    reason: str,
) -> int:
    calendar = await calendar_for(db)
    rows = (
        await db.execute(
            text(
                f"""
                SELECT {", ".join("k." + c.strip() for c in _COLUMNS.split(","))},
                       coalesce((SELECT sum(e.days) FROM casework.clock_event e
                                 WHERE e.clock_id = k.id AND e.kind = 'resume'), 0) AS paused
                FROM casework.case_clock k
                WHERE k.stopped_at IS NULL AND k.days IS NOT NULL AND {where}
                ORDER BY k.id
                {lock}
                """  # noqa: S608 - fragments are ours
            ),
            params,
        )
    ).all()
    changed: list[tuple[ClockRow, engine.Due]] = []
    for r in rows:
        values = dict(r._mapping)
        paused = int(values.pop("paused"))
        row = ClockRow(**values)
        counted = recount(row, paused_days=paused, calendar=calendar)
        if counted.due_at != row.due_at or counted.provisional != row.provisional:
            changed.append((row, counted))
    if not changed:
        return 0
    now = clock.now()
    await db.execute(
        text(
            """
            WITH input AS (
                SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:dues AS timestamptz[]),
                                     CAST(:provs AS boolean[])) AS t(id, due_at, provisional)
            ), upd AS (
                UPDATE casework.case_clock k SET due_at = input.due_at,
                       provisional = input.provisional
                FROM input WHERE k.id = input.id
                RETURNING k.id
            )
            INSERT INTO casework.clock_event
                (clock_id, case_id, kind, occurred_at, actor, reason, due_before, due_after)
            SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:cases AS uuid[]),
                                 CAST(:kinds AS text[]), CAST(:ats AS timestamptz[]),
                                 CAST(:actors AS text[]), CAST(:reasons AS text[]),
                                 CAST(:befores AS timestamptz[]), CAST(:dues AS timestamptz[]))
            """
        ),
        {
            "ids": [r.id for r, _ in changed],
            "dues": [d.due_at for _, d in changed],
            "provs": [d.provisional for _, d in changed],
            "cases": [r.case_id for r, _ in changed],
            "kinds": ["recompute"] * len(changed),
            "ats": [now] * len(changed),
            "actors": [actor] * len(changed),
            "reasons": [
                reason + ("; provisional cleared" if r.provisional and not d.provisional else "")
                for r, d in changed
            ],
            "befores": [r.due_at for r, _ in changed],
        },
    )
    await refresh_case_due(db, sorted({r.case_id for r, _ in changed}))
    return len(changed)
