"""Reports on schedule, rendered by the analytics worker's arq crons (Asia/Shanghai; times in
``services/analytics/schedule.py``): the 日快报 of each district every day at 12:05, the
周预警 of the previous seven days every Monday at 08:00, the 月研判 of the previous month on
the 1st at 08:00. Each is stored in the object store (content-addressed) and listed in
``generated_report``. Once per (kind, district, period, format): a second run of the same
period — a retry, a second worker — stores nothing (the first issued report stays issued)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text

from services.analytics.metric import service as metric
from services.analytics.report import document, render
from shared.db import Database
from shared.reference import regions
from shared.settings import Settings
from shared.storage import ObjectStore

MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


@dataclass
class StoreResult:
    stored: int  # files written
    skipped: int  # already there


def district_scope(code: str) -> metric.Scope:
    """A district's own scope: its figures, accusations in totals only (a report is read
    widely)."""
    return metric.Scope((code,), False)


async def _exists(db: Database, kind: str, region: str, start: date) -> set[str]:
    async with db.transaction("analytics") as conn:
        rows = await conn.execute(
            text(
                "SELECT format FROM analytics.generated_report "
                "WHERE kind = :k AND region_code = :r AND period_start = :s"
            ),
            {"k": kind, "r": region, "s": start},
        )
        return {r[0] for r in rows}


async def store_report(
    db: Database,
    store: ObjectStore,
    settings: Settings,
    kind: str,
    region: str,
    day: date,
    now: datetime,
) -> StoreResult:
    """Render and store report ``kind`` of district ``region`` dated ``day`` (HTML and PDF),
    unless stored already."""
    start, end = render.period_of(kind, day)
    have = await _exists(db, kind, region, start)
    if have >= set(MEDIA):
        return StoreResult(0, len(MEDIA))
    async with db.transaction("analytics") as conn:
        doc = await render.build(conn, kind, district_scope(region), settings, day)
    bodies = {
        "html": document.html(doc).encode(),
        "pdf": await asyncio.to_thread(document.pdf_bytes, doc),
    }
    stored = 0
    for fmt, body in bodies.items():
        if fmt in have:
            continue
        key, sha = await store.put(body)
        async with db.transaction("analytics") as conn:
            inserted = await conn.execute(
                text(
                    "INSERT INTO analytics.generated_report (kind, region_code, period_start, "
                    "period_end, format, created_at, sha256, storage_key, size) VALUES (:k, :r, "
                    ":s, :e, :f, :now, :sha, :key, :n) ON CONFLICT DO NOTHING RETURNING id"
                ),
                {
                    "k": kind,
                    "r": region,
                    "s": start,
                    "e": end,
                    "f": fmt,
                    "now": now,
                    "sha": sha,
                    "key": key,
                    "n": len(body),
                },
            )
            stored += inserted.first() is not None
    return StoreResult(stored, len(MEDIA) - stored)


async def store_reports(
    db: Database, store: ObjectStore, settings: Settings, kind: str, day: date, now: datetime
) -> StoreResult:
    """Report ``kind`` dated ``day`` (``render.period_of``) for every district of the
    reference, each stored once."""
    if kind not in render.KINDS:
        raise ValueError(kind)
    total = StoreResult(0, 0)
    for district in regions.districts():
        r = await store_report(db, store, settings, kind, district.code, day, now)
        total.stored += r.stored
        total.skipped += r.skipped
    return total


async def store_daily_reports(
    db: Database, store: ObjectStore, settings: Settings, day: date, now: datetime
) -> StoreResult:
    """The 日快报 of ``day`` for every district of the reference."""
    return await store_reports(db, store, settings, "daily", day, now)


async def store_weekly_reports(
    db: Database, store: ObjectStore, settings: Settings, end: date, now: datetime
) -> StoreResult:
    """The 周预警 of the seven days ending ``end`` for every district."""
    return await store_reports(db, store, settings, "weekly", end, now)


async def store_monthly_reports(
    db: Database, store: ObjectStore, settings: Settings, day: date, now: datetime
) -> StoreResult:
    """The 月研判 of the month of ``day`` for every district."""
    return await store_reports(db, store, settings, "monthly", day, now)


async def listing(
    db: Database,
    prefixes: tuple[str, ...],
    kind: str | None,
    start: date | None,
    end: date | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Stored reports of the districts within ``prefixes`` (a street-level caller sees none:
    a district's report covers more than its jurisdiction), newest first."""
    if not prefixes:
        return []
    where = ["(" + " OR ".join(f"region_code LIKE :p{i}" for i in range(len(prefixes))) + ")"]
    params: dict[str, Any] = {f"p{i}": p + "%" for i, p in enumerate(prefixes)}
    if kind:
        where.append("kind = :kind")
        params["kind"] = kind
    if start:
        where.append("period_start >= :start")
        params["start"] = start
    if end:
        where.append("period_start <= :end")
        params["end"] = end
    params["limit"] = limit
    async with db.transaction("analytics") as conn:
        rows = await conn.execute(
            text(
                "SELECT id, kind, region_code, period_start, period_end, format, created_at, "  # noqa: S608
                f"sha256, size FROM analytics.generated_report WHERE {' AND '.join(where)} "
                "ORDER BY period_start DESC, kind, region_code, format LIMIT :limit"
            ),
            params,
        )
        return [dict(r._mapping) for r in rows]


async def fetch(
    db: Database, store: ObjectStore, prefixes: tuple[str, ...], report_id: int
) -> tuple[dict[str, Any], bytes] | None:
    """A stored report's row and bytes, when its district is within ``prefixes``."""
    async with db.transaction("analytics") as conn:
        row = (
            await conn.execute(
                text("SELECT * FROM analytics.generated_report WHERE id = :id"), {"id": report_id}
            )
        ).first()
    if row is None or not any(row.region_code.startswith(p) for p in prefixes):
        return None
    return dict(row._mapping), await store.get(row.storage_key)
