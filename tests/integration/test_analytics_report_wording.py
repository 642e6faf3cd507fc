"""Words in the reports and tables: received petitions are 收到 / 收件 (受理 is acceptance);
a case with no category is 未分类, never the raw ``unknown``; the statistics table's
按责任单位 sheet names units by the name casework's events gave them (the id when none is
known); individual visits are counted in 次 and 人次 (domain §5), not in 批."""

from __future__ import annotations

import io
import uuid
from datetime import date

import pytest
from openpyxl import load_workbook

from services.analytics.report import render, xlsx
from shared.db import Database
from shared.events import casework as cw
from shared.events.intake import PetitionReceivedV1
from shared.settings import Settings
from tests.integration.test_analytics_metrics import (
    BAOAN,
    History,
    at,
    consumer,
    deliver,
    everyone,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_reports_use_the_right_words_and_unit_names(
    db: Database, settings: Settings, clean: None
) -> None:
    h = History(db)
    await h.received("A", at(0))
    # B: no category at all
    case = str(uuid.uuid4())
    h.cases["B"] = {"id": case, "region": BAOAN, "category": None, "source": "citizen"}
    await h._pub(
        "intake",
        PetitionReceivedV1(
            case_id=case,
            tracking_no="T-B",
            source="citizen",
            channel="web",
            title="无类别诉求",
            content="内容",
            region_code=BAOAN,
            received_at=at(0.05),
            person_keys=["pk-B"],
        ),
        case,
        at(0.05),
    )
    await h.cw("A", cw.CaseRegisteredV1, at(0))
    await h.cw("A", cw.CaseAcceptedV1, at(0.2), handling_path="claim", on_time=True)
    await h.cw(
        "A",
        cw.CaseAssignedV1,
        at(0.3),
        mode="assign",
        lead_unit_id="440306.housing",
        lead_unit_name="宝安区住房和建设局",
    )
    await deliver(await consumer(db, settings), h.log)

    day = at(0).astimezone(render.SHANGHAI).date()
    async with db.transaction("analytics") as conn:
        doc = await render.daily(conn, everyone(), day)
        book = await xlsx.statistics_table(
            conn, everyone(), settings, date(2025, 1, 1), date(2025, 12, 31)
        )
    overall = doc.sections[0].paragraphs[0]
    assert overall.startswith("本期共收到信访事项 2 件") and "受理" not in overall
    by_category = [row[0] for row in doc.sections[1].rows]
    assert "未分类" in by_category and "unknown" not in by_category
    wb = load_workbook(io.BytesIO(book))
    units = [r[0] for r in wb["按责任单位"].iter_rows(min_row=3, values_only=True)]
    assert "宝安区住房和建设局" in units and "440306.housing" not in units
    assert "unknown" not in units
    categories = [r[0] for r in wb["按类别"].iter_rows(min_row=3, values_only=True)]
    assert "未分类" in categories and "unknown" not in categories
    header = [c.value for c in wb["按地区"][2]]
    assert "个体来访（次）" in header and "个体来访（批）" not in header
