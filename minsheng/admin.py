"""``minsheng admin``: org units and staff, against the same database as the running system."""

from __future__ import annotations

import argparse
import getpass

from shared.api.errors import ApiError
from shared.db import Database
from shared.identity import service as identity
from shared.identity.principal import Principal
from shared.settings import Settings


async def dispatch(settings: Settings, args: argparse.Namespace) -> int:
    if args.admin_command == "holidays":
        from services.casework.deadline.cli import admin_holidays

        return await admin_holidays(settings, args)
    db = Database(settings, pool_size=1)
    try:
        async with db.transaction("identity") as conn:
            if args.admin_command == "create-org":
                unit = await identity.create_org_unit(
                    conn,
                    id=args.id,
                    name=args.name,
                    kind=args.kind,
                    parent_id=args.parent,
                    region_codes=[c for c in args.regions.split(",") if c],
                    duties=[c for c in args.duties.split(",") if c],
                )
                print(f"created org unit {unit.id} {unit.name} ({unit.path})")
            elif args.admin_command == "create-staff":
                password = args.password or getpass.getpass("password: ")
                staff = await identity.create_staff(
                    conn,
                    username=args.username,
                    display_name=args.name,
                    org_unit_id=args.org,
                    roles=[r for r in args.roles.split(",") if r],
                    password=password,
                )
                print(
                    f"created staff {staff.username} ({', '.join(staff.roles)}) "
                    f"in {staff.org_unit_id}"
                )
            elif args.admin_command == "list-staff":
                root = Principal(
                    kind="staff",
                    subject="cli",
                    roles=frozenset({"admin"}),
                    org_unit_id=None,
                    org_path="/",
                    region_codes=(),
                    session_id=None,
                )
                for s in await identity.list_staff(conn, principal=root, limit=10_000):
                    print(
                        f"{s.username:<22} {','.join(s.roles):<34} {s.org_unit_id}"
                        f"{'' if s.active else '  (inactive)'}"
                    )
    except ApiError as exc:
        for item in exc.items:
            print(f"error: {item.field or ''} {item.code}: {item.message}")
        return 2
    finally:
        await db.dispose()
    return 0
