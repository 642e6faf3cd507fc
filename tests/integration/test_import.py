"""Bulk import against the real PostgreSQL: a small file written here (CSV and xlsx), the
error report, idempotent re-import, enrichment by a second file, resume after a crash; then
every real file in ../shared/data that has a mapping (skipped when the folder is absent)."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
import pytest
from openpyxl import Workbook
from sqlalchemy import text

from services.intake.importer import service as import_service
from services.intake.importer.reader import read_rows
from services.intake.importer.service import ImportResult, checkpoint_path, run_import
from shared.clock import SHANGHAI
from shared.db import Database
from shared.security import keys_for
from shared.settings import Settings
from tests.conftest import shared_data

pytestmark = pytest.mark.asyncio(loop_scope="session")

COLUMNS = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "一级标签", "点赞数"]
ROWS = [
    [
        "1001",
        "U001",
        "小区门口油烟扰民",
        "2019/2/28 11:25:05",
        "油烟很大，请处理。",
        "环境保护",
        "3",
    ],
    [
        "1002",
        "U001",
        "油烟问题再次反映",
        "2019-03-08 17:31:20",
        "上次反映后仍未处理。",
        "环境保护",
        "0",
    ],
    ["1003", "U002", "长" * 250, "2019/3/9 8:05", "标题过长的留言。", "城乡建设", ""],
    ["1004", "U003", "", "2019/3/10", "没有主题的留言，正文足够长可以作为标题。", "", "x"],
    ["1005", "U004", "空内容", "2019/3/11 10:00:00", "", "教育文体", "1"],
    ["1006", "U005", "时间不对", "2019年3月12日", "时间写成了中文。", "教育文体", "1"],
]
GOOD = 4  # 1005 has no text, 1006 an unreadable date


def write_csv(path: Path, rows: list[list[str]], columns: list[str] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:  # with a BOM, as Excel saves
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


async def q(db: Database, sql: str, **params: Any) -> Any:
    async with db.transaction("intake") as conn:
        return await conn.scalar(text(sql), params)


async def rows_of(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction("intake") as conn:
        return list((await conn.execute(text(sql), params)).all())


async def counts(db: Database) -> tuple[int, int, int, int]:
    return (
        await q(db, "SELECT count(*) FROM intake.petition"),
        await q(db, "SELECT count(*) FROM intake.external_ref"),
        await q(db, "SELECT count(*) FROM intake.outbox_event"),
        await q(db, "SELECT count(*) FROM intake.external_copy"),
    )


def report_rows(result: ImportResult) -> list[dict[str, str]]:
    with result.report_path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


async def run(settings: Settings, path: Path, mapping: str, **kw: Any) -> ImportResult:
    kw.setdefault("report_path", path.with_suffix(".report.csv"))
    return await run_import(settings, path, mapping, progress=False, **kw)


async def test_csv_imported_once_with_a_report_of_bad_rows(
    settings: Settings, db: Database, clean: None, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "teddy.csv", ROWS)
    first = await run(settings, source, "teddy2020", batch_size=4)
    assert (first.rows_in, first.imported, first.repeated, first.rejected) == (6, GOOD, 0, 2)
    assert first.finished and not checkpoint_path(first.report_path).exists()
    reported = {(r["row_no"], r["external_id"], r["field"], r["code"]) for r in report_rows(first)}
    assert reported == {
        ("6", "1005", "留言详情", "required"),
        ("7", "1006", "留言时间", "invalid_datetime"),
    }

    stored = {
        r.external_id: r
        for r in await rows_of(
            db,
            "SELECT r.external_id, p.* FROM intake.external_ref r JOIN intake.petition p "
            "USING (case_id) WHERE r.system = 'import:teddy2020'",
        )
    }
    assert set(stored) == {"1001", "1002", "1003", "1004"}
    p1 = stored["1001"]
    assert (p1.source, p1.channel, p1.region_code) == ("mayor_mailbox", "online", "440306")
    assert p1.received_at == datetime(2019, 2, 28, 11, 25, 5, tzinfo=SHANGHAI)
    assert (p1.source_category, p1.category_code, p1.public_attention) == ("环境保护", "C05", 3)
    assert {"field": "region_code", "code": "region_defaulted"} in p1.quality_flags
    assert stored["1002"].person_id == p1.person_id  # the same pseudonymous user
    assert stored["1003"].person_id != p1.person_id
    assert len(stored["1003"].title) == 200
    assert {"field": "留言主题", "code": "title_truncated"} in stored["1003"].quality_flags
    p4 = stored["1004"]
    assert p4.title == "没有主题的留言，正文足够长可以作为标题。"
    assert p4.public_attention is None and p4.category_code is None
    assert {f["code"] for f in p4.quality_flags} >= {"title_derived", "invalid_number"}
    ring = keys_for(settings).ring
    for p in stored.values():  # history is never texted: no phone anywhere
        assert orjson.loads(ring.decrypt_text(p.pii_enc))["phone"] is None

    before = await counts(db)
    assert before == (GOOD, GOOD, GOOD, 0)
    again = await run(settings, source, "teddy2020")
    assert (again.rows_in, again.imported, again.repeated, again.rejected) == (6, 0, GOOD, 2)
    assert again.enriched == 0
    assert await counts(db) == before


async def test_a_second_file_with_the_same_ids_enriches_not_duplicates(
    settings: Settings, db: Database, clean: None, tmp_path: Path
) -> None:
    await run(settings, write_csv(tmp_path / "full.csv", ROWS[:2]), "teddy2020")
    replied = write_csv(
        tmp_path / "replied.csv",
        [
            [*ROWS[0][:5], "已转交区环保局处理。", "2019/3/15 9:00:00"],
            ["2001", *ROWS[1][1:5], "", ""],
        ],
        [*COLUMNS[:5], "答复意见", "答复时间"],
    )
    result = await run(settings, replied, "teddy2020")
    assert (result.imported, result.repeated, result.enriched) == (1, 1, 1)
    assert await counts(db) == (3, 3, 3, 1)
    # the first version stays on the petition; the other is kept once, for the record
    p = await rows_of(
        db,
        "SELECT p.source_category, p.public_attention FROM intake.external_ref r "
        "JOIN intake.petition p USING (case_id) WHERE r.external_id = '1001'",
    )
    assert (p[0].source_category, p[0].public_attention) == ("环境保护", 3)
    copy = await q(db, "SELECT raw_enc FROM intake.external_copy WHERE external_id = '1001'")
    assert "已转交区环保局处理" in keys_for(settings).ring.decrypt_text(copy)
    again = await run(settings, replied, "teddy2020")
    assert (again.imported, again.repeated, again.enriched) == (0, 2, 0)
    assert await counts(db) == (3, 3, 3, 1)


async def test_resume_after_a_crash_continues_from_the_checkpoint(
    settings: Settings, db: Database, clean: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_csv(tmp_path / "teddy.csv", ROWS)
    real_store_many = import_service.petition_service.store_many

    async def crash_on_1004(db: Any, **kw: Any) -> Any:
        if any(p.external.external_id == "1004" for p in kw["prepared"]):
            raise RuntimeError("power cut")
        return await real_store_many(db, **kw)

    monkeypatch.setattr(import_service.petition_service, "store_many", crash_on_1004)
    with pytest.raises(RuntimeError, match="power cut"):
        await run(settings, source, "teddy2020", batch_size=2)
    monkeypatch.undo()
    report = source.with_suffix(".report.csv")
    saved = json.loads(checkpoint_path(report).read_text(encoding="utf-8"))
    assert saved["row_no"] == 3  # rows 2 and 3 committed; the batch holding 1004 rolled back
    assert await q(db, "SELECT count(*) FROM intake.petition") == 2

    resumed = await run(settings, source, "teddy2020", batch_size=2)
    assert resumed.resumed_after == 3
    assert (resumed.rows_in, resumed.imported, resumed.repeated, resumed.rejected) == (4, 2, 0, 2)
    assert await counts(db) == (GOOD, GOOD, GOOD, 0)
    assert not checkpoint_path(report).exists()
    assert [r["row_no"] for r in report_rows(resumed)] == ["6", "7"]  # one header, rejects once

    # a checkpoint behind what was committed (a crash after commit, before saving it) only
    # replays rows that are then repeats
    checkpoint_path(report).write_text(json.dumps({**saved, "row_no": 2}), encoding="utf-8")
    overlap = await run(settings, source, "teddy2020")
    assert (overlap.resumed_after, overlap.imported, overlap.repeated) == (2, 0, 3)
    assert await counts(db) == (GOOD, GOOD, GOOD, 0)


async def test_a_checkpoint_that_cannot_be_saved_is_never_ahead_of_the_report(
    settings: Settings, db: Database, clean: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's report rows and checkpoint are written while the next batch is stored: when
    writing them fails, the batch in flight is finished but not recorded, and a re-run
    replays it as repeats."""
    source = write_csv(tmp_path / "teddy.csv", ROWS)
    real_save = import_service._save_checkpoint
    saved: list[int] = []

    def disk_full_on_the_second(path: Path, state: dict[str, Any]) -> None:
        if saved:
            raise OSError("no space left on device")
        saved.append(state["row_no"])
        real_save(path, state)

    monkeypatch.setattr(import_service, "_save_checkpoint", disk_full_on_the_second)
    with pytest.raises(OSError, match="no space"):
        await run(settings, source, "teddy2020", batch_size=1)
    monkeypatch.undo()
    report = source.with_suffix(".report.csv")
    assert saved == [2]
    assert json.loads(checkpoint_path(report).read_text(encoding="utf-8"))["row_no"] == 2
    # rows 2 and 3 committed and recorded; row 4 was in flight: committed, not recorded
    assert await q(db, "SELECT count(*) FROM intake.petition") == 3
    again = await run(settings, source, "teddy2020", batch_size=1)
    assert (again.resumed_after, again.imported, again.repeated, again.rejected) == (2, 1, 2, 2)
    assert await counts(db) == (GOOD, GOOD, GOOD, 0)


