"""Benchmark of the analytics read model (analytics issue, point 6 and the rebuild).

1. Dashboard queries over the rollups (``metric.service.sum_counters``, the API's code path)
   at 1M and 10M cases, beside the raw PostgreSQL aggregate over the same case rows in the
   same run. The case rows are generated in SQL from skewed distributions shaped like a city's
   (a few districts and categories take most requests; channels web 40 % / phone 30 % /
   app 10 % / letter 8 % / visit 7 % / other 5 %), spread over three years; the rollups are
   seeded directly from them with one GROUP BY per dimension (allowed by the issue for 10M).
2. Rebuild rate in events/s on 100k cases: seven events per case written into the producers'
   logs and analytics' inbox, then ``rebuild`` (the CLI's code path) folds them into shadow
   tables and swaps.

Run: `.venv/bin/python benchmarks/analytics.py [--quick]` → benchmarks/results/analytics.{json,md}
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from benchmarks.common import percentile, write
from minsheng.embedded import EmbeddedPostgres
from services.analytics.metric import service
from services.analytics.metric.counters import DIMENSIONS
from shared.db import Database
from shared.reference import categories, regions
from shared.settings import Settings

CHANNELS = "ARRAY['web','web','web','web','phone','phone','phone','app','letter','visit']"
SOURCES = "ARRAY['citizen','hotline','letter','visit','province_transfer','mayor_mailbox']"

QUERIES: dict[str, tuple[str, str | None]] = {
    # name: (group, region filter)
    "city, one year, total": ("none", None),
    "city, one year, by unit": ("unit", None),
    "city, one year, by category": ("category", None),
    "one district, one year, by top category": ("category_top", "440306"),
    "city, one year, by district": ("region", None),
    "city, one year, by street": ("region:street", None),
}
# the breakdowns measured again on the full-code rollups only (as before the district rollups)
FULL_CODE = ("city, one year, by unit", "city, one year, by category")
START, END = date(2025, 1, 1), date(2025, 12, 31)


def arrays() -> tuple[str, str]:
    codes = [r.code for r in regions.all_regions() if r.level in ("street", "community")]
    cats = [c.code for c in categories.leaves()]
    return (
        "ARRAY[" + ",".join(f"'{c}'" for c in codes) + "]",
        "ARRAY[" + ",".join(f"'{c}'" for c in cats) + "]",
    )


async def generate_cases(conn: asyncpg.Connection, n: int) -> float:
    """``n`` narrow case rows in ``public.bench_case`` (skewed: random()^2 picks the first
    elements of each list more often)."""
    region, cat = arrays()
    t = time.perf_counter()
    await conn.execute("DROP TABLE IF EXISTS public.bench_case")
    await conn.execute(
        f"""
        CREATE UNLOGGED TABLE public.bench_case AS
        SELECT (DATE '2024-01-01' + (random() * 1095)::int) AS day,
               ({region})[1 + floor(random()^2 * array_length({region}, 1))::int] AS region_code,
               'U' || (1 + floor(random()^2 * 60)::int) AS unit,
               ({cat})[1 + floor(random()^2 * array_length({cat}, 1))::int] AS category,
               ({CHANNELS})[1 + floor(random() * 10)::int] AS channel,
               ({SOURCES})[1 + floor(random()^2 * 6)::int] AS source,
               random() < 0.95 AS accepted, random() < 0.9 AS on_time,
               random() < 0.85 AS closed, random() < 0.8 AS resolved,
               random() < 0.6 AS rated, random() < 0.55 AS satisfied
        FROM generate_series(1, {n})
        """
    )
    await conn.execute("ANALYZE public.bench_case")
    return time.perf_counter() - t


_COUNTS = (
    "count(*), count(*) FILTER (WHERE accepted), count(*) FILTER (WHERE accepted AND on_time), "
    "count(*) FILTER (WHERE closed), count(*) FILTER (WHERE resolved), "
    "count(*) FILTER (WHERE rated), count(*) FILTER (WHERE satisfied)"
)
_COLS = "received, accept_decided, accept_on_time, closed, resolved, unit_rated, unit_satisfied"


async def seed_rollups(conn: asyncpg.Connection) -> float:
    t = time.perf_counter()
    await conn.execute(
        "TRUNCATE analytics.rollup_day, analytics.rollup_month, analytics.rollup_day_district, "
        "analytics.rollup_month_district"
    )
    values = {
        "all": "'all'",
        "unit": "unit",
        "office": "'XFJ'",
        "category": "category",
        "category_top": "split_part(category, '.', 1)",
        "channel": "channel",
        "source": "source",
    }
    for dim in DIMENSIONS:
        await conn.execute(
            f"INSERT INTO analytics.rollup_day (period, region_code, accusation, dim, value, "
            f"{_COLS}) SELECT day, region_code, false, '{dim}', {values[dim]}, {_COUNTS} "
            "FROM public.bench_case GROUP BY 1, 2, 5"
        )
    sums = ", ".join(f"sum({c})" for c in _COLS.split(", "))
    await conn.execute(
        f"INSERT INTO analytics.rollup_month (period, region_code, accusation, dim, value, {_COLS}) "
        f"SELECT date_trunc('month', period)::date, region_code, accusation, dim, value, {sums} "
        "FROM analytics.rollup_day GROUP BY 1, 2, 3, 4, 5"
    )
    for grain in ("day", "month"):  # the district rollups: region cut to 6 digits
        await conn.execute(
            f"INSERT INTO analytics.rollup_{grain}_district (period, region_code, accusation, "
            f"dim, value, {_COLS}) SELECT period, substr(region_code, 1, 6), accusation, dim, "
            f"value, {sums} FROM analytics.rollup_{grain} GROUP BY 1, 2, 3, 4, 5"
        )
    for table in ("rollup_day", "rollup_month", "rollup_day_district", "rollup_month_district"):
        await conn.execute(f"ANALYZE analytics.{table}")
    return time.perf_counter() - t


def raw_sql(group: str, region: str | None) -> str:
    """The same figures by GROUP BY over the case rows (``group`` as in ``QUERIES``)."""
    key = {
        "none": "'all'",
        "unit": "unit",
        "category": "category",
        "category_top": "split_part(category, '.', 1)",
        "region": "substr(region_code, 1, 6)",
        "region:street": "substr(region_code, 1, 9)",
    }[group]
    where = f" AND region_code LIKE '{region}%'" if region else ""
    return (
        f"SELECT {key}, {_COUNTS} FROM public.bench_case "
        f"WHERE day BETWEEN '{START}' AND '{END}'{where} GROUP BY 1"
    )


async def measure(db: Database, conn: asyncpg.Connection, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    plan = [(name, group, region, True) for name, (group, region) in QUERIES.items()]
    plan += [(f"{name} [full-code rollups]", *QUERIES[name], False) for name in FULL_CODE]
    for name, grouping, region, district in plan:
        group, _, level = grouping.partition(":")
        scope = service.Scope((region or "44",), False)
        times: list[float] = []
        real = service.uses_district_rollups
        if not district:
            service.uses_district_rollups = lambda *a: False
        try:
            for _ in range(runs):
                t = time.perf_counter()
                async with db.transaction("analytics") as c:
                    await service.sum_counters(c, scope, START, END, group, level or "district")
                times.append((time.perf_counter() - t) * 1000)
        finally:
            service.uses_district_rollups = real
        raw: list[float] = []
        for _ in range(max(2, runs // 5)):
            t = time.perf_counter()
            await conn.fetch(raw_sql(grouping, region))
            raw.append((time.perf_counter() - t) * 1000)
        out[name] = {
            "rollup_p50_ms": round(percentile(times, 50), 1),
            "rollup_p95_ms": round(percentile(times, 95), 1),
            "raw_aggregate_p50_ms": round(percentile(raw, 50), 1),
        }
        print(name, out[name], flush=True)
    return out


async def seed_events(conn: asyncpg.Connection, n: int) -> int:
    """Seven events per case (received; registered, accepted, assigned, replied, evaluated,
    closed) in the producers' logs, each recorded in analytics' inbox."""
    region, cat = arrays()
    await conn.execute(
        "TRUNCATE intake.outbox_event, casework.outbox_event, analytics.inbox, "
        "analytics.case_fact, analytics.case_text, analytics.rollup_day, analytics.rollup_month, "
        "analytics.rollup_day_district, analytics.rollup_month_district, "
        "analytics.daily_volume, analytics.hotline_callback"
    )
    await conn.execute("DROP TABLE IF EXISTS public.bench_ev_case")
    await conn.execute(
        f"""CREATE UNLOGGED TABLE public.bench_ev_case AS SELECT gen_random_uuid()::text AS id,
        i, (TIMESTAMPTZ '2025-01-01 08:00+08' + (random() * 365) * interval '1 day') AS t,
        ({region})[1 + floor(random()^2 * array_length({region}, 1))::int] AS region_code,
        ({cat})[1 + floor(random()^2 * array_length({cat}, 1))::int] AS category,
        ({CHANNELS})[1 + floor(random() * 10)::int] AS channel
        FROM generate_series(1, {n}) i"""
    )
    base = (
        "'case_id', id, 'tracking_no', 'T' || i, 'status', 's', 'actor', 'a', "
        "'unit_id', 'XFJ', 'region_code', region_code, 'category_code', category, "
        "'source', 'citizen'"
    )
    events = [
        (
            "intake",
            "intake.petition.received",
            1,
            "t",
            "jsonb_build_object('case_id', id, 'tracking_no', 'T' || i, 'source', 'citizen', "
            "'channel', channel, 'title', '标题' || i, 'content', '内容', 'category_code', "
            "category, 'region_code', region_code, 'received_at', t, "
            "'person_keys', jsonb_build_array('pk' || (i % 50000)))",
        ),
        (
            "casework",
            "casework.case.registered",
            1,
            "t",
            "jsonb_build_object('case_id', id, 'tracking_no', 'T' || i, 'source', 'citizen', "
            "'channel', channel, 'category_code', category, 'region_code', region_code, "
            "'status', 'registered', 'registered_at', t, 'public_message', '', "
            "'office_unit_id', 'XFJ')",
        ),
        (
            "casework",
            "casework.case.accepted",
            2,
            "t + interval '1 day'",
            f"jsonb_build_object({base}, 'occurred_at', t + interval '1 day', "
            "'handling_path', 'claim', 'on_time', random() < 0.9)",
        ),
        (
            "casework",
            "casework.case.assigned",
            3,
            "t + interval '2 day'",
            f"jsonb_build_object({base}, 'occurred_at', t + interval '2 day', 'mode', 'assign', "
            "'lead_unit_id', 'U' || (1 + i % 60))",
        ),
        (
            "casework",
            "casework.case.replied",
            4,
            "t + interval '20 day'",
            f"jsonb_build_object({base}, 'occurred_at', t + interval '20 day', 'stage', 'reply', "
            "'decisions', jsonb_build_array('support'), 'on_time', random() < 0.9)",
        ),
        (
            "casework",
            "casework.case.evaluated",
            5,
            "t + interval '25 day'",
            f"jsonb_build_object({base}, 'occurred_at', t + interval '25 day', "
            "'unit_rating', 'satisfied', 'office_rating', 'basically_satisfied')",
        ),
        (
            "casework",
            "casework.case.closed",
            6,
            "t + interval '26 day'",
            f"jsonb_build_object({base}, 'occurred_at', t + interval '26 day', "
            "'resolved', random() < 0.85)",
        ),
    ]
    total = 0
    for producer, etype, seq, when, payload in events:
        rows = await conn.fetch(
            f"INSERT INTO {producer}.outbox_event (event_id, type, version, aggregate_id, "
            "aggregate_seq, occurred_at, trace_id, payload) "
            f"SELECT gen_random_uuid(), '{etype}', 1, id, {seq}, {when}, 'bench', {payload} "
            "FROM public.bench_ev_case ORDER BY i RETURNING event_id, aggregate_id, aggregate_seq"
        )
        await conn.executemany(
            "INSERT INTO analytics.inbox (event_id, producer, type, aggregate_id, aggregate_seq, "
            "recorded_at) VALUES ($1, $2, $3, $4, $5, now() - interval '1 hour')",
            [(r[0], producer, etype, r[1], r[2]) for r in rows],
        )
        total += len(rows)
    return total


async def main(quick: bool, rebuild_cases: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="minsheng-bench-analytics-"))
    pg = EmbeddedPostgres(root / "pg")
    pg.start()
    result: dict[str, Any] = {"quick": quick}
    try:
        os.environ["MINSHENG_DATABASE_URL"] = pg.url()
        from shared.db.migrate import upgrade_all
        from shared.settings import get_settings

        get_settings.cache_clear()
        upgrade_all(get_settings())
        settings = Settings(env="test", database_url=pg.url(), redis_url="redis://127.0.0.1:1")
        db = Database(settings, pool_size=2)
        conn = await asyncpg.connect(pg.url())
        sizes = [100_000, 1_000_000] if quick else [1_000_000, 10_000_000]
        runs = 10 if quick else 30
        for n in sizes:
            gen = await generate_cases(conn, n)
            seed = await seed_rollups(conn)
            day_rows = await conn.fetchval("SELECT count(*) FROM analytics.rollup_day")
            month_rows = await conn.fetchval("SELECT count(*) FROM analytics.rollup_month")
            district_rows = await conn.fetchval(
                "SELECT count(*) FROM analytics.rollup_month_district"
            )
            print(
                f"{n:,} cases: generated {gen:.0f} s, rollups {seed:.0f} s, {day_rows:,} day rows"
            )
            result[f"{n}"] = {
                "generate_s": round(gen, 1),
                "seed_rollups_s": round(seed, 1),
                "rollup_day_rows": day_rows,
                "rollup_month_rows": month_rows,
                "rollup_month_district_rows": district_rows,
                "load_average": list(os.getloadavg()),
                "queries": await measure(db, conn, runs),
            }
        await conn.execute("DROP TABLE public.bench_case")
        await conn.execute(
            "TRUNCATE analytics.rollup_day, analytics.rollup_month, "
            "analytics.rollup_day_district, analytics.rollup_month_district"
        )
        cases = rebuild_cases
        events = await seed_events(conn, cases)
        from services.analytics.metric.rebuild import rebuild

        t = time.perf_counter()
        r = await rebuild(db)
        seconds = time.perf_counter() - t
        facts = await conn.fetchval("SELECT count(*) FROM analytics.case_fact")
        print(f"rebuild: {events:,} events of {cases:,} cases in {seconds:.1f} s")
        raw_t = time.perf_counter()
        await conn.fetch("SELECT aggregate_id, count(*) FROM casework.outbox_event GROUP BY 1")
        raw_scan = time.perf_counter() - raw_t
        result["rebuild"] = {
            "cases": cases,
            "events": r.events,
            "facts": facts,
            "seconds": round(seconds, 1),
            "events_per_s": round(r.events / seconds),
            "raw_log_group_by_s": round(raw_scan, 2),
        }
        await conn.close()
        await db.dispose()
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    write("analytics", result, markdown(result))


def markdown(r: dict[str, Any]) -> str:
    lines = [
        "Dashboard query = `metric.service.sum_counters` (the API's path: full months from "
        "`rollup_month`, edge days from `rollup_day`, all 51 counters summed), 2025-01-01 to "
        "2025-12-31, region-scoped. Raw = the same figures (7 counters) by GROUP BY over the "
        "generated case rows (narrow rows: the real `case_fact` is wider, so raw would be "
        "slower there). Case rows span 2024–2026 (three years).",
        "",
    ]
    for key, v in r.items():
        if not isinstance(v, dict) or "queries" not in v:
            continue
        lines += [
            f"## {int(key):,} cases ({v['rollup_day_rows']:,} rows in rollup_day)",
            "",
            f"rollup_month: {v.get('rollup_month_rows', 0):,} rows; rollup_month_district: "
            f"{v.get('rollup_month_district_rows', 0):,} rows. Load average before the "
            f"queries: {', '.join(f'{x:.2f}' for x in v.get('load_average', []))}.",
            "",
            "| query | rollup p50 ms | rollup p95 ms | raw aggregate p50 ms |",
            "|---|---|---|---|",
        ]
        for name, q in v["queries"].items():
            lines.append(
                f"| {name} | {q['rollup_p50_ms']} | {q['rollup_p95_ms']} | "
                f"{q['raw_aggregate_p50_ms']} |"
            )
        lines.append("")
    if "rebuild" in r:
        b = r["rebuild"]
        lines += [
            "## Rebuild",
            "",
            f"{b['events']:,} events of {b['cases']:,} cases (7 per case) folded from the "
            f"producers' logs through the live code path into shadow tables and swapped in "
            f"{b['seconds']} s: **{b['events_per_s']:,} events/s**. A raw GROUP BY over "
            f"casework's log in the same run: {b['raw_log_group_by_s']} s.",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="100k and 1M cases instead of 1M and 10M")
    ap.add_argument("--rebuild-cases", type=int, default=100_000)
    args = ap.parse_args()
    asyncio.run(main(args.quick, args.rebuild_cases))
