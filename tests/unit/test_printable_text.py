"""Control characters in free text: dropped when a petition is normalised, whatever the
channel, and never able to break the XML outputs (.xlsx tables, Open311's XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.utils.exceptions import IllegalCharacterError
from pydantic import ValidationError

from services.analytics.report.xlsx import _append
from services.intake.open311.render import render
from services.intake.petition.normalized import NormalizedPetition
from shared.text import printable

CONTROLS = "".join(chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127))


def test_printable_drops_controls_but_keeps_tabs_and_line_breaks() -> None:
    assert printable(f"关于{CONTROLS}噪音\t问题\r\n第二行") == "关于噪音\t问题\r\n第二行"
    same = "no controls here"
    assert printable(same) is same


@given(st.text())
def test_printable_text_is_xml(text: str) -> None:
    cleaned = printable(text)
    assert not set(cleaned) & set(CONTROLS)
    assert len(cleaned) == len(text) - sum(c in CONTROLS for c in text)


def test_a_petition_is_normalised_without_controls() -> None:
    petition = NormalizedPetition(
        source="citizen",
        channel="web",
        title="油烟\x0b扰民",
        content="小区\x00门口\x1b餐饮店\n每天傍晚",
        address="宝安区\x07西乡街道",
        region_code="440306",
        received_at=datetime.now(UTC),
        petitioners=[{"name": "张\x01三", "address": "某\x02小区"}],
        attachments=[{"name": "照片\x03.jpg"}],
    )
    assert (petition.title, petition.content) == ("油烟扰民", "小区门口餐饮店\n每天傍晚")
    assert petition.address == "宝安区西乡街道"
    assert (petition.petitioners[0].name, petition.petitioners[0].address) == ("张三", "某小区")
    assert petition.attachments[0].name == "照片.jpg"
    with pytest.raises(ValidationError):  # nothing left: as empty as it looks
        NormalizedPetition(
            source="citizen",
            channel="web",
            title="\x0b\x0c",
            content="x",
            region_code="440306",
            received_at=datetime.now(UTC),
        )


def test_an_xlsx_row_with_a_control_character_is_written() -> None:
    with pytest.raises(IllegalCharacterError):
        Workbook().active.append(["油烟\x0b扰民"])  # what the tables did before
    sheet = Workbook().active
    _append(sheet, ["油烟\x0b扰民", 3, None])
    assert [c.value for c in sheet[1]] == ["油烟扰民", 3, None]


def test_open311_xml_stays_well_formed() -> None:
    rows = [{"description": "油烟\x0b扰民\x00", "service_name": "环境"}]
    answer = render(rows, "xml", "service_requests")
    parsed = ET.fromstring(answer.body)
    assert parsed.find("./request/description").text == "油烟扰民"
