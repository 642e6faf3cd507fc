"""``minsheng deliveries``: list and replay the dead-letter store of every service (events
whose handler gave up, and outbound deliveries that gave up)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from shared.db import Database
from shared.settings import SERVICES, Settings


async def list_failed(settings: Settings, *, as_json: bool = False) -> int:
    db = Database(settings, pool_size=1)
    rows: list[dict[str, Any]] = []
    try:
        for service in SERVICES:
            async with db.transaction(service) as conn:
                for r in (
                    await conn.execute(
                        text(
                            f"SELECT id, kind, ref, target, error, attempts, state, created_at "  # noqa: S608
                            f"FROM {service}.dead_letter WHERE state IN ('failed', "
                            "'replay_requested') ORDER BY id"
                        )
                    )
                ).all():
                    rows.append(
                        {
                            "id": f"{service}:{r.id}",
                            "kind": r.kind,
                            "ref": r.ref,
                            "target": r.target,
                            "error": r.error,
                            "attempts": r.attempts,
                            "state": r.state,
                            "created_at": r.created_at.isoformat(),
                        }
                    )
    finally:
        await db.dispose()
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        print("no failed events or deliveries")
    else:
        for item in rows:
            print(
                f"{item['id']:<16} {item['kind']:<9} {item['target']:<10} {item['state']:<17} "
                f"attempts={item['attempts']:<3} {item['created_at']}  {item['ref']}\n"
                f"{'':16} {item['error'][:200]}"
            )
    return 0


async def replay(settings: Settings, ids: list[str]) -> int:
    if not ids:
        print("give the ids to replay, as listed by `minsheng deliveries failed`")
        return 2
    db = Database(settings, pool_size=1)
    bad = 0
    try:
        for ident in ids:
            service, _, num = ident.partition(":")
            if service not in SERVICES or not num.isdigit():
                print(f"{ident}: not an id of the form service:number")
                bad += 1
                continue
            async with db.transaction(service) as conn:
                n = await conn.scalar(
                    text(
                        f"UPDATE {service}.dead_letter SET state = 'replay_requested' "  # noqa: S608
                        "WHERE id = :id AND state IN ('failed', 'replay_requested') RETURNING 1"
                    ),
                    {"id": int(num)},
                )
            if n:
                print(f"{ident}: replay requested (the {service} worker runs it within seconds)")
            else:
                print(f"{ident}: no such failed item")
                bad += 1
    finally:
        await db.dispose()
    return 1 if bad else 0