async def test_limit_stops_early_and_the_next_run_continues(
    settings: Settings, db: Database, clean: None, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "teddy.csv", ROWS)
    part = await run(settings, source, "teddy2020", limit=3)
    assert (part.rows_in, part.imported, part.finished) == (3, 3, False)
    rest = await run(settings, source, "teddy2020", limit=100)
    assert (rest.resumed_after, rest.rows_in, rest.imported, rest.finished) == (4, 3, 1, True)


async def test_xlsx_imports_like_csv(
    settings: Settings, db: Database, clean: None, tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(COLUMNS)
    for row in ROWS:
        sheet.append(row)
    # the cells Excel itself makes: a number id, a date-time, a number of likes
    sheet.append(
        [3001, "U009", "Excel 原生单元格", datetime(2019, 4, 1, 9, 30), "正文", "卫生计生", 7]
    )
    sheet.append([None] * len(COLUMNS))  # a blank row is skipped
    path = tmp_path / "teddy.xlsx"
    book.save(path)

    result = await run(settings, path, "teddy2020")
    assert (result.rows_in, result.imported, result.repeated, result.rejected) == (7, 5, 0, 2)
    assert {r["code"] for r in report_rows(result)} == {"required", "invalid_datetime"}
    p = (
        await rows_of(
            db,
            "SELECT p.received_at, p.public_attention, p.category_code FROM intake.external_ref r "
            "JOIN intake.petition p USING (case_id) WHERE r.external_id = '3001'",
        )
    )[0]
    assert p.received_at == datetime(2019, 4, 1, 9, 30, tzinfo=SHANGHAI)
    assert (p.public_attention, p.category_code) == (7, "C06")


# --- the real files in ../shared/data ----------------------------------------------------

REAL = {
    "fuzhou": (("fuzhou", "river_complaints.csv"), None),
    "nyc311": (("nyc311", "service_requests_sample.csv"), None),
}
TEDDY = [
    ("messages_fullcolumns.csv", None),
    ("hotspot_messages.csv", 2000),
    ("replied_messages.csv", 2000),
]


def check(result: ImportResult, name: str) -> list[dict[str, str]]:
    print(
        f"{name}: {result.rows_in} rows, {result.imported} imported, {result.repeated} repeated, "
        f"{result.rejected} rejected, {result.rows_per_s:.0f} rows/s"
    )
    assert result.rows_in == result.imported + result.repeated + result.rejected
    rejects = report_rows(result)
    assert len(rejects) == result.rejected <= result.rows_in // 100
    assert all(r["field"] and r["code"] and r["message_en"] for r in rejects)
    return rejects


@pytest.mark.data
@pytest.mark.parametrize("mapping", sorted(REAL))
async def test_real_file_imports(
    settings: Settings, db: Database, clean: None, tmp_path: Path, mapping: str
) -> None:
    parts, limit = REAL[mapping]
    path = shared_data(*parts)
    result = await run(settings, path, mapping, report_path=tmp_path / "report.csv", limit=limit)
    check(result, path.name)
    assert result.imported == await q(db, "SELECT count(*) FROM intake.petition")
    flags = await rows_of(
        db,
        "SELECT f->>'code' AS code, count(*) AS n FROM intake.petition, "
        "jsonb_array_elements(quality_flags) f GROUP BY 1",
    )
    by_code = {r.code: r.n for r in flags}
    assert by_code["region_defaulted"] == result.imported
    if mapping == "nyc311":  # the dirty rows are kept, flagged
        assert by_code["closed_before_created"] == 10
    if mapping == "fuzhou":
        accusations = await q(db, "SELECT count(*) FROM intake.petition WHERE accusation")
        assert accusations == 46  # every 举报 row


@pytest.mark.data
async def test_real_teddy_files_share_ids_without_duplicates(
    settings: Settings, db: Database, clean: None, tmp_path: Path
) -> None:
    ids: set[str] = set()
    for name, limit in TEDDY:
        path = shared_data("teddy2020", name)
        result = await run(
            settings, path, "teddy2020", report_path=tmp_path / f"{name}.report.csv", limit=limit
        )
        check(result, name)
        ids.update(row["留言编号"] for _, row in islice(read_rows(path), limit))
    petitions = await q(
        db, "SELECT count(*) FROM intake.external_ref WHERE system = 'import:teddy2020'"
    )
    assert petitions == len(ids) == await q(db, "SELECT count(*) FROM intake.petition")

    labeled = shared_data("teddy2020", "messages_labeled.csv")
    result = await run(
        settings, labeled, "teddy2020", report_path=tmp_path / "labeled.report.csv", limit=1000
    )
    check(result, labeled.name)
    again = await run(
        settings, labeled, "teddy2020", report_path=tmp_path / "labeled2.report.csv", limit=1000
    )
    assert (again.imported, again.repeated) == (0, result.imported)  # stable hash ids
