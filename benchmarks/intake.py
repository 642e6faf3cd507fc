"""Benchmark of intake's 12345 endpoints (intake issue): single-order pushes at 8 and 32
concurrent clients and a batch push of 500, through the real API process (uvicorn, signed
requests, PostgreSQL, outbox), beside the raw asyncpg INSERT and executemany rates of the
same petition rows measured in the same run.

Run: `.venv/bin/python benchmarks/intake.py [--quick]` → benchmarks/results/intake.{json,md}
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx

from benchmarks.common import WRK, parse_wrk, percentile, write
from benchmarks.importer import server_cpu
from minsheng.embedded import EmbeddedPostgres, EmbeddedRedis, free_port, port_open
from shared.clock import system_clock
from shared.settings import DEV_HOTLINE_KEYS, Settings
from shared.signing import signed_headers

KEY_ID, SECRET = DEV_HOTLINE_KEYS.split(":", 1)


def order(n: int, tag: str) -> dict[str, Any]:
    return {
        "order_no": f"{tag}-{n:08d}",
        "revision": 1,
        "received_at": "2026-11-22T09:15:00+08:00",
        "channel": "phone",
        "caller": {"name": "张三", "phone": f"138{n % 10**8:08d}"},
        "anonymous": False,
        "title": "小区门口餐饮店油烟扰民",
        "content": "小区门口餐饮店每天傍晚油烟很大，影响居民生活，请求处理。" * 3,
        "category": "环境保护",
        "region_code": "440306",
        "address": "宝安区西乡街道某小区",
        "urgency": "normal",
    }


def signed(payload: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = signed_headers("Hotline", KEY_ID, SECRET.encode(), body, system_clock)
    return body, {**headers, "Content-Type": "application/json"}


async def single_pushes(base: str, n: int, clients: int, tag: str) -> dict[str, Any]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            body, headers = signed(order(i, tag))
            t = time.perf_counter()
            r = await client.post("/api/v1/hotline/work-orders", content=body, headers=headers)
            latencies.append(time.perf_counter() - t)
            assert r.status_code == 201, r.text

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        seconds = time.perf_counter() - t0
    return {
        "clients": clients,
        "orders": n,
        "per_s": round(n / seconds, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
    }


def lua_string(raw: str) -> str:
    return '"' + "".join(_LUA_ESCAPES.get(ch, ch) for ch in raw) + '"'


_LUA_ESCAPES = {"\\": "\\\\", '"': '\\"', "\r": "\\r", "\n": "\\n"}


async def wrk_pushes(
    base: str, clients: int, tag: str, seconds: float, pids: tuple[int, int], folder: Path
) -> dict[str, Any] | None:
    """Single pushes from wrk (C, one thread): every request signed beforehand with its own
    nonce and order number, and sent once, by a Lua script. Also the CPU time per push of the
    API process and of PostgreSQL. None when wrk is not installed."""
    if WRK is None:
        return None
    url = httpx.URL(base)
    n = int(seconds * 2500) + 500  # more than the server can take in the time: none is sent twice
    requests = []
    for i in range(n):
        body, headers = signed(order(i, tag))
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        requests.append(
            lua_string(
                f"POST /api/v1/hotline/work-orders HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
                f"{head}Content-Length: {len(body)}\r\n\r\n{body.decode()}"
            )
        )
    script = folder / f"{tag}.lua"
    script.write_text(
        "local requests = {" + ",\n".join(requests) + "}\nlocal i = 0\n"
        "request = function() i = i + 1; return requests[i] end\n"
    )
    api_cpu, db_cpu = server_cpu(pids[0]), server_cpu(pids[1])
    args = [WRK, "-t", "1", "-c", str(clients), "--latency", "-d", f"{seconds:g}s", "-s"]
    proc = await asyncio.create_subprocess_exec(*args, str(script), base, stdout=subprocess.PIPE)
    out, _ = await proc.communicate()
    got = parse_wrk(out.decode(), seconds)
    script.unlink()
    assert got["requests"] < n, "wrk ran out of signed requests"
    assert got["errors"] == 0, out.decode()
    got["clients"] = clients
    got["api_cpu_ms_per_push"] = round((server_cpu(pids[0]) - api_cpu) / got["requests"] * 1e3, 2)
    got["postgres_cpu_ms_per_push"] = round(
        (server_cpu(pids[1]) - db_cpu) / got["requests"] * 1e3, 2
    )
    return got


async def batch_push(base: str, size: int, tag: str, repeats: int) -> dict[str, Any]:
    times = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for k in range(repeats):
            body, headers = signed({"orders": [order(i, f"{tag}{k}") for i in range(size)]})
            t = time.perf_counter()
            r = await client.post(
                "/api/v1/hotline/work-orders/batch", content=body, headers=headers
            )
            times.append(time.perf_counter() - t)
            assert r.status_code == 200 and all(
                x["http_status"] == 201 for x in r.json()["results"]
            ), r.text[:500]
    median = sorted(times)[len(times) // 2]
    return {
        "batch_size": size,
        "repeats": repeats,
        "median_s": round(median, 3),
        "max_s": round(max(times), 3),
        "orders_per_s": round(size / median, 1),
    }


async def raw_rates(url: str, seconds: float) -> dict[str, float]:
    """The same petition row with plain asyncpg: INSERT on 1 and 32 connections; executemany."""
    conn = await asyncpg.connect(url)
    await conn.execute("DROP TABLE IF EXISTS public.bench_petition")
    await conn.execute("CREATE TABLE public.bench_petition (LIKE intake.petition INCLUDING ALL)")
    sql = (
        "INSERT INTO public.bench_petition (case_id, tracking_no, query_code_hash, source, "
        "channel, title, content, region_code, received_at, pii_enc, status) VALUES "
        "($1, $2, $3, 'hotline', 'phone', $4, $5, '440306', now(), $6, 'received')"
    )
    blob = "v1.dev1." + "x" * 160

    def row() -> tuple[Any, ...]:
        return (
            uuid.uuid4(),
            uuid.uuid4().hex,
            "h" * 64,
            "小区门口餐饮店油烟扰民",
            "内容" * 60,
            blob,
        )

    async def one(c: asyncpg.Connection, k: int) -> None:
        await c.execute(sql, *row())

    async def together(c: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
        await c.executemany(sql, rows)

    got = await write_rates(url, conn, seconds, one, lambda ks: [row() for _ in ks], together)
    await conn.execute("DROP TABLE public.bench_petition")
    await conn.close()
    return {
        "insert_1_conn_per_s": got["one_1_conn_per_s"],
        "insert_32_conn_per_s": got["one_32_conn_per_s"],
        "executemany_500_s": got["together_500_s"],
        "executemany_rows_per_s": round(500 / got["together_500_s"], 1),
    }


async def write_rates(
    url: str,
    conn: asyncpg.Connection,
    seconds: float,
    one: Callable[[asyncpg.Connection, int], Awaitable[None]],
    prepare: Callable[[list[int]], Any],
    together: Callable[[asyncpg.Connection, Any], Awaitable[None]],
) -> dict[str, float]:
    """Writes per second of ``one`` (unit ``k``) on ``conn`` alone and on 32 connections for
    ``seconds`` each; and the median time of ``together`` (5 tries) writing 500 units, their
    values made by ``prepare`` beforehand, outside the timing."""
    counter = itertools.count()

    async def loop(c: asyncpg.Connection, stop: float) -> int:
        n = 0
        while time.perf_counter() < stop:
            await one(c, next(counter))
            n += 1
        return n

    stop = time.perf_counter() + seconds
    alone = await loop(conn, stop) / seconds
    conns = [await asyncpg.connect(url) for _ in range(32)]
    stop = time.perf_counter() + seconds
    many = sum(await asyncio.gather(*(loop(c, stop) for c in conns))) / seconds
    for c in conns:
        await c.close()
    times = []
    for _ in range(5):
        values = prepare([next(counter) for _ in range(500)])
        t = time.perf_counter()
        await together(conn, values)
        times.append(time.perf_counter() - t)
    return {
        "one_1_conn_per_s": round(alone, 1),
        "one_32_conn_per_s": round(many, 1),
        "together_500_s": round(sorted(times)[2], 4),
    }


# The rows one new order writes in intake (besides its person and identifiers when the caller
# is new), in an order their foreign keys allow: what "the same rows" baseline writes again.
PUSH_TABLES = (
    "petition",
    "petitioner",
    "external_ref",
    "partner_nonce",
    "outbox_event",
    "outbox_aggregate",
    "outbox_delivery",
)


class SameRows:
    """The rows a pushed order wrote, read back from intake's tables, and written again with
    fresh keys into copies of those tables (schema ``bench``: the same columns, defaults,
    identities, indexes and foreign keys) by plain asyncpg: the database's own cost of the
    rows a push must write, without HTTP, signature, validation, encryption or SQLAlchemy."""

    def __init__(self, template: dict[str, list[asyncpg.Record]]) -> None:
        self.template = template
        self.position = 10**12  # outbox positions, given explicitly (no RETURNING round trip)
        self.sql = {
            t: "INSERT INTO bench.{} ({}) {}VALUES ({})".format(
                t,
                ", ".join(f'"{c}"' for c in self.columns(t)),
                "OVERRIDING SYSTEM VALUE " if t == "outbox_event" else "",
                ", ".join(f"${i + 1}" for i in range(len(self.columns(t)))),
            )
            for t in PUSH_TABLES
        }

    def columns(self, table: str) -> list[str]:
        # the delivery's own id is left to its identity
        return [c for c in self.template[table][0].keys() if c != "delivery_id"]

    @classmethod
    async def prepare(cls, conn: asyncpg.Connection, order_no: str) -> SameRows:
        case_id = await conn.fetchval(
            "SELECT case_id FROM intake.external_ref WHERE system = 'hotline' AND external_id = $1",
            order_no,
        )
        event = await conn.fetchrow(
            "SELECT * FROM intake.outbox_event WHERE aggregate_id = $1", str(case_id)
        )
        template = {
            "petition": await conn.fetch(
                "SELECT * FROM intake.petition WHERE case_id = $1", case_id
            ),
            "petitioner": await conn.fetch(
                "SELECT * FROM intake.petitioner WHERE case_id = $1", case_id
            ),
            "external_ref": await conn.fetch(
                "SELECT * FROM intake.external_ref WHERE case_id = $1", case_id
            ),
            "partner_nonce": await conn.fetch("SELECT * FROM intake.partner_nonce LIMIT 1"),
            "outbox_event": [event],
            "outbox_aggregate": await conn.fetch(
                "SELECT * FROM intake.outbox_aggregate WHERE aggregate_id = $1", str(case_id)
            ),
            "outbox_delivery": await conn.fetch(
                "SELECT * FROM intake.outbox_delivery WHERE position = $1", event["position"]
            ),
        }
        assert all(template.values()), {t: len(r) for t, r in template.items()}
        await conn.execute("DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench")
        for t in ("person", *PUSH_TABLES):
            await conn.execute(f"CREATE TABLE bench.{t} (LIKE intake.{t} INCLUDING ALL)")
        for t in PUSH_TABLES:
            for name, definition in await conn.fetch(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = $1::regclass AND contype = 'f'",
                f"intake.{t}",
            ):
                definition = definition.replace("REFERENCES intake.", "REFERENCES bench.")
                await conn.execute(f"ALTER TABLE bench.{t} ADD CONSTRAINT {name} {definition}")
        await conn.execute(
            "INSERT INTO bench.person SELECT * FROM intake.person WHERE person_id = ANY($1)",
            list({r["person_id"] for r in template["petition"] + template["petitioner"]}),
        )
        return cls(template)

    def order_rows(self, k: int) -> list[tuple[str, list[tuple[Any, ...]]]]:
        """Order ``k``'s rows, per table: the template's with fresh keys."""
        case_id, self.position = uuid.uuid4(), self.position + 1
        fresh = {
            "case_id": case_id,
            "tracking_no": f"BENCH{k:011d}",
            "external_id": f"bench-{k}",
            "nonce": f"bench-{k}",
            "event_id": uuid.uuid4(),
            "aggregate_id": str(case_id),
            "position": self.position,
        }
        return [
            (
                t,
                [tuple(fresh.get(c, r[c]) for c in self.columns(t)) for r in self.template[t]],
            )
            for t in PUSH_TABLES
        ]

    async def one_order(self, conn: asyncpg.Connection, k: int) -> None:
        async with conn.transaction():
            for t, rows in self.order_rows(k):
                for row in rows:
                    await conn.execute(self.sql[t], *row)

    def rows_of(self, ks: list[int]) -> dict[str, list[tuple[Any, ...]]]:
        """The rows of orders ``ks``, per table."""
        per_table: dict[str, list[tuple[Any, ...]]] = {t: [] for t in PUSH_TABLES}
        for k in ks:
            for t, rows in self.order_rows(k):
                per_table[t] += rows
        return per_table

    async def many_orders(
        self, conn: asyncpg.Connection, per_table: dict[str, list[tuple[Any, ...]]]
    ) -> None:
        async with conn.transaction():
            for t in PUSH_TABLES:
                await conn.executemany(self.sql[t], per_table[t])


async def same_rows_rates(url: str, order_no: str, seconds: float) -> dict[str, float]:
    """The rows a push of ``order_no`` wrote, written again by plain asyncpg: one order per
    transaction on 1 and 32 connections; 500 orders by executemany in one transaction."""
    conn = await asyncpg.connect(url)
    same = await SameRows.prepare(conn, order_no)
    got = await write_rates(url, conn, seconds, same.one_order, same.rows_of, same.many_orders)
    await conn.execute("DROP SCHEMA bench CASCADE")
    await conn.close()
    return {
        "rows_per_order": sum(len(r) for r in same.template.values()),
        "insert_1_conn_per_s": got["one_1_conn_per_s"],
        "insert_32_conn_per_s": got["one_32_conn_per_s"],
        "executemany_500_s": got["together_500_s"],
        "executemany_orders_per_s": round(500 / got["together_500_s"], 1),
    }


def medians(runs: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """Each numeric field's median over the rounds (the middle one of three)."""
    if any(r is None for r in runs):
        return None
    first = runs[0]
    assert first is not None
    return {
        k: sorted(r[k] for r in runs if r is not None)[len(runs) // 2]
        if isinstance(v, int | float) and not isinstance(v, bool)
        else v
        for k, v in first.items()
    }


def report(result: dict[str, Any]) -> str:
    b, same, s8, s32, bt = (
        result["baseline"],
        result["same_rows"],
        result["single_8"],
        result["single_32"],
        result["batch_500"],
    )
    w8, w32 = result["wrk_8"], result["wrk_32"]

    def yes(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    rows = []
    for gen, r32, r8 in (("wrk", w32, w8), ("httpx", s32, s8)):
        if r32 is None or r8 is None:
            continue
        judged = gen == "wrk" or w32 is None
        ratio32 = r32["per_s"] / same["insert_32_conn_per_s"]
        rows.append(
            f"| single push, 32 clients, {gen} | {r32['per_s']}/s, p99 {r32['p99_ms']} ms "
            f"| {same['insert_32_conn_per_s']}/s | {ratio32:.3f} "
            f"| {b['insert_32_conn_per_s']}/s | {r32['per_s'] / b['insert_32_conn_per_s']:.3f} "
            f"| ≥ 0.30 of the same rows: {yes(ratio32 >= 0.30) if judged else 'not judged'} |"
        )
        rows.append(
            f"| single push, 8 clients, {gen} | {r8['per_s']}/s, p50 {r8['p50_ms']} ms, "
            f"p99 {r8['p99_ms']} ms | {same['insert_1_conn_per_s']}/s (1 connection) "
            f"| {r8['per_s'] / same['insert_1_conn_per_s']:.3f} "
            f"| {b['insert_1_conn_per_s']}/s (1 connection) "
            f"| {r8['per_s'] / b['insert_1_conn_per_s']:.3f} "
            f"| p99 ≤ 50 ms: {yes(r8['p99_ms'] <= 50) if judged else 'not judged'} |"
        )
    batch_ratio = bt["orders_per_s"] / same["executemany_orders_per_s"]
    rows.append(
        f"| batch of 500 | median {bt['median_s']} s (max {bt['max_s']} s), "
        f"{bt['orders_per_s']} orders/s | {same['executemany_500_s']} s, "
        f"{same['executemany_orders_per_s']} orders/s | {batch_ratio:.3f} "
        f"| {b['executemany_500_s']} s, {b['executemany_rows_per_s']} rows/s "
        f"| {bt['orders_per_s'] / b['executemany_rows_per_s']:.3f} "
        f"| well inside 10 s (max < 2 s): {yes(bt['max_s'] < 2)}; ≥ 0.50 of the same rows: "
        f"{yes(batch_ratio >= 0.5)} |"
    )
    cpu = (
        f"\nCPU per single push (wrk, 8 clients): API process {w8['api_cpu_ms_per_push']} ms "
        f"+ PostgreSQL {w8['postgres_cpu_ms_per_push']} ms; at 32 clients "
        f"{w32['api_cpu_ms_per_push']} + {w32['postgres_cpu_ms_per_push']} ms.\n"
        if w8 is not None and w32 is not None
        else ""
    )
    return (
        "Single-order pushes and a batch of 500 through the intake API process (one uvicorn "
        "process; signed requests; each order validated, linked to its person, encrypted, "
        "stored with its outbox event; a single push and a whole batch each in one "
        "transaction, through the same set-based `take_in_many`), beside raw asyncpg writes "
        "in the same run. No workers ran: this measures intake's write path alone. The "
        "machine is shared: the load average above says how busy it was; compare ratios, "
        "not absolute rates.\n\n"
        "Two baselines, both plain asyncpg from one Python process:\n\n"
        f"- **the same rows** (the goals are judged on it): the {same['rows_per_order']} rows "
        "one new order writes in intake (petition, petitioner, external ref, nonce, outbox "
        "event, its aggregate counter and one delivery per consumer), read back from a pushed "
        "order and written again with fresh keys into copies of those tables (the same "
        "columns, indexes and foreign keys): one INSERT per row and one transaction per order "
        "(on 1 and on 32 connections), or 500 orders by executemany per table in one "
        "transaction;\n"
        "- **one bare petition row**: one INSERT of a petition row per transaction, or 500 by "
        "executemany (the only baseline of earlier runs).\n\n"
        "Single pushes come from two load generators in turn: httpx (Python, on the same two "
        "cores, taking about as much CPU per request as the server) and wrk (C, one thread; "
        "each request signed beforehand with its own nonce and order number, sent once). The "
        "goals are judged on the wrk series when wrk is installed.\n\n"
        f"The same-rows baseline, the batch and the wrk series ran in {len(result['rounds'])} "
        "round(s), one after another; the table shows each figure's median over the rounds "
        "(every round is in the JSON file). The httpx series and the bare-row baseline ran "
        "once, before them.\n\n"
        "| measure | figure | the same rows | ratio | one bare petition row | ratio | goal |\n"
        "|---|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n"
        + cpu
        + f"\nCPU per batch of 500: API process {bt['api_cpu_ms']} ms (HTTP, signature, JSON, "
        f"validation, person keys, redaction, encryption, events) + PostgreSQL "
        f"{bt['postgres_cpu_ms']} ms (petition, petitioner, external ref, person rows and "
        f"their indexes and foreign keys; outbox event and one delivery per consumer; commit) "
        f"= {(bt['api_cpu_ms'] + bt['postgres_cpu_ms']) / 500 * 1000:.0f} µs per order.\n"
    )


async def main(quick: bool) -> None:
    root = Path(tempfile.mkdtemp(prefix="minsheng-bench-intake-"))
    pg, redis = EmbeddedPostgres(root / "pg"), EmbeddedRedis(root / "redis")
    api: subprocess.Popen[bytes] | None = None
    try:
        pg.start()
        redis.start()
        from shared.db.migrate import upgrade_all

        upgrade_all(Settings(database_url=pg.url(), redis_url=redis.url()))
        port = free_port()
        env = dict(
            os.environ,
            MINSHENG_DATABASE_URL=pg.url(),
            MINSHENG_REDIS_URL=redis.url(),
            MINSHENG_LOG_LEVEL="WARNING",
            MINSHENG_ENV="test",
            MINSHENG_DATA_DIR=str(root / "data"),
        )
        api = subprocess.Popen(
            [sys.executable, "-m", "minsheng.cli", "serve", "intake", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(root / "api.log").open("ab"),
        )
        assert pg.process is not None
        while not port_open(port):
            await asyncio.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        n = 400 if quick else 2000
        result: dict[str, Any] = {"quick": quick}
        await single_pushes(base, 100, 8, "warm")
        result["baseline"] = await raw_rates(pg.url(), 2.0 if quick else 4.0)
        print("baseline", result["baseline"], flush=True)
        result["single_8"] = await single_pushes(base, n, 8, "s8")
        print(result["single_8"], flush=True)
        result["single_32"] = await single_pushes(base, n, 32, "s32")
        print(result["single_32"], flush=True)
        # then rounds of the baseline beside the batch and the wrk series, for medians: the
        # machine is shared, and its pace moves between minutes
        rounds = []
        for r in range(1 if quick else 3):
            got: dict[str, Any] = {
                "same_rows": await same_rows_rates(pg.url(), "warm-00000050", 2.0 if quick else 4.0)
            }
            api_cpu, db_cpu = server_cpu(api.pid), server_cpu(pg.process.pid)
            got["batch_500"] = batch = await batch_push(base, 500, f"b{r}-", 3 if quick else 5)
            batch["api_cpu_ms"] = round((server_cpu(api.pid) - api_cpu) / batch["repeats"] * 1e3)
            batch["postgres_cpu_ms"] = round(
                (server_cpu(pg.process.pid) - db_cpu) / batch["repeats"] * 1e3
            )
            for clients in (8, 32):
                got[f"wrk_{clients}"] = await wrk_pushes(
                    base,
                    clients,
                    f"w{clients}r{r}",
                    3.0 if quick else 8.0,
                    (api.pid, pg.process.pid),
                    root,
                )
            print(f"round {r + 1}", got, flush=True)
            rounds.append(got)
        result["rounds"] = rounds
        for key in ("same_rows", "batch_500", "wrk_8", "wrk_32"):
            result[key] = medians([g[key] for g in rounds])
    finally:
        if api is not None:
            api.terminate()
            api.wait(20)
        redis.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    md = report(result)
    path = write("intake" if not quick else "intake-quick", result, md)
    print(path.read_text())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    asyncio.run(main(parser.parse_args().quick))
