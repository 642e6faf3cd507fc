"""A small org world for casework tests, in a county code no other test uses: a city
government above a district government, its petition office, two departments, its
discipline unit, and staff with tokens; cases registered through casework's own handler."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from services.casework.app import create_app
from services.casework.case import service as case_service
from services.casework.org import directory
from shared.clock import Clock, FixedClock, system_clock
from shared.crypto import seal_pii
from shared.db import Database
from shared.events.intake import PetitionReceivedV1
from shared.identity import service as identity
from shared.security import keys_for
from shared.settings import Settings

PASSWORD = "correct-horse-1"
BASE = "/api/v1/casework"
HOUSING_CATEGORY = "C01.01.02"  # 物业收费与公共收益 (duty: housing)

STAFF = {
    "officer": ("office", ["petition_officer"]),
    "office_lead": ("office", ["unit_lead"]),
    "registrar": ("office", ["registrar"]),
    "housing": ("housing", ["handler"]),
    "housing_lead": ("housing", ["unit_lead"]),
    "hrss": ("hrss", ["handler"]),
    "discipline": ("discipline", ["discipline_inspector"]),
    "gov_leader": ("gov", ["leader"]),
    "city_leader": ("city", ["leader"]),
    "analyst": ("office", ["analyst"]),
}


@dataclass
class World:
    client: httpx.AsyncClient
    db: Database
    county: str
    units: dict[str, str]
    tokens: dict[str, dict[str, str]]
    staff_ids: dict[str, str]
    clock: Clock
    app: Any
    settings: Settings
    seq: list[int] = field(default_factory=lambda: [0])

    def h(self, who: str) -> dict[str, str]:
        return self.tokens[who]

    async def login_as(self, unit: str, role: str) -> dict[str, str]:
        """A token of a (new or existing) staff member of ``unit`` holding only ``role``."""
        who = f"{unit}:{role}"
        if who not in self.tokens:
            token, staff_id = await _staff(self.db, self.settings, self.units[unit], [role], who)
            self.tokens[who] = token
            self.staff_ids[who] = staff_id
        return self.tokens[who]

    async def register(
        self,
        *,
        accusation: bool = False,
        source: str = "citizen",
        title: str = "小区物业乱收费",
        content: str = "物业公司每月多收停车管理费，要求退还。",
        received_at: datetime | None = None,
        urgency: str = "normal",
        category_code: str | None = HOUSING_CATEGORY,
        contact: dict[str, str] | None = None,
        prior: list[str] | None = None,
    ) -> str:
        self.seq[0] += 1
        case_id = str(uuid.uuid4())
        event = PetitionReceivedV1(
            case_id=case_id,
            tracking_no=f"T{self.county}{self.seq[0]:06d}{random.randrange(10**6):06d}",
            source=source,
            channel="web",
            title=title,
            content=content,
            category_code=category_code,
            region_code=self.county,
            received_at=received_at or self.clock.now(),
            accusation=accusation,
            urgency=urgency,
            prior_case_ids=prior or [],
            pii=seal_pii(keys_for(self.settings).ring, contact) if contact else None,
        )
        org = await directory(self.db)
        async with self.db.transaction("casework") as conn:
            await case_service.register(conn, received=[event], clock=self.clock, org=org)
        return case_id

    async def act(self, who: str, case_id: str, act: str, body: dict[str, Any] | None = None
                  ) -> httpx.Response:  # fmt: skip
        return await self.client.post(
            f"{BASE}/cases/{case_id}/acts/{act}", json=body or {}, headers=self.h(who)
        )

    async def status(self, case_id: str) -> str:
        async with self.db.transaction("casework") as conn:
            return str(
                await conn.scalar(
                    text("SELECT status FROM casework.case WHERE case_id = :c"),
                    {"c": uuid.UUID(case_id)},
                )
            )

    async def events(self, case_id: str) -> list[str]:
        async with self.db.transaction("casework") as conn:
            rows = await conn.execute(
                text(
                    "SELECT type FROM casework.outbox_event WHERE aggregate_id = :c "
                    "AND type LIKE 'casework.case.%' "
                    "ORDER BY aggregate_seq"
                ),
                {"c": case_id},
            )
            return [r[0] for r in rows]

    async def history(self, case_id: str) -> list[str]:
        async with self.db.transaction("casework") as conn:
            rows = await conn.execute(
                text("SELECT action FROM casework.case_history WHERE case_id = :c ORDER BY id"),
                {"c": uuid.UUID(case_id)},
            )
            return [r[0] for r in rows]


async def _staff(
    db: Database, settings: Settings, unit_id: str, roles: list[str], who: str
) -> tuple[dict[str, str], str]:
    username = f"{who.replace(':', '.')}.{uuid.uuid4().hex[:8]}"
    async with db.transaction("identity") as conn:
        await identity.create_staff(conn, username=username, display_name=who,
                                    org_unit_id=unit_id, roles=roles,
                                    password=PASSWORD)  # fmt: skip
    async with db.transaction("identity") as conn:
        result = await identity.authenticate(conn, username=username, password=PASSWORD,
                                             totp_code=None, clock=system_clock,
                                             settings=settings)  # fmt: skip
    return {"Authorization": f"Bearer {result.access_token}"}, str(result.staff.id)


def _county() -> str:
    # 45xxyy: counties of a province no other test uses; never ending in 00
    return f"45{random.randrange(10, 99)}{random.randrange(1, 99):02d}"


@contextlib.asynccontextmanager
async def casework_world(
    settings: Settings, db: Database, *, now: datetime | None = None
) -> AsyncIterator[World]:
    county = _county()
    s = uuid.uuid4().hex[:8]
    units = {
        "city": f"CITY-{s}",
        "gov": f"GOV-{s}",
        "office": f"XFJ-{s}",
        "housing": f"ZJJ-{s}",
        "hrss": f"RSJ-{s}",
        "discipline": f"JW-{s}",
    }
    async with db.transaction("identity") as conn:
        await identity.create_org_unit(conn, id=units["city"], name="某市人民政府",
                                       kind="government", parent_id=None,
                                       region_codes=[county[:4] + "00"])  # fmt: skip
        await identity.create_org_unit(conn, id=units["gov"], name="某区人民政府",
                                       kind="government", parent_id=units["city"],
                                       region_codes=[county])  # fmt: skip
        await identity.create_org_unit(conn, id=units["office"], name="某区信访局",
                                       kind="petition_office", parent_id=units["gov"],
                                       region_codes=[county])  # fmt: skip
        await identity.create_org_unit(conn, id=units["housing"], name="某区住建局",
                                       kind="department", parent_id=units["gov"],
                                       region_codes=[county], duties=["C01"])  # fmt: skip
        await identity.create_org_unit(conn, id=units["hrss"], name="某区人社局",
                                       kind="department", parent_id=units["gov"],
                                       region_codes=[county], duties=["C02"])  # fmt: skip
        await identity.create_org_unit(conn, id=units["discipline"], name="某区纪委监委",
                                       kind="discipline", parent_id=units["gov"],
                                       region_codes=[county])  # fmt: skip
    tokens: dict[str, dict[str, str]] = {}
    staff_ids: dict[str, str] = {}
    for who, (unit, roles) in STAFF.items():
        tokens[who], staff_ids[who] = await _staff(db, settings, units[unit], roles, who)
    clock: Clock = FixedClock(now) if now else system_clock
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        app.state.clock = clock
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://casework") as client:
            yield World(client, db, county, units, tokens, staff_ids, clock, app, settings)


def days(n: float) -> timedelta:
    return timedelta(days=n)
