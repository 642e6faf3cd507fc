"""Demo data for the embedded run: the demo org tree and staff (credentials printed), and
petitions from the project's own generator, taken in through intake's own service so they
flow through the real bus like any other petition. Loads once; a second run reuses the data."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
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
from shared.clock import system_clock
from shared.db import Database
from shared.demo.generator import DemoGenerator
from shared.demo.staff import demo_org, demo_staff
from shared.identity import service as identity
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
            for s in staff:
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
        normalized = NormalizedPetition(
            source=DEMO_SOURCES.get(p["source"]) or Source(p["source"]),
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
        )
        async with db.transaction("intake") as conn:
            await petition_service.take_in(conn, petition=normalized, keys=keys, clock=system_clock)
    print(f"{count} demo petitions taken in; the workers register them and send the receipts.")
