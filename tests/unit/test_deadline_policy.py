"""Layered deadline policies: statutory defaults, the 12345 classes, and policy rows where
the most specific match wins; and the warning-share setting."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.casework.deadline.policy import (
    CLOCK_KINDS,
    STATUTORY,
    PolicyRow,
    choose,
    hotline_class,
)
from shared.reference import categories
from shared.settings import Settings


def row(id: int, clock: str, prefix: str = "", **kw: object) -> PolicyRow:
    values: dict[str, object] = {
        "source": None,
        "case_type": None,
        "urgency": None,
        "days": None,
        "hours": None,
        "working_days": False,
        "label": f"row {id}",
    }
    values.update(kw)
    return PolicyRow(id=id, clock=clock, region_prefix=prefix, **values)  # type: ignore[arg-type]


def test_statutory_defaults() -> None:
    assert set(CLOCK_KINDS) == {
        "register", "accept", "object", "sign", "handle",
        "review_request", "review", "reexam_request", "reexam",
    }  # fmt: skip
    table = {k: (r.days, r.working_days) for k, r in STATUTORY.items()}
    assert table == {
        "register": (15, False),
        "accept": (15, False),
        "object": (5, True),
        "sign": (1, True),
        "handle": (60, False),
        "review_request": (30, False),
        "review": (30, False),
        "reexam_request": (30, False),
        "reexam": (30, False),
    }
    r = choose("handle", {"region_code": "440306", "source": "letter"})
    assert r.label.startswith("statutory:") and "第34条" in r.label


@pytest.mark.parametrize(
    ("context", "klass", "days", "hours"),
    [
        ({"urgency": "emergency"}, "emergency", None, 2),
        ({"urgency": "emergency", "case_type": "C01.05.03"}, "emergency", None, 2),
        ({"urgency": "urgent"}, "utilities", None, 24),
        ({"urgency": "normal", "case_type": "C01.05.03.01"}, "utilities", None, 24),
        ({"urgency": "normal", "case_type": "C01.05.04"}, "utilities", None, 24),
        ({"urgency": "normal", "case_type": "complex"}, "complex", 15, None),
        ({"urgency": "normal", "complex": True}, "complex", 15, None),
        ({"urgency": "normal", "case_type": "C01.05.01"}, "general", 7, None),
        ({}, "general", 7, None),
    ],
)
def test_hotline_mapping(
    context: dict[str, object], klass: str, days: int | None, hours: int | None
) -> None:
    ctx = {"region_code": "440306", "source": "hotline", **context}
    assert hotline_class(ctx) == klass
    r = choose("handle", ctx)
    assert (r.days, r.hours) == (days, hours)
    assert r.label.startswith("source: 12345")
    # the same order from another source gets the statutory 60 days
    assert choose("handle", {**ctx, "source": "letter"}).days == 60


def test_utility_categories_are_the_named_ones() -> None:
    water, gas = categories.get("C01.05.03"), categories.get("C01.05.04")
    assert water is not None and water.name == "供水与排水"
    assert gas is not None and gas.name == "燃气供应"


def test_district_counts_in_working_days() -> None:
    rows = [
        row(1, "register", "440306", days=5, working_days=True, label="宝安 5 working days"),
        row(2, "accept", "440306", days=5, working_days=True, label="宝安 5 working days"),
        row(3, "handle", "440306", days=30, label="宝安 30 days"),
    ]
    baoan = {"region_code": "440306001", "source": "letter"}
    futian = {"region_code": "440304", "source": "letter"}
    assert (choose("register", baoan, rows).days, choose("register", baoan, rows).working_days) == (
        5,
        True,
    )
    assert choose("handle", baoan, rows).days == 30
    assert choose("handle", baoan, rows).label == "policy #3 (440306): 宝安 30 days"
    assert choose("register", futian, rows).days == 15  # not that district
    assert choose("object", baoan, rows).label.startswith("statutory:")
    # a jurisdiction row does not override the hotline classes (the source layer)
    hot = {**baoan, "source": "hotline", "urgency": "emergency"}
    assert choose("handle", hot, rows).hours == 2
    assert choose("handle", {**hot, "urgency": "normal"}, rows).days == 7
    # but it does apply to a hotline order's other clocks
    assert choose("register", hot, rows).days == 5


def test_most_specific_row_wins() -> None:
    rows = [
        row(1, "handle", "", days=45, label="city-wide"),
        row(2, "handle", "4403", days=40, label="Shenzhen"),
        row(3, "handle", "440306", days=30, label="Bao'an"),
        row(4, "handle", "440306", source="hotline", days=20, label="Bao'an hotline"),
        row(5, "handle", "440306", source="hotline", urgency="urgent", hours=12, label="urgent"),
        row(6, "handle", "440306", source="hotline", case_type="C01", days=10, label="C01"),
        row(7, "handle", "440306", source="hotline", case_type="C01.05", days=9, label="C01.05"),
        row(8, "handle", "440306", case_type="utilities", hours=6, label="Bao'an utilities"),
    ]
    ctx = {"region_code": "440306", "source": "letter", "urgency": "normal"}
    assert choose("handle", {**ctx, "region_code": "110101"}, rows).label.endswith("city-wide")
    assert choose("handle", {**ctx, "region_code": "440304"}, rows).label.endswith("Shenzhen")
    assert choose("handle", ctx, rows).label.endswith("Bao'an")
    hot = {**ctx, "source": "hotline"}
    assert choose("handle", hot, rows).label.endswith("Bao'an hotline")
    assert choose("handle", {**hot, "urgency": "urgent"}, rows).hours == 12
    # equal region and field count: the longer category prefix wins
    assert choose("handle", {**hot, "case_type": "C01.05.01"}, rows).label.endswith("C01.05")
    # a hotline class as the case type: a utilities order (by category) matches row 8
    r = choose("handle", {**hot, "case_type": "C01.05.03"}, rows)
    assert r.label.endswith("C01.05")  # two fields set beats one
    assert choose("handle", {**ctx, "source": "hotline", "urgency": "urgent",
                             "case_type": "X"}, rows).hours == 12  # fmt: skip
    only8 = [rows[7]]
    assert choose("handle", {**hot, "case_type": "C01.05.03"}, only8).hours == 6
    assert choose("handle", {**ctx, "case_type": "C01.05.03"}, only8).days == 60  # not hotline


def test_unknown_clock() -> None:
    with pytest.raises(KeyError):
        choose("nonsense", {})


def test_warn_share_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().deadline_warn_share == 0.8
    monkeypatch.setenv("MINSHENG_DEADLINE_WARN_SHARE", "0.5")
    assert Settings().deadline_warn_share == 0.5
    for bad in ("0", "1", "1.5", "-0.1"):
        monkeypatch.setenv("MINSHENG_DEADLINE_WARN_SHARE", bad)
        with pytest.raises(ValidationError):
            Settings()
