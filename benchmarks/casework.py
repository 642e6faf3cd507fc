"""Benchmark of the casework workbench (casework issue): a page of 25 from each queue and from
a full-text search among 1,000,000 cases, through the real casework API process (one uvicorn
process, staff JWTs, session check, scoped query), beside the same SQL run directly with
asyncpg on as many connections and the bare ``/healthz`` rate of the same server, all in the
same run; then the deadline sweep over the open cases' clocks.

The cases are seeded with COPY (``copy_records_to_table``) into a fresh embedded PostgreSQL:
spread over the districts, statuses, categories, lead units, handlers and deadlines of an org
tree like ``tests/casework_world.py`` makes (a city, districts each with a petition office,
a discipline unit and ten departments with duties), with their ``case_access`` rows and the
running clocks of the open cases. Titles and contents are the real citizen messages in
``../shared/data`` (read at run time, never copied here); their search lexemes are made by
``services.casework.case.search.lexemes`` once per distinct text (jieba is too slow for a
million texts; the time per text is measured and the extrapolation printed) and reused by the
cases that draw the same text, stored as the tsvector ``array_to_tsvector`` makes (checked on
a sample in the same run).

Run: `.venv/bin/python benchmarks/casework.py [--cases N] [--seconds S] [--quick]`
→ benchmarks/results/casework.{json,md}
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx

from benchmarks.common import WRK, parse_wrk, percentile, write
from minsheng.embedded import EmbeddedPostgres, EmbeddedRedis, free_port, port_open
from shared.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BASE = "/api/v1/casework/cases"
PASSWORD = "correct-horse-1"
CLIENTS = 8
TOKEN_MINUTES = 240
DISTRICT_WEIGHTS = (0.25, 0.18, 0.15, 0.12, 0.10, 0.08, 0.07, 0.05)
DUTY_WEIGHTS = {
    "housing": 0.24,
    "urban_mgmt": 0.14,
    "eco_env": 0.12,
    "hrss": 0.12,
    "transport": 0.08,
    "market_reg": 0.08,
    "health": 0.06,
    "public_security": 0.06,
    "education": 0.05,
    "civil_affairs": 0.05,
}
SOURCES = (
    ("citizen", "web", 0.35),
    ("hotline", "phone", 0.40),
    ("visit", "visit", 0.15),
    ("letter", "letter", 0.10),
)
SEARCH_WORD = "物业"  # 7.4 % of the distinct texts
SEARCH_PHRASE = "噪音扰民"  # 2.7 % of the distinct texts
# the session settings of the services' own connections (shared.db.engine), for the baseline
SESSION = {"plan_cache_mode": "force_custom_plan", "max_parallel_workers_per_gather": "0"}
# The second series runs the same API with this many processes (`--workers`)
SCALED_WORKERS = 2


# ----------------------------------------------------------------------------- texts


def read_texts() -> list[tuple[str, str]]:
    """Distinct (title, content) pairs of the real messages; the folder must be present."""
    csv.field_size_limit(10**8)
    found: dict[tuple[str, str], None] = {}
    sources = [
        (DATA / "teddy2020" / f"{name}.csv", "留言主题", "留言详情")
        for name in ("messages_fullcolumns", "hotspot_messages", "replied_messages")
    ] + [(DATA / "fuzhou" / "river_complaints.csv", "标题", "投诉件内容")]
    for path, title, content in sources:
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                t, c = (row.get(title) or "").strip(), (row.get(content) or "").strip()
                if t and c:
                    found[(t[:200], c)] = None
    return list(found)


def tsvector_binary(lexemes: list[str]) -> bytes:
    """The binary wire form of the tsvector ``array_to_tsvector(lexemes)`` makes: each
    lexeme without positions (PostgreSQL sorts them on receipt)."""
    parts = [struct.pack("!i", len(lexemes))]
    parts += [lex.encode() + b"\x00\x00\x00" for lex in lexemes]
    return b"".join(parts)


@dataclass
class Texts:
    items: list[tuple[str, str]]
    lexemes: list[list[str]]
    vectors: list[bytes]
    seconds: float

    @classmethod
    def load(cls) -> Texts:
        from services.casework.case import search

        items = read_texts()
        search.lexemes("预热")  # jieba loads its dictionary once
        t = time.perf_counter()
        lexemes = [search.lexemes(f"{title} {content}") for title, content in items]
        seconds = time.perf_counter() - t
        return cls(items, lexemes, [tsvector_binary(x) for x in lexemes], seconds)


# ----------------------------------------------------------------------------- the org


@dataclass
class Org:
    city_office: tuple[str, str]
    city_discipline: tuple[str, str]
    districts: list[str]  # region codes
    office: dict[str, tuple[str, str]]  # district → (unit id, path)
    discipline: dict[str, tuple[str, str]]
    departments: dict[tuple[str, str], tuple[str, str]]  # (district, duty) → (id, path)
    categories: list[tuple[str, str, str]]  # (code, duty, handling path)
    category_weights: list[float]
    tokens: dict[str, str] = field(default_factory=dict)
    staff_ids: dict[str, str] = field(default_factory=dict)


async def make_org(settings: Settings) -> Org:
    """City → districts → petition office, discipline unit, ten departments; staff."""
    from shared.clock import system_clock
    from shared.db import Database
    from shared.demo.staff import duty_codes
    from shared.identity import service as identity
    from shared.reference import categories, regions

    districts = [r.code for r in regions.districts()][: len(DISTRICT_WEIGHTS)]
    city = districts[0][:4] + "00"
    db = Database(settings, pool_size=2)
    office: dict[str, tuple[str, str]] = {}
    discipline: dict[str, tuple[str, str]] = {}
    departments: dict[tuple[str, str], tuple[str, str]] = {}
    async with db.transaction("identity") as conn:

        async def unit(
            uid: str,
            name: str,
            kind: str,
            parent: str | None,
            regions_: list[str],
            duties: list[str] | None = None,
        ) -> tuple[str, str]:
            made = await identity.create_org_unit(
                conn,
                id=uid,
                name=name,
                kind=kind,
                parent_id=parent,
                region_codes=regions_,
                duties=duties or [],
            )
            return made.id, made.path

        gov, _ = await unit(f"{city}.gov", "市人民政府", "government", None, [city])
        city_office = await unit(f"{city}.petition", "市信访局", "petition_office", gov, [city])
        city_discipline = await unit(f"{city}.discipline", "市纪委监委", "discipline", gov, [city])
        for d in districts:
            dgov, _ = await unit(f"{d}.gov", f"{d}区人民政府", "government", gov, [d])
            office[d] = await unit(f"{d}.petition", f"{d}区信访局", "petition_office", dgov, [d])
            discipline[d] = await unit(f"{d}.discipline", f"{d}区纪委监委", "discipline", dgov, [d])
            for duty in DUTY_WEIGHTS:
                departments[(d, duty)] = await unit(
                    f"{d}.{duty}", f"{d}区{duty}", "department", dgov, [d], duty_codes(duty)
                )
    cats: list[tuple[str, str, str]] = []
    weights: list[float] = []
    for duty, w in DUTY_WEIGHTS.items():
        leaves = [c for c in categories.leaves() if c.duty.code == duty]
        for c in leaves:
            cats.append((c.code, duty, c.handling_path or "claim"))
            weights.append(w / len(leaves))
    org = Org(
        city_office, city_discipline, districts, office, discipline, departments, cats, weights
    )
    d0 = districts[0]
    staff = {
        "officer": (office[d0][0], ["petition_officer"]),
        "handler": (departments[(d0, "housing")][0], ["handler"]),
        "city_officer": (city_office[0], ["petition_officer"]),
    }
    for who, (unit_id, roles) in staff.items():
        async with db.transaction("identity") as conn:
            await identity.create_staff(
                conn,
                username=f"bench.{who}",
                display_name=who,
                org_unit_id=unit_id,
                roles=roles,
                password=PASSWORD,
            )
        async with db.transaction("identity") as conn:
            result = await identity.authenticate(
                conn,
                username=f"bench.{who}",
                password=PASSWORD,
                totp_code=None,
                clock=system_clock,
                settings=settings,
            )
        org.tokens[who] = result.access_token
        org.staff_ids[who] = str(result.staff.id)
    await db.dispose()
    return org


# ----------------------------------------------------------------------------- the cases

CASE_COLUMNS = (
    "case_id",
    "tracking_no",
    "source",
    "channel",
    "title",
    "category_code",
    "region_code",
    "status",
    "accusation",
    "received_at",
    "registered_at",
    "updated_at",
    "content",
    "urgency",
    "office_unit_id",
    "lead_unit_id",
    "co_unit_ids",
    "handler_id",
    "handling_path",
    "accepted_at",
    "replied_at",
    "closed_at",
    "due_at",
    "search",
)
ACCESS_COLUMNS = ("case_id", "unit_id", "unit_path", "reason", "since")
CLOCK_COLUMNS = ("case_id", "kind", "started_at", "days", "working_days", "policy", "due_at")

# status mix by age band: (max age in days, [(status, weight)])
STATUS_BY_AGE: tuple[tuple[float, tuple[tuple[str, float], ...]], ...] = (
    (2, (("registered", 50), ("accepted", 20), ("assigned", 20), ("signed", 10))),
    (
        15,
        (
            ("registered", 5),
            ("accepted", 10),
            ("assigned", 15),
            ("signed", 15),
            ("in_progress", 45),
            ("not_accepted", 5),
            ("diverted", 3),
            ("withdrawn", 2),
        ),
    ),
    (
        90,
        (
            ("in_progress", 35),
            ("replied", 20),
            ("evaluated", 10),
            ("closed", 25),
            ("not_accepted", 4),
            ("diverted", 3),
            ("withdrawn", 3),
        ),
    ),
    (
        1e9,
        (
            ("closed", 82),
            ("evaluated", 6),
            ("not_accepted", 4),
            ("diverted", 2),
            ("withdrawn", 2),
            ("review_requested", 0.5),
            ("reviewed", 1),
            ("reexamined", 0.5),
            ("in_progress", 1),
            ("replied", 1),
        ),
    ),
)
UNASSIGNED = {"registered", "accepted", "not_accepted", "diverted"}
HANDLED = {
    "signed",
    "in_progress",
    "replied",
    "evaluated",
    "closed",
    "review_requested",
    "reviewed",
    "reexamined",
}
REPLIED = {"replied", "evaluated", "closed", "review_requested", "reviewed", "reexamined"}
CLOSED = {"closed", "not_accepted", "diverted", "withdrawn", "reexamined"}


@dataclass
class Batch:
    cases: list[tuple[Any, ...]]
    access: list[tuple[Any, ...]]
    clocks: list[tuple[Any, ...]]


def make_cases(
    org: Org, texts: Texts, n: int, now: datetime, chunk: int, seed: int = 20261124
) -> Iterator[Batch]:
    """``n`` cases in batches of ``chunk``, with their access rows and running clocks."""
    rng = random.Random(seed)
    handler_me = uuid.UUID(org.staff_ids["handler"])
    d0 = org.districts[0]
    pools = {key: [uuid.uuid4() for _ in range(6)] for key in org.departments}
    pools[(d0, "housing")][0] = handler_me  # the measured handler is one of six in the unit
    status_bands = [(age, [s for s, _ in mix], [w for _, w in mix]) for age, mix in STATUS_BY_AGE]
    src = [(s, c) for s, c, _ in SOURCES]
    src_w = [w for _, _, w in SOURCES]
    duties = list(DUTY_WEIGHTS)
    for start in range(0, n, chunk):
        batch = Batch([], [], [])
        for i in range(start, min(n, start + chunk)):
            d = rng.choices(org.districts, DISTRICT_WEIGHTS)[0]
            age = 1095 * rng.random() ** 1.3
            received = now - timedelta(days=age, seconds=rng.randrange(86400))
            for band, states, weights in status_bands:
                if age <= band:
                    status = rng.choices(states, weights)[0]
                    break
            code, duty, path = rng.choices(org.categories, org.category_weights)[0]
            title, content = texts.items[t := rng.randrange(len(texts.items))]
            source, channel = rng.choices(src, src_w)[0]
            accusation = rng.random() < 0.02
            case_id = uuid.uuid4()
            span = min(age, 1 + rng.random() * 4)
            accepted = received + timedelta(days=span) if status not in {"registered"} else None
            lead = co = handler = None
            if status not in UNASSIGNED and not (status == "withdrawn" and rng.random() < 0.5):
                lead = org.departments[(d, duty)]
                if rng.random() < 0.05:
                    co = org.departments[(d, rng.choice([x for x in duties if x != duty]))]
                if status in HANDLED:
                    handler = rng.choice(pools[(d, duty)])
            replied = closed = None
            if status in REPLIED:
                replied = received + timedelta(days=min(age, 20 + rng.random() * 45))
            if status in CLOSED:
                closed = (replied or received) + timedelta(days=min(age, rng.random() * 10))
            last = closed or replied or accepted or received
            updated = min(now, last + timedelta(days=rng.random() * max(0.0, age) * 0.2))
            clocks: list[tuple[str, datetime, int]] = []
            if status == "registered":
                clocks = [("register", received, 15), ("accept", received, 15)]
            elif status in {"accepted", "assigned", "signed", "in_progress"}:
                assert accepted is not None
                clocks = [("handle", accepted, 60)]
                if status == "assigned":
                    clocks.append(("sign", accepted, 3))
            elif status in {"review_requested", "reexam_requested"}:
                clocks = [("review", updated, 30)]
            due = min((at + timedelta(days=days) for _, at, days in clocks), default=None)
            owner = org.discipline[d] if accusation else org.office[d]
            city = org.city_discipline if accusation else org.city_office
            batch.cases.append(
                (
                    case_id,
                    f"B{i:010d}",
                    source,
                    channel,
                    title,
                    code,
                    d,
                    status,
                    accusation,
                    received,
                    received,
                    updated,
                    content,
                    "urgent" if rng.random() < 0.03 else "normal",
                    owner[0],
                    lead[0] if lead else None,
                    [co[0]] if co else [],
                    handler,
                    path if accepted else None,
                    accepted,
                    replied,
                    closed,
                    due,
                    texts.vectors[t],
                )
            )
            batch.access.append((case_id, owner[0], owner[1], "office", received))
            batch.access.append((case_id, city[0], city[1], "office", received))
            if lead and not accusation:
                batch.access.append((case_id, lead[0], lead[1], "lead", accepted or received))
            if co and not accusation:
                batch.access.append((case_id, co[0], co[1], "co", accepted or received))
            for kind, at, days in clocks:
                batch.clocks.append(
                    (case_id, kind, at, days, False, "statutory", at + timedelta(days=days))
                )
        yield batch


async def seed(url: str, org: Org, texts: Texts, n: int, now: datetime) -> dict[str, Any]:
    """COPY the cases with the secondary indexes dropped, then rebuild them and ANALYZE."""
    conn = await asyncpg.connect(url)
    await conn.set_type_codec(
        "tsvector", schema="pg_catalog", encoder=bytes, decoder=bytes, format="binary"
    )
    await conn.execute("SET maintenance_work_mem = '1GB'; SET synchronous_commit = off")
    tables = ("case", "case_access", "case_clock", "case_signature")  # the last by trigger
    indexes = await conn.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS ddl, "
        "c.relname AS tbl FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'casework' "
        "AND c.relname = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
        "WHERE k.conindid = i.indexrelid)",
        list(tables),
    )
    for ix in indexes:
        await conn.execute(f"DROP INDEX {ix['name']}")
    out: dict[str, Any] = {"cases": n}
    counts = {"access": 0, "clocks": 0}
    gen = copy = 0.0
    t0 = time.perf_counter()
    batches = make_cases(org, texts, n, now, chunk=50_000)
    while True:
        t = time.perf_counter()
        batch = next(batches, None)
        gen += time.perf_counter() - t
        if batch is None:
            break
        t = time.perf_counter()
        await conn.copy_records_to_table(
            "case", schema_name="casework", columns=CASE_COLUMNS, records=batch.cases
        )
        await conn.copy_records_to_table(
            "case_access", schema_name="casework", columns=ACCESS_COLUMNS, records=batch.access
        )
        await conn.copy_records_to_table(
            "case_clock", schema_name="casework", columns=CLOCK_COLUMNS, records=batch.clocks
        )
        copy += time.perf_counter() - t
        counts["access"] += len(batch.access)
        counts["clocks"] += len(batch.clocks)
        print(f"  seeded {batch.cases[-1][1]}", flush=True)
    out["copy_s"] = round(copy, 1)
    out["generate_s"] = round(gen, 1)
    out["rows"] = counts
    builds: dict[str, float] = {}
    for ix in indexes:
        t = time.perf_counter()
        await conn.execute(ix["ddl"])
        builds[ix["name"].split(".")[-1]] = round(time.perf_counter() - t, 1)
        print(f"  index {ix['name']}: {builds[ix['name'].split('.')[-1]]} s", flush=True)
    out["index_build_s"] = builds
    t = time.perf_counter()
    for table in tables:
        await conn.execute(f'VACUUM (ANALYZE) casework."{table}"')
    out["vacuum_analyze_s"] = round(time.perf_counter() - t, 1)
    out["total_s"] = round(time.perf_counter() - t0, 1)
    out["open_cases"] = await conn.fetchval(
        'SELECT count(*) FROM casework."case" WHERE status <> ALL($1)',
        ["closed", "not_accepted", "diverted", "withdrawn", "reexamined"],
    )
    out["sizes"] = {
        r["t"]: r["size"]
        for r in await conn.fetch(
            "SELECT c.relname AS t, pg_size_pretty(pg_total_relation_size(c.oid)) AS size "
            "FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
            "WHERE s.nspname = 'casework' AND c.relname = ANY($1)",
            list(tables),
        )
    }
    # The stored vectors are what the app's lexemes() and array_to_tsvector make (a sample).
    from services.casework.case import search

    sample = await conn.fetch(
        'SELECT tracking_no, title, content FROM casework."case" TABLESAMPLE SYSTEM (1) LIMIT 200'
    )
    lex = {r[0]: " ".join(search.lexemes(f"{r[1]} {r[2]}")) for r in sample}
    out["tsvector_sample_equal"] = await conn.fetchval(
        'SELECT count(*) FROM casework."case" c JOIN unnest($1::text[], $2::text[]) AS '
        "x(tn, lex) ON c.tracking_no = x.tn WHERE c.search = "
        "array_to_tsvector(string_to_array(x.lex, ' '))",
        list(lex),
        list(lex.values()),
    )
    out["tsvector_sample"] = len(lex)
    # The unit queue's `co_unit_ids @> ARRAY[u]` picks the same rows as `u = ANY(co_unit_ids)`.
    out["co_unit_checks"] = [
        dict(r)
        for r in await conn.fetch(
            "SELECT u, count(*) FILTER (WHERE u = ANY(c.co_unit_ids)) AS any_, "
            "count(*) FILTER (WHERE c.co_unit_ids @> ARRAY[u]) AS contains "
            'FROM casework."case" c CROSS JOIN unnest($1::text[]) AS u GROUP BY u',
            [org.departments[(org.districts[0], duty)][0] for duty in list(DUTY_WEIGHTS)[:3]],
        )
    ]
    await conn.close()
    return out


# ----------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Scenario:
    name: str
    who: str | None
    params: dict[str, str]
    label: str


SCENARIOS = (
    Scenario("unit", "handler", {"queue": "unit"}, "queue=unit (department handler)"),
    Scenario("mine", "handler", {"queue": "mine"}, "queue=mine (department handler)"),
    Scenario("overdue", "officer", {"queue": "overdue"}, "queue=overdue (district officer)"),
    Scenario("due_soon", "officer", {"queue": "due_soon"}, "queue=due_soon (district officer)"),
    Scenario("all", "officer", {"queue": "all"}, "queue=all (district officer)"),
    Scenario("all_city", "city_officer", {"queue": "all"}, "queue=all (city officer)"),
    Scenario("search_word", "officer", {"q": SEARCH_WORD}, f"q={SEARCH_WORD} (district officer)"),
    Scenario(
        "search_phrase", "officer", {"q": SEARCH_PHRASE}, f"q={SEARCH_PHRASE} (district officer)"
    ),
)


async def timed_loop(
    clients: int, seconds: float, call: Callable[[int], Any]
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            t = time.perf_counter()
            ok = await call(k)
            latencies.append(time.perf_counter() - t)
            errors += 0 if ok else 1

    await asyncio.gather(*(worker(k) for k in range(clients)))
    return latencies, errors


def figures(latencies: list[float], seconds: float, errors: int) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "errors": errors,
        "per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
    }


async def http_load(
    base: str, path: str, params: dict[str, str], headers: dict[str, str], seconds: float
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        first = await client.get(path, params=params, headers=headers)
        assert first.status_code == 200, first.text[:300]
        body = first.json()

        async def call(_: int) -> bool:
            r = await client.get(path, params=params, headers=headers)
            return r.status_code == 200

        await timed_loop(CLIENTS, min(2.0, seconds / 4), call)  # warm-up
        latencies, errors = await timed_loop(CLIENTS, seconds, call)
    out = figures(latencies, seconds, errors)
    if isinstance(body, dict) and "items" in body:
        out["items"] = len(body["items"])
        out["more"] = body.get("next_cursor") is not None
    return out


async def wrk_load(
    base: str, path: str, params: dict[str, str], headers: dict[str, str], seconds: float
) -> dict[str, Any] | None:
    """The same requests from wrk (C, one thread, the same number of connections): a load
    generator that leaves the two cores to the server and PostgreSQL, as clients on other
    machines would. None when wrk is not installed (Debian package ``wrk``)."""
    if WRK is None:
        return None
    url = str(httpx.URL(base + path, params=params))
    args = [WRK, "-t", "1", "-c", str(CLIENTS), "--latency"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    for duration in (min(2.0, seconds / 4), seconds):  # a warm-up, then the measurement
        proc = await asyncio.create_subprocess_exec(
            *args, "-d", f"{duration:g}s", url, stdout=subprocess.PIPE
        )
        out, _ = await proc.communicate()
    return parse_wrk(out.decode(), seconds)


Statements = list[tuple[str, list[Any]]]


async def sql_load(url: str, statements: Statements, seconds: float) -> dict[str, Any]:
    """The statements one page sends (one, or a search's windows and its fallback), in order
    on one connection per client."""
    conns = [await asyncpg.connect(url, server_settings=SESSION) for _ in range(CLIENTS)]
    try:
        rows = [r for sql, args in statements for r in await conns[0].fetch(sql, *args)]

        async def call(k: int) -> bool:
            for sql, args in statements:
                await conns[k].fetch(sql, *args)
            return True

        await timed_loop(CLIENTS, min(2.0, seconds / 4), call)
        latencies, errors = await timed_loop(CLIENTS, seconds, call)
    finally:
        for c in conns:
            await c.close()
    out = figures(latencies, seconds, errors)
    out["rows"] = len(rows)
    return out


async def capture_sql(settings: Settings, token: str, params: dict[str, str]) -> Statements:
    """The statements ``queries.page`` sends for these parameters, as the driver gets them
    (the search statistics it reads once per ten minutes are left out)."""
    from sqlalchemy import event

    from services.casework.case import queries
    from shared.clock import system_clock
    from shared.db import Database
    from shared.identity.tokens import decode_access_token

    principal = decode_access_token(token, settings, system_clock)
    db = Database(settings, pool_size=1)
    seen: list[tuple[str, Any]] = []

    def remember(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    engine = db.engine("casework")
    event.listen(engine.sync_engine, "before_cursor_execute", remember)
    for _ in range(2):  # the first call also reads the search statistics
        seen.clear()
        async with db.transaction("casework") as conn:
            await queries.page(
                conn,
                principal,
                queue=params.get("queue", "all"),
                q=params.get("q"),
                now=system_clock.now(),
            )
    await db.dispose()
    return [(s, list(p or ())) for s, p in seen if 'casework."case"' in s]


async def explain(url: str, statements: Statements) -> tuple[str, float]:
    """The plans of a page's statements and their execution times added up."""
    conn = await asyncpg.connect(url, server_settings=SESSION)
    plans, total = [], 0.0
    try:
        for sql, args in statements:
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
            plans.append("\n".join(r[0] for r in rows))
            total += next(
                (
                    float(r[0].split(":")[1].split()[0])
                    for r in rows
                    if r[0].startswith("Execution Time")
                ),
                math.nan,
            )
    finally:
        await conn.close()
    return "\n---\n".join(plans), round(total, 3)


async def measure_round(
    base: str, url: str, org: Org, sqls: dict[str, Statements], seconds: float
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["healthz"] = await http_load(base, "/healthz", {}, {}, seconds)
    out["healthz_wrk"] = await wrk_load(base, "/healthz", {}, {}, seconds)
    print("  healthz", out["healthz"], out["healthz_wrk"], flush=True)
    for s in SCENARIOS:
        assert s.who is not None
        headers = {"Authorization": f"Bearer {org.tokens[s.who]}"}
        http = await http_load(base, BASE, s.params, headers, seconds)
        wrk = await wrk_load(base, BASE, s.params, headers, seconds)
        raw = await sql_load(url, sqls[s.name], seconds)
        out[s.name] = {"http": http, "wrk": wrk, "sql": raw}
        print(f"  {s.name}: http {http} | wrk {wrk} | sql {raw}", flush=True)
    return out


# ----------------------------------------------------------------------------- the sweep


async def sweep_run(settings: Settings, url: str) -> dict[str, Any]:
    """Time the deadline sweep over the running clocks as the worker's job runs it (batches
    of ``BATCH``, one transaction each, until a batch finds fewer), then an idle sweep; the
    baseline marks the same clocks of a copy of the table with one UPDATE per kind."""
    try:
        from services.casework.deadline import sweep as sweeping
    except ImportError:
        return {"measured": False, "why": "services/casework/deadline/sweep.py is absent"}
    from shared.clock import system_clock
    from shared.db import Database

    conn = await asyncpg.connect(url)
    running = await conn.fetchval(
        "SELECT count(*) FROM casework.case_clock WHERE stopped_at IS NULL"
    )
    await conn.execute(
        "CREATE TABLE public.bench_clock AS SELECT * FROM casework.case_clock; "
        "CREATE INDEX ON public.bench_clock (due_at) WHERE stopped_at IS NULL; "
        "ANALYZE public.bench_clock"
    )
    share = settings.deadline_warn_share
    t = time.perf_counter()
    warn_raw = await conn.execute(
        "UPDATE public.bench_clock SET warned_at = now() WHERE stopped_at IS NULL "
        "AND paused_at IS NULL AND warned_at IS NULL AND missed_at IS NULL AND due_at > now() "
        "AND started_at + (due_at - started_at) * CAST($1 AS double precision) <= now()",
        share,
    )
    miss_raw = await conn.execute(
        "UPDATE public.bench_clock SET missed_at = now() WHERE stopped_at IS NULL "
        "AND paused_at IS NULL AND missed_at IS NULL AND due_at < now()"
    )
    raw_s = time.perf_counter() - t
    await conn.execute("DROP TABLE public.bench_clock")
    await conn.close()
    db = Database(settings, pool_size=2)
    warned = missed = batches = 0
    t = time.perf_counter()
    while True:
        async with db.transaction("casework") as c:
            w, m = await sweeping.sweep(c, clock=system_clock, settings=settings)
        warned, missed, batches = warned + w, missed + m, batches + 1
        if w < sweeping.BATCH and m < sweeping.BATCH:
            break
    full_s = time.perf_counter() - t
    idle = []
    for _ in range(5):
        t = time.perf_counter()
        async with db.transaction("casework") as c:
            await sweeping.sweep(c, clock=system_clock, settings=settings)
        idle.append(time.perf_counter() - t)
    await db.dispose()
    marked_raw = int(warn_raw.split()[-1]) + int(miss_raw.split()[-1])
    return {
        "measured": True,
        "running_clocks": running,
        "warned": warned,
        "missed": missed,
        "batches": batches,
        "sweep_s": round(full_s, 2),
        "events_per_s": round((warned + missed) / full_s, 1) if full_s else None,
        "idle_sweep_median_ms": round(sorted(idle)[2] * 1000, 1),
        "raw_update_marked": marked_raw,
        "raw_update_s": round(raw_s, 2),
        "raw_per_s": round(marked_raw / raw_s, 1) if raw_s else None,
    }


# ----------------------------------------------------------------------------- report

READING = (
    "How to read this. Every page is one SELECT (no related rows loaded one at a time), except "
    "a search of several common terms, which reads windows of the newest cases — testing each "
    "case's lexeme signature in the index of the narrow `case_signature` table (an index-only "
    "scan) and reading from the case table only the cases it passes — and may fall back to the "
    "GIN query (`case/search_plan.py`; the SQL baseline runs the same statements). The seeded "
    "tables are vacuumed, so every page is all-visible and the index-only scan visits no heap "
    "page; on a live table the pages changed since autovacuum last passed (it passes after 2 % "
    "of `case_signature` changed) need a heap visit each. "
    "The HTTP request adds a JWT check, the session check (one autocommit statement) and the "
    "page's statement. Where the SQL alone is fast and HTTP is not, the bound is the API "
    "process, not the query: GET /healthz (no database at all) in the first row is the ceiling "
    "of the same server, on two cores shared with PostgreSQL, the load generator and whatever "
    "else runs (load average above). Two load generators drive the same server in turn, with "
    "the same 8 connections, each request waiting for the previous answer: httpx (Python, "
    "the project's own client library) spends about as much CPU per request as the server, so "
    "on two shared cores it caps what the server can show; wrk (C, Debian's `wrk`, one thread) "
    "spends little, leaving the cores to the server and PostgreSQL as clients on other "
    "machines would — its column is the server's capacity on this machine, and the goal is "
    "judged on it (the httpx verdict is shown beside it). The second series, when run, serves "
    "the same app from two processes on one port; on two cores they compete with PostgreSQL "
    "and the load generator, so the gain is bounded by the cores, not the code. Slow rows' "
    "latencies exceed the window: a request started before the end is waited for, so their "
    "rates are rough."
)


def median_of(rounds: list[dict[str, Any]], path: tuple[str, ...], key: str) -> float:
    values = []
    for r in rounds:
        node: Any = r
        for p in path:
            node = node[p]
        values.append(node[key])
    values.sort()
    mid = len(values) // 2
    return round(values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2, 1)


def report(result: dict[str, Any]) -> str:
    seedr, texts = result["seed"], result["texts"]
    rounds: list[dict[str, Any]] = result["rounds"]
    lines = [
        f"{seedr['cases']:,} cases seeded by COPY into a fresh embedded PostgreSQL "
        f"({seedr['rows']['access']:,} access rows, {seedr['rows']['clocks']:,} running clocks "
        f"of {seedr['open_cases']:,} open cases; COPY {seedr['copy_s']} s with the trigger "
        "writing each case's `case_signature` row, generating the rows "
        f"{seedr['generate_s']} s, secondary indexes rebuilt after the load: "
        + ", ".join(f"{k} {v} s" for k, v in seedr["index_build_s"].items())
        + f"; VACUUM ANALYZE {seedr['vacuum_analyze_s']} s; sizes "
        + ", ".join(f"{k} {v}" for k, v in seedr["sizes"].items())
        + ").",
        "",
        f"Texts: {texts['distinct']:,} distinct real messages (teddy2020, fuzhou), drawn at "
        f"random by the cases (each about {seedr['cases'] // texts['distinct']} times). jieba "
        f"lexemes take {texts['ms_per_text']} ms a text ({texts['lexemes_per_text']} lexemes on "
        f"average): {texts['seconds']} s for the distinct texts, ≈ "
        f"{texts['ms_per_text'] * seedr['cases'] / 60000:.0f} min on one core for a million — "
        "so each distinct text's lexemes are made once and reused. The whole table is indexed "
        f"for search (GIN build {seedr['index_build_s'].get('ix_case_search', '?')} s); the "
        "stored vectors equal `array_to_tsvector(string_to_array(lex, ' '))` on "
        f"{seedr['tsvector_sample_equal']}/{seedr['tsvector_sample']} sampled cases. Because "
        "texts repeat, a word matches the same share of cases as of the real messages. The "
        "unit queue's `co_unit_ids @> ARRAY[unit]` (see below) counts the same cases as "
        "`unit = ANY(co_unit_ids)`: "
        + ", ".join(f"{c['u']} {c['any_']} = {c['contains']}" for c in seedr["co_unit_checks"])
        + ".",
        "",
        f"Each figure: {CLIENTS} concurrent clients for {result['seconds']} s after a warm-up, "
        f"median of {len(rounds)} rounds. HTTP: one uvicorn process of the casework app "
        "(`minsheng serve casework`), each request a staff JWT with its session check, then "
        "`queries.page` (a page of 25), from two load generators in turn (httpx and wrk, see "
        "below). Baseline: the very SQL `queries.page` sends for the same caller (captured "
        "from the driver), run with asyncpg on 8 connections; and GET /healthz of the same "
        "server (the HTTP ceiling). Clients, server and PostgreSQL share the machine's cores.",
        "",
    ]

    def verdict(per_s: float, p99: float) -> str:
        if p99 <= 50 and per_s >= 500:
            return "met"
        return "p99 met, rate not" if p99 <= 50 else "not met"

    def table(rounds_: list[dict[str, Any]], title: str) -> None:
        with_wrk = all(r.get("healthz_wrk") for r in rounds_)
        hz = median_of(rounds_, ("healthz",), "per_s")
        lines.append(f"### {title}\n")
        head = "| measure | httpx client: req/s, p50 / p99 ms |"
        rule = "|---|---|"
        if with_wrk:
            head += " wrk: req/s, p50 / p99 ms |"
            rule += "---|"
        head += " SQL alone: req/s, p50 / p99 ms | goal p99 ≤ 50 ms & ≥ 500/s |"
        rule += "---|---|"
        lines.extend([head, rule])
        row = (
            f"| GET /healthz (the ceiling) | {hz}, {median_of(rounds_, ('healthz',), 'p50_ms')} "
            f"/ {median_of(rounds_, ('healthz',), 'p99_ms')} |"
        )
        if with_wrk:
            row += (
                f" {median_of(rounds_, ('healthz_wrk',), 'per_s')}, "
                f"{median_of(rounds_, ('healthz_wrk',), 'p50_ms')} / "
                f"{median_of(rounds_, ('healthz_wrk',), 'p99_ms')} |"
            )
        lines.append(row + " | |")
        for s in SCENARIOS:
            per_s = median_of(rounds_, (s.name, "http"), "per_s")
            p50 = median_of(rounds_, (s.name, "http"), "p50_ms")
            p99 = median_of(rounds_, (s.name, "http"), "p99_ms")
            sql = median_of(rounds_, (s.name, "sql"), "per_s")
            sp50 = median_of(rounds_, (s.name, "sql"), "p50_ms")
            sp99 = median_of(rounds_, (s.name, "sql"), "p99_ms")
            items = rounds_[0][s.name]["http"].get("items")
            row = f"| {s.label} ({items} items) | {per_s}, {p50} / {p99} |"
            met = f"httpx: {verdict(per_s, p99)}"
            if with_wrk:
                w_per_s = median_of(rounds_, (s.name, "wrk"), "per_s")
                w_p50 = median_of(rounds_, (s.name, "wrk"), "p50_ms")
                w_p99 = median_of(rounds_, (s.name, "wrk"), "p99_ms")
                row += f" {w_per_s}, {w_p50} / {w_p99} |"
                met = f"wrk: **{verdict(w_per_s, w_p99)}**; {met}"
            lines.append(row + f" {sql}, {sp50} / {sp99} | {met} |")
        errors = sum(
            (r[s.name]["http"]["errors"] + ((r[s.name].get("wrk") or {}).get("errors") or 0))
            for r in rounds_
            for s in SCENARIOS
        )
        lines.append(f"\nFailed requests in these rounds: {errors}.\n")

    table(rounds, "One API process (`minsheng serve casework`, as `make run` starts it)")
    if result.get("scaled_rounds"):
        table(
            result["scaled_rounds"],
            f"{SCALED_WORKERS} API processes (`minsheng serve casework --workers "
            f"{SCALED_WORKERS}`, MINSHENG_API_WORKERS)",
        )
    lines.append("### Plans (EXPLAIN ANALYZE, one run: the page's statements added up)\n")
    lines.append("| measure | statements | execution time |")
    lines.append("|---|---|---|")
    for s in SCENARIOS:
        e = result["explain"][s.name]
        lines.append(f"| {s.label} | {e.get('statements', 1)} | {e['ms']} ms |")
    lines.append("")
    lines.append(READING + "\n")
    sw = result["sweep"]
    lines.append("### Deadline sweep\n")
    if not sw.get("measured"):
        lines.append(f"Not measured: {sw.get('why')}.\n")
    else:
        lines.append(
            f"Over {sw['running_clocks']:,} running clocks of the open cases, the sweep as the "
            f"worker runs it (`sweep()` in transactions of {sw['batches']} batches) warned "
            f"{sw['warned']:,} and missed {sw['missed']:,} clocks, publishing an event for each, "
            f"in {sw['sweep_s']} s ({sw['events_per_s']} events/s). Baseline: the same marks "
            f"as one UPDATE per kind on a copy of the table, no events: {sw['raw_update_marked']:,} "
            f"clocks in {sw['raw_update_s']} s ({sw['raw_per_s']}/s); ratio "
            f"{sw['events_per_s'] / sw['raw_per_s']:.2f}. A sweep that finds nothing new (the "
            f"cron's usual run): median {sw['idle_sweep_median_ms']} ms.\n"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


async def start_api(
    env: dict[str, str], root: Path, *, workers: int
) -> tuple[subprocess.Popen[bytes], str]:
    """``minsheng serve casework`` with ``workers`` processes; its base URL once it answers."""
    port = free_port()
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "minsheng.cli",
            "serve",
            "casework",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(root / "api.log").open("ab"),
    )
    deadline = time.monotonic() + 60
    while not port_open(port):
        assert time.monotonic() < deadline and api.poll() is None, "the API did not start"
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0 if workers > 1 else 0)  # every worker process up
    return api, f"http://127.0.0.1:{port}"


def stop_api(api: subprocess.Popen[bytes]) -> None:
    api.terminate()
    try:
        api.wait(20)
    except subprocess.TimeoutExpired:
        api.kill()
        api.wait()


async def main(n: int, seconds: float, rounds: int, scaled: bool, name: str) -> None:
    if not (DATA / "teddy2020").is_dir():
        print(f"skipped: the real data is not at {DATA}")
        return
    root = Path(tempfile.mkdtemp(prefix="minsheng-bench-casework-"))
    pg, redis = EmbeddedPostgres(root / "pg"), EmbeddedRedis(root / "redis")
    api: subprocess.Popen[bytes] | None = None
    result: dict[str, Any] = {"seconds": seconds, "clients": CLIENTS}
    try:
        t = time.perf_counter()
        texts = Texts.load()
        result["texts"] = {
            "distinct": len(texts.items),
            "seconds": round(texts.seconds, 1),
            "ms_per_text": round(texts.seconds / len(texts.items) * 1000, 2),
            "lexemes_per_text": round(sum(map(len, texts.lexemes)) / len(texts.items)),
        }
        print("texts", result["texts"], f"{time.perf_counter() - t:.1f} s", flush=True)
        pg.start()
        redis.start()
        settings = Settings(
            database_url=pg.url(),
            redis_url=redis.url(),
            access_token_minutes=TOKEN_MINUTES,
            session_idle_minutes=TOKEN_MINUTES,
            env="test",
            log_level="WARNING",
        )
        from shared.db.migrate import upgrade_all

        upgrade_all(settings)
        org = await make_org(settings)
        now = datetime.now(UTC)
        result["seed"] = await seed(pg.url(), org, texts, n, now)
        print("seed", result["seed"], flush=True)
        env = dict(
            os.environ,
            MINSHENG_DATABASE_URL=pg.url(),
            MINSHENG_REDIS_URL=redis.url(),
            MINSHENG_LOG_LEVEL="WARNING",
            MINSHENG_ENV="test",
            MINSHENG_ACCESS_TOKEN_MINUTES=str(TOKEN_MINUTES),
            MINSHENG_SESSION_IDLE_MINUTES=str(TOKEN_MINUTES),
            MINSHENG_DATA_DIR=str(root / "data"),
        )
        api, base = await start_api(env, root, workers=1)
        sqls = {
            s.name: await capture_sql(settings, org.tokens[s.who or ""], s.params)
            for s in SCENARIOS
        }
        result["sql"] = {k: [sql for sql, _ in v] for k, v in sqls.items()}
        result["explain"] = {}
        for s in SCENARIOS:
            plan, ms = await explain(pg.url(), sqls[s.name])
            result["explain"][s.name] = {"ms": ms, "plan": plan, "statements": len(sqls[s.name])}
            print(f"explain {s.name}: {ms} ms", flush=True)
        result["rounds"] = []
        for k in range(rounds):
            print(f"round {k + 1}", flush=True)
            result["rounds"].append(await measure_round(base, pg.url(), org, sqls, seconds))
        stop_api(api)
        api = None
        if scaled:
            api, base = await start_api(env, root, workers=SCALED_WORKERS)
            result["scaled_rounds"] = []
            for k in range(rounds):
                print(f"round {k + 1} with {SCALED_WORKERS} API processes", flush=True)
                result["scaled_rounds"].append(
                    await measure_round(base, pg.url(), org, sqls, seconds)
                )
            stop_api(api)
            api = None
        result["sweep"] = await sweep_run(settings, pg.url())
        print("sweep", result["sweep"], flush=True)
    finally:
        if api is not None:
            stop_api(api)
        redis.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    path = write(name, result, report(result))
    print(path.read_text())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--no-scaled", action="store_true", help=f"skip the {SCALED_WORKERS}-process series"
    )
    parser.add_argument("--quick", action="store_true", help="100,000 cases, 5 s, 1 round")
    a = parser.parse_args()
    if a.quick:
        a.cases, a.seconds, a.rounds = 100_000, 5.0, 1
    asyncio.run(
        main(
            a.cases,
            a.seconds,
            a.rounds,
            not a.no_scaled,
            "casework-quick" if a.quick else "casework",
        )
    )
