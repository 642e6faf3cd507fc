"""Demo data for the embedded run: the demo org tree and staff (credentials printed), and
petitions from the project's own generator, taken in through intake's own service so they
flow through the real bus like any other petition. Letters and visits are registered by a
demo registrar of a district's or the city's desk (``shared.demo.staff.demo_desk``), with the
desk's level, as the registrar API records them. Loads once; a second run reuses the data
(and adds demo accounts added since)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from tqdm import tqdm

from services.intake.models import petition
from services.intake.petition import service as petition_service
from services.intake.petition.normalized import (
    Channel,
    NormalizedPetition,
    QualityFlag,
    Source,
    Urgency,
    clean_person,
)
from services.intake.registrar.service import DESK_SOURCES, desk_level
from shared.clock import system_clock
from shared.db import Database
from shared.demo.generator import DemoGenerator
from shared.demo.staff import demo_desk, demo_org, demo_staff
from shared.identity import service as identity
from shared.identity.models import org_unit
from shared.identity.models import staff as staff_table
from shared.reference.regions import RegionLevel
from shared.security import keys_for
from shared.settings import Settings

DEMO_PASSWORD = "Minsheng-demo-2026"  # noqa: S105 - printed for the embedded demo only
DEMO_SEED = 2026
# the generator's source names -> ours
DEMO_SOURCES = {"province": Source.PROVINCE_TRANSFER, "npc_cppcc": Source.NPC_SUGGESTION}


async def load_demo(settings: Settings, *, count: int, force: bool = False) -> int:
    if settings.env == "prod":
        print("demo data is not loaded when MINSHENG_ENV=prod")
        return 2
    db = Database(settings, pool_size=4)
    try:
        await _org_and_staff(db)
        await _petitions(db, settings, count=count, force=force)
        from minsheng.demo_oversight import load_oversight

        await load_oversight(db, settings)
    finally:
        await db.dispose()
    return 0


async def _org_and_staff(db: Database) -> None:
    staff = demo_staff()
    async with db.transaction("identity") as conn:
        have = await identity.get_org_unit(conn, unit_id=demo_org()[0]["code"])
        if have is None:
            pending = list(demo_org())
            done: set[str] = set()
            while pending:  # parents first
                unit = next(
                    u for u in pending if u["parent_code"] is None or u["parent_code"] in done
                )
                await identity.create_org_unit(
                    conn,
                    id=unit["code"],
                    name=unit["name"],
                    kind=unit["kind"],
                    parent_id=unit["parent_code"],
                    region_codes=unit["region_codes"],
                    duties=unit["duties"],
                )
                done.add(unit["code"])
                pending.remove(unit)
        have_users = set(await conn.scalars(select(staff_table.c.username)))
        for s in staff:
            if s["username"] not in have_users:
                await identity.create_staff(
                    conn,
                    username=s["username"],
                    display_name=s["display_name"],
                    org_unit_id=s["unit_code"],
                    roles=s["roles"],
                    password=DEMO_PASSWORD,
                )
    names = {u["code"]: u["name"] for u in demo_org()}
    print(
        f"\nDemo staff (password for all: {DEMO_PASSWORD}) — sign in with "
        'POST /api/v1/auth/login {"username", "password"}:'
    )
    for s in staff:
        print(f"  {s['username']:<22} {','.join(s['roles']):<34} {names.get(s['unit_code'], '')}")


async def _petitions(db: Database, settings: Settings, *, count: int, force: bool) -> None:
    async with db.transaction("intake") as conn:
        existing = await conn.scalar(select(func.count()).select_from(petition))
    if existing and not force:
        print(f"\n{existing} petitions already present; demo petitions not loaded again.")
        return
    gen = DemoGenerator(DEMO_SEED + (existing or 0))
    keys = keys_for(settings)
    async with db.transaction("identity") as conn:
        desks = await _registrars(conn)
    at_desk = 0  # the letters and visits so far: who registers the next (demo_desk)
    now = system_clock.now()
    window = (now - timedelta(days=60), now)
    for _ in tqdm(range(count), desc="demo petitions", unit="petition"):
        p = gen.petition(received_between=window)
        flags: list[QualityFlag] = []
        people = []
        if p["petitioner"] is not None:
            who = p["petitioner"]
            people.append(
                clean_person(
                    name=who["name"],
                    phone=who["phone"],
                    id_number=who["id_number"],
                    address=p["address"],
                    path="petitioners[0]",
                    flags=flags,
                )
            )
        source = DEMO_SOURCES.get(p["source"]) or Source(p["source"])
        registered_by: str | None = None
        received_level: RegionLevel | None = None
        if source.value in DESK_SOURCES:
            registered_by, received_level = desks[demo_desk(p["region_code"], at_desk)]
            at_desk += 1
        normalized = NormalizedPetition(
            source=source,
            channel=Channel(p["channel"]),
            petitioners=people,
            people_count=p["people_count"],
            title=p["title"][:200],
            content=p["content"],
            source_category=p["category_name"],
            category_code=p["category_code"],
            region_code=p["region_code"],
            address=p["address"],
            urgency=Urgency(p["urgency"]),
            received_at=datetime.fromisoformat(p["received_at"]),
            anonymous=p["anonymous"],
            accusation=p["accusation"],
            quality_flags=flags,
            registered_by=registered_by,
            received_level=received_level,
        )
        async with db.transaction("intake") as conn:
            await petition_service.take_in(conn, petition=normalized, keys=keys, clock=system_clock)
    print(f"{count} demo petitions taken in; the workers register them and send the receipts.")


async def _registrars(conn: AsyncConnection) -> dict[str, tuple[str, RegionLevel | None]]:
    """Each account's id and the level of its unit's desk, by username: what the registrar API
    records as ``registered_by`` and ``received_level``."""
    rows = await conn.execute(
        select(staff_table.c.username, staff_table.c.id, org_unit.c.region_codes).join(
            org_unit, org_unit.c.id == staff_table.c.org_unit_id
        )
    )
    return {r.username: (str(r.id), desk_level(r.region_codes or ())) for r in rows}
