"""Notify and casework's internal oversight milestones, through notify's real consumer on the
real PostgreSQL: a supervision (督办) is a 督办通知 in the lead unit's staff inbox; neither it
nor a leader taking charge (领导包案) sends anything to the petitioner or to a partner."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shared.clock import SHANGHAI
from shared.db import Database
from shared.events import casework as ev
from shared.settings import Settings
from tests.integration.test_notify_returns import CO, LEAD, OFFICE, Case, bus_ctx, deliver, q

pytestmark = pytest.mark.asyncio(loop_scope="session")


_EFFECTS = {
    "alerts": "SELECT unit_id, kind, text, due_at, accusation FROM notify.staff_alert",
    "messages": "SELECT kind FROM notify.message",
    "inbox": "SELECT kind FROM notify.inbox_item",
    "callbacks": "SELECT partner FROM notify.partner_callback",
}


async def _effects(settings: Settings, case: Case) -> dict[str, list[tuple[object, ...]]]:
    """What notify made of the case so far: staff alerts, messages, inbox items, callbacks."""
    db = Database(settings, pool_size=2)
    try:
        return {
            name: [
                tuple(r)
                for r in await q(
                    db, sql + " WHERE case_id = CAST(:c AS uuid) ORDER BY 1", c=case.case_id
                )
            ]
            for name, sql in _EFFECTS.items()
        }
    finally:
        await db.dispose()


@pytest.mark.parametrize("accusation", [False, True])
async def test_a_supervision_alerts_the_lead_unit_and_tells_nobody_else(
    settings: Settings, accusation: bool
) -> None:
    case = Case(settings, accusation=accusation)
    story = case.story()
    head = story[:3]  # registered, accepted, assigned (to LEAD with CO)
    due = datetime(2026, 12, 18, 23, 59, 59, tzinfo=SHANGHAI)
    supervised = case.env(
        ev.CaseSupervisedV1(
            **case.base(None, OFFICE),
            supervision_id="3f1c2a44-0000-4000-8000-000000000001",
            supervising_unit_id=OFFICE,
            supervision_due_at=due,
            reason="群众反映强烈，请限期办结",
            notice_no="宝信督〔2026〕12号",
        )
    )
    leader = case.env(
        ev.CaseLeaderAssignedV1(
            **case.base(None, "unit-gov"),
            leader_id="leader-1",
            leader_name="王海涛",
            lead_unit_id=LEAD,
            resolve_by=due + timedelta(days=30),
            measures="每周约谈",
        )
    )
    async with bus_ctx(settings) as ctx:
        await deliver(ctx, head, start=1000 + 10 * accusation)
        before = await _effects(settings, case)
        await deliver(ctx, [supervised, leader], start=1005 + 10 * accusation)
        await deliver(ctx, [supervised], start=1007 + 10 * accusation)  # redelivered
    after = await _effects(settings, case)

    new_alerts = sorted(set(after["alerts"]) - set(before["alerts"]))
    assert len(new_alerts) == 1
    unit, kind, text, due_at, secret = new_alerts[0]
    assert (unit, kind, secret) == (LEAD, "supervised", accusation)
    assert due_at == due
    assert "宝信督〔2026〕12号" in text and case.tracking_no in text
    assert "2026年12月18日" in text and "群众反映强烈" in text
    assert CO not in [a[0] for a in new_alerts]  # the lead unit answers for the handling
    # nothing to the petitioner, nothing to the hotline or the province
    for what in ("messages", "inbox", "callbacks"):
        assert after[what] == before[what], what
