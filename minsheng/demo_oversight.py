"""Demo oversight: once the workers have registered the demo petitions, a few 宝安 cases are
taken through the workflow by the demo staff — through casework's own acts, with their
guards and events — so the reports have 督办 and 领导包案 cases to count:

* one case supervised (督办, with a 督办通知 number) and then replied to in time;
* one case supervised and still being handled;
* one case owned by the district leader (领导包案), replied to, rated by the petitioner on
  the office's callback (回访, recorded by the officer) and closed as resolved — a case
  closes only once evaluated (domain §2).

Runs once: nothing is done when the office has supervised a case already. The cast (the
office, its officer and supervisor, the leader, the units' handlers) is the demo org's by
default and can be another org's (the test runs it on its own small world).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text

from services.casework.case import acts
from services.casework.org import OrgDirectory, directory
from shared.clock import system_clock
from shared.db import Database
from shared.identity.models import org_unit, staff
from shared.identity.principal import Principal
from shared.settings import Settings


@dataclass(frozen=True)
class Cast:
    """Who does what (usernames), in which petition office."""

    office: str = "440306.petition"
    officer: str = "ba.officer1"
    supervisor: str = "ba.supervisor"
    leader: str = "ba.leader"
    # the demo handler of each 宝安 unit that has one (shared.demo.staff)
    handlers: dict[str, str] = field(
        default_factory=lambda: {
            "440306.housing": "ba.housing.handler",
            "440306.hrss": "ba.hrss.handler",
            "440306.urban_mgmt": "ba.urban.handler",
            "440306.eco_env": "ba.env.handler",
            "440306.market_reg": "ba.market.handler",
            "440306001.office": "xinan.handler",
        }
    )


WAIT_SECONDS = 90.0
REPLY = {
    "summary": "经调查核实，已督促责任单位整改并向信访人反馈。",
    "claims": [
        {
            "claim": "要求依法处理反映的问题",
            "decision": "support",
            "facts": "经现场核查，反映情况基本属实",
            "basis": "《信访工作条例》第三十二条",
        }
    ],
}


class _Demo:
    def __init__(self, db: Database, settings: Settings, org: OrgDirectory, cast: Cast) -> None:
        self.db, self.settings, self.org, self.cast = db, settings, org, cast
        self.people: dict[str, tuple[Principal, str]] = {}

    async def load_people(self) -> None:
        async with self.db.transaction("identity") as conn:
            rows = await conn.execute(
                select(
                    staff.c.id, staff.c.username, staff.c.display_name, staff.c.roles,
                    staff.c.org_unit_id, org_unit.c.path,
                ).join(org_unit, org_unit.c.id == staff.c.org_unit_id)
            )  # fmt: skip
            for r in rows:
                principal = Principal(
                    kind="staff",
                    subject=str(r.id),
                    roles=frozenset(r.roles),
                    org_unit_id=r.org_unit_id,
                    org_path=r.path,
                )
                self.people[r.username] = (principal, r.display_name)

    async def act(self, who: str, case_id: str, act: str, body: dict[str, Any]) -> None:
        principal, name = self.people[who]
        async with self.db.transaction("casework") as conn:
            await acts.perform(
                conn, principal=principal, case_id=case_id, act=act, raw=body, org=self.org,
                clock=system_clock, settings=self.settings, actor_name=name,
            )  # fmt: skip

    async def to_unit(self, case_id: str, unit_id: str) -> None:
        """Accepted by the district office, assigned to the unit, signed for by its handler."""
        officer = self.cast.officer
        await self.act(officer, case_id, "accept", {"handling_path": "claim"})
        await self.act(officer, case_id, "assign", {"mode": "assign", "lead_unit_id": unit_id})
        await self.act(self.cast.handlers[unit_id], case_id, "sign", {})

    async def reply(self, case_id: str, unit_id: str) -> None:
        handler = self.cast.handlers[unit_id]
        await self.act(handler, case_id, "contact", {"method": "phone", "reached": True})
        await self.act(handler, case_id, "reply", REPLY)


async def _candidates(
    db: Database, org: OrgDirectory, cast: Cast, want: int, wait: float
) -> list[tuple[str, str]]:
    """Registered ordinary cases of the office that a unit with a handler would handle."""
    deadline = time.monotonic() + wait
    while True:
        async with db.transaction("casework") as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT case_id::text, region_code, category_code FROM casework.case "
                        "WHERE status = 'registered' AND NOT accusation AND NOT major "
                        "AND office_unit_id = :office ORDER BY received_at, case_id LIMIT 500"
                    ),
                    {"office": cast.office},
                )
            ).all()
        found = []
        for case_id, region, category in rows:
            units = [u.id for u in org.units_for(region, category) if u.id in cast.handlers]
            if units:
                found.append((case_id, units[0]))
        if len(found) >= want or time.monotonic() > deadline:
            return found[:want]
        await asyncio.sleep(2.0)


async def load_oversight(
    db: Database, settings: Settings, *, cast: Cast | None = None, wait: float = WAIT_SECONDS
) -> bool:
    """Take three of the office's registered cases through oversight; False when it was done
    before or the cases were not registered within ``wait`` seconds."""
    cast = cast or Cast()
    async with db.transaction("casework") as conn:
        done = await conn.scalar(
            text("SELECT EXISTS (SELECT 1 FROM casework.supervision WHERE unit_id = :u)"),
            {"u": cast.office},
        )
    if done:
        return False
    org = await directory(db, fresh=True)
    cases = await _candidates(db, org, cast, 3, wait)
    if len(cases) < 3:
        print("demo oversight skipped: the demo cases were not registered in time")
        return False
    demo = _Demo(db, settings, org, cast)
    await demo.load_people()
    (on_time, unit_a), (open_case, unit_b), (owned, unit_c) = cases

    await demo.to_unit(on_time, unit_a)
    notice = {"reason": "群众反映强烈，请限期办结并报告结果", "notice_no": "宝信督〔2026〕1号"}
    await demo.act(cast.supervisor, on_time, "supervise", notice)
    await demo.reply(on_time, unit_a)

    await demo.to_unit(open_case, unit_b)
    await demo.act(cast.officer, open_case, "supervise",
                   {"reason": "办理进度滞后，请加快办理", "days": 5})  # fmt: skip
    await demo.act(cast.officer, open_case, "urge", {"reason": "督办期限将至，请抓紧办理"})

    await demo.to_unit(owned, unit_c)
    measures = "区领导牵头协调，每周听取进展；街道专人负责联系信访人"
    await demo.act(cast.leader, owned, "take_charge", {"days": 30, "measures": measures})
    await demo.reply(owned, unit_c)
    rating = {"unit_rating": "satisfied", "office_rating": "satisfied"}
    await demo.act(cast.officer, owned, "evaluate", rating)  # 回访: rated by phone
    await demo.act(cast.officer, owned, "close", {"resolved": True})
    print("demo oversight: 2 cases supervised (督办), 1 owned by a leader (领导包案)")
    return True
