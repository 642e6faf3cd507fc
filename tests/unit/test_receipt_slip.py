"""The receipt slip's rows: the case's own deadline, when the tracking view has one, beside the
statutory text; the desk and the registrar who owns the first contact (首问负责)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.intake.registrar.receipt import Slip, render_html


def slip(**over: object) -> Slip:
    base: dict[str, object] = {
        "tracking_no": "MS260917ABCDEFGH",
        "query_code": "123456",
        "received_at": datetime(2026, 9, 17, 2, 0, tzinfo=UTC),
        "source": "letter",
        "title": "拖欠工资",
        "people_count": 1,
    }
    return Slip(**{**base, **over})  # type: ignore[arg-type]


def test_the_deadline_the_case_runs_on_is_on_the_slip() -> None:
    rows = dict(
        slip(
            due_at=datetime(2026, 10, 8, 15, 59, 59, tzinfo=UTC),
            due_for="告知是否受理",
            registered_by="张登记",
            registered_at_unit="宝安区信访局",
        ).rows()
    )
    assert rows["当前办理期限"] == "2026年10月08日前告知是否受理"  # Asia/Shanghai's date
    assert rows["登记人（首问负责）"] == "张登记" and rows["登记单位"] == "宝安区信访局"
    assert "2026年10月08日前告知是否受理" in render_html(
        slip(due_at=datetime(2026, 10, 8, 15, 0, tzinfo=UTC), due_for="告知是否受理")
    )


def test_without_a_deadline_or_a_registrar_the_rows_are_left_out() -> None:
    rows = dict(slip().rows())
    assert (
        "当前办理期限" not in rows and "登记人（首问负责）" not in rows and "登记单位" not in rows
    )
