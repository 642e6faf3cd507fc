"""日快报, 周预警, 月研判 rendered: HTML holding the figures, PDF that pypdf reads back, scoping
(a district sees its district), the statistics tables as .xlsx with the numbers of the
hand-built history, and the 12:05 cron storing each district's 日快报 once."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import text

from services.analytics.app import create_app
from services.analytics.worker import daily_reports
from shared.bus import BusContext
from shared.bus.worker import open_redis
from shared.clock import FixedClock
from shared.db import Database
from shared.reference import regions
from shared.settings import Settings
from tests.integration.test_analytics_api import token, unit
from tests.integration.test_analytics_metrics import History, build, consumer, deliver

pytestmark = pytest.mark.asyncio(loop_scope="session")

R = "/api/v1/analytics/reports"


@pytest_asyncio.fixture(loop_scope="session")
async def store_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings.model_copy(update={"data_dir": Path(tmp_path_factory.mktemp("reports"))})


@pytest_asyncio.fixture(loop_scope="session")
async def client(store_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def history(db: Database, settings: Settings) -> History:
    h = History(db)
    await build(h)
    await deliver(await consumer(db, settings), h.log)
    # a hand-built screening ledger: two items in 宝安 (week of 3 March), one in 罗湖, and
    # the accusation H (red) that only discipline roles see in lists
    items = [
        ("G", "集体访：诉求G", "red", ["集体访 6 人"], "U1", date(2025, 3, 4), "open"),
        ("C", "诉求C", "orange", ["逾期", "不满意"], "U1", date(2025, 3, 5), "open"),
        ("B", "诉求B", "yellow", ["延期"], "U1", date(2025, 3, 20), "cleared"),
        ("J", "诉求J", "yellow", ["扬言"], "LUOHU", date(2025, 3, 6), "open"),
        ("H", "诉求H", "red", ["检举控告"], "U1", date(2025, 3, 6), "open"),
    ]
    async with db.transaction("analytics") as conn:
        for name, matter, level, reasons, owner, found, status in items:
            c = h.cases[name]
            await conn.execute(
                text(
                    "INSERT INTO analytics.screening_item (case_id, matter, level, reasons, "
                    "owner_unit, region_code, accusation, found_on, due_on, status, updated_at) "
                    "VALUES (:id, :m, :l, :r, :o, :reg, :acc, :f, CAST(:f AS date) + 7, :s, now())"
                ),
                {
                    "id": c["id"],
                    "m": matter,
                    "l": level,
                    "r": reasons,
                    "o": owner,
                    "reg": c["region"],
                    "acc": name == "H",
                    "f": found,
                    "s": status,
                },
            )
    return h


def pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))


async def get(c: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> bytes:
    r = await c.get(R + path, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.content


async def test_reports_render_with_their_figures_and_scope(
    client: httpx.AsyncClient, db: Database, settings: Settings, clean: None
) -> None:
    await history(db, settings)
    analyst = await token(db, settings, await unit(db, "440306"), "analyst")
    luohu = await token(db, settings, await unit(db, "440303"), "leader")

    # 日快报 of 6 March: 5 March 12:00 → 6 March 12:00, D (an individual visit) only
    html = (await get(client, "/daily.html", analyst, date="2025-03-06")).decode()
    assert "信访日快报" in html and "宝安区" in html
    assert "本期共收到信访事项 1 件、1 人次" in html
    assert "<svg" in html and "来访" in html
    text_ = pdf_text(await get(client, "/daily.pdf", analyst, date="2025-03-06"))
    assert "信访日快报" in text_ and "本期共收到信访事项1件、1人次" in text_

    # 周预警 of 3–9 March: 7 received in 宝安 (A–I less G), none the week before
    html = (await get(client, "/weekly.html", analyst, date="2025-03-09")).decode()
    assert "本周收件 7 件，上周 0 件" in html
    # new risks: G and C found that week; H (accusation) not listed for an analyst
    assert "排查台账新增风险事项 2 件：红色1件，橙色1件" in html
    assert "诉求H" not in html and "逾期；不满意" in html
    text_ = pdf_text(await get(client, "/weekly.pdf", analyst, date="2025-03-09"))
    assert "信访周预警" in text_ and "本周收件7件" in text_

    # 月研判 of March: 8 received in 宝安 (G in April); no figures a year earlier
    html = (await get(client, "/monthly.html", analyst, date="2025-03-15")).decode()
    assert "本月收件 8 件，去年同月 0 件" in html
    assert "单位排名" in html and "近十二个月收件" in html
    # the ledger items of March in 宝安: G, C and B (H left out)
    assert "排查台账新增风险事项 3 件" in html
    text_ = pdf_text(await get(client, "/monthly.pdf", analyst, date="2025-03-15"))
    assert "信访月研判" in text_ and "本月收件8件" in text_

    # 罗湖 sees its own: J on 11 March, nothing of 宝安
    html = (await get(client, "/daily.html", luohu, date="2025-03-11")).decode()
    assert "罗湖区" in html and "本期共收到信访事项 1 件" in html and "宝安区" not in html
    html = (await get(client, "/daily.html", analyst, date="2025-03-11")).decode()
    assert "本期共收到信访事项 0 件" in html
    html = (await get(client, "/monthly.html", luohu, date="2025-03-01")).decode()
    assert "本月收件 1 件" in html and "排查台账新增风险事项 1 件：黄色1件" in html

    assert (await client.get(R + "/daily.html")).status_code == 401
    assert (await client.get(R + "/daily.docx", headers=analyst)).status_code == 422


async def test_statistics_tables_as_xlsx(
    client: httpx.AsyncClient, db: Database, settings: Settings, clean: None
) -> None:
    await history(db, settings)
    analyst = await token(db, settings, await unit(db, "440306"), "analyst")
    inspector = await token(
        db, settings, await unit(db, "440306", "discipline"), "discipline_inspector"
    )
    q = {"start": "2025-01-01", "end": "2025-12-31"}

    def sheet(body: bytes, name: str) -> list[tuple[Any, ...]]:
        return list(load_workbook(io.BytesIO(body))[name].iter_rows(values_only=True))

    # 矛盾纠纷排查表: 宝安's items, most severe first; H only for discipline roles
    body = await get(client, "/screening-ledger.xlsx", analyst, **q)
    rows = sheet(body, "矛盾纠纷排查表")
    assert rows[1][:3] == ("序号", "矛盾纠纷事项", "风险等级")
    assert [(r[1], r[2], r[8]) for r in rows[2:]] == [
        ("集体访：诉求G", "红色", "在办"),
        ("诉求C", "橙色", "在办"),
        ("诉求B", "黄色", "已销号"),
    ]
    rows = sheet(await get(client, "/screening-ledger.xlsx", inspector, **q), "矛盾纠纷排查表")
    assert len(rows) == 2 + 4

    # 排查汇总统计分析一览表: by level × category × district
    body = await get(client, "/screening-summary.xlsx", analyst, **q)
    by_region = sheet(body, "按地区")
    assert by_region[1] == ("地区", "红色", "橙色", "黄色", "蓝色", "合计", "在办", "已销号")
    baoan = regions.full_name("440306")
    assert by_region[2] == (f"{baoan}（440306）", 1, 1, 1, 0, 3, 2, 1)
    assert by_region[-1] == ("合计", 1, 1, 1, 0, 3, 2, 1)
    cross = sheet(body, "地区×类别")
    assert len(cross) == 3 and cross[2][2:] == (1, 1, 1, 0, 3)  # all in C01
    body = await get(client, "/screening-summary.xlsx", inspector, **q)
    assert sheet(body, "按地区")[-1] == ("合计", 2, 1, 1, 0, 4, 3, 1)

    # 化解汇总统计分析一览表: 办结 A B C E of A B C E H I due (D withdrawn); resolved all four;
    # resolved once: E only. The district row leaves out the accusation H for an analyst,
    # the total counts it.
    body = await get(client, "/resolution-summary.xlsx", analyst, **q)
    rows = sheet(body, "按地区")
    assert rows[1][:7] == (
        "分组",
        "收件",
        "应办结",
        "办结率分子",
        "办结率",
        "办结率去年同期",
        "办结率同比（百分点）",
    )
    district, total = rows[2], rows[-1]
    assert district[0] == f"{baoan}（440306）"
    assert district[1:5] == (8, 5, 4, "80.0%")
    assert total[0] == "合计" and total[1:5] == (9, 6, 4, "66.7%")
    assert total[7:9] == (4, "66.7%")  # 化解率
    assert total[11:13] == (1, "16.7%")  # 一次性化解率
    cats = sheet(body, "按类别")
    assert [r[0] for r in cats[2:]][-1] == "合计"

    # 信访数据统计表 still there
    body = await get(client, "/statistics.xlsx", analyst, **q)
    assert sheet(body, "按地区")[-1][:2] == ("合计", 9)


async def test_daily_cron_stores_each_district_once(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    store_settings: Settings,
    clean: None,
) -> None:
    await history(db, settings)
    at = datetime(2025, 3, 6, 4, 5, tzinfo=UTC)  # 12:05 in Shanghai
    bus = BusContext(
        service="analytics",
        settings=store_settings,
        db=db,
        redis=await open_redis(settings),
        clock=FixedClock(at),
    )
    districts = len(regions.districts())
    assert await daily_reports({"bus": bus}) == 2 * districts  # HTML and PDF each
    assert await daily_reports({"bus": bus}) == 0  # once per period
    async with db.transaction("analytics") as conn:
        n = await conn.scalar(text("SELECT count(*) FROM analytics.generated_report"))
    assert n == 2 * districts

    analyst = await token(db, settings, await unit(db, "440306"), "analyst")
    listed = (await client.get(R + "/archive", headers=analyst)).json()
    assert [(r["kind"], r["region_code"], r["period_start"], r["format"]) for r in listed] == [
        ("daily", "440306", "2025-03-06", "html"),
        ("daily", "440306", "2025-03-06", "pdf"),
    ]
    pdf_row = listed[1]
    r = await client.get(f"{R}/archive/{pdf_row['id']}", headers=analyst)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "本期共收到信访事项1件" in pdf_text(r.content)
    # another district's report is not within 宝安's reach
    luohu = await token(db, settings, await unit(db, "440303"), "leader")
    assert (await client.get(f"{R}/archive/{pdf_row['id']}", headers=luohu)).status_code == 404
    street = await token(db, settings, await unit(db, "440306001"), "analyst")
    assert (await client.get(R + "/archive", headers=street)).json() == []


async def test_cli_writes_a_report_and_a_table(
    db: Database, settings: Settings, clean: None, tmp_path: Path
) -> None:
    import argparse
    import asyncio
    import contextlib

    from minsheng.analytics_cli import cmd_report

    await history(db, settings)

    def run(kind: str, fmt: str | None, output: Path, **kw: Any) -> int:
        args = argparse.Namespace(
            kind=kind,
            date=kw.get("date"),
            start=kw.get("start"),
            end=kw.get("end"),
            region=kw.get("region", "440306"),
            discipline=False,
            format=fmt,
            output=output,
        )
        with contextlib.redirect_stdout(io.StringIO()):
            return cmd_report(args)

    pdf = tmp_path / "monthly.pdf"
    assert await asyncio.to_thread(run, "monthly", None, pdf, date=date(2025, 3, 1)) == 0
    assert "本月收件8件" in pdf_text(pdf.read_bytes())
    table = tmp_path / "resolution.xlsx"
    span = {"start": date(2025, 1, 1), "end": date(2025, 12, 31)}
    assert await asyncio.to_thread(run, "resolution-summary", None, table, **span) == 0
    rows = list(load_workbook(table)["按地区"].iter_rows(values_only=True))
    assert rows[-1][:5] == ("合计", 9, 6, 4, "66.7%")
    assert await asyncio.to_thread(run, "daily", "xlsx", tmp_path / "x", **span) == 2
    assert await asyncio.to_thread(run, "daily", None, tmp_path / "x", region="深圳") == 2
