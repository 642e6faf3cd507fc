"""Labels of the figures: individual visits in 次 and 人次 (domain §5), never in 批 (the unit of
collective visits); a case with no category is 未分类 in the reports and tables."""

from services.analytics.metric.definitions import VOLUMES
from services.analytics.report import render, xlsx


def test_volume_labels() -> None:
    assert VOLUMES["visit_individual"] == "个体来访（次）"
    assert VOLUMES["visit_individual_people"] == "个体来访（人次）"
    assert "批" not in VOLUMES["visit_individual"]


def test_unknown_is_shown_in_words() -> None:
    assert render.category_label("unknown") == "未分类"
    assert xlsx._label("category_top", "unknown") == "未分类"
    assert xlsx._label("unit", "U9", {"U9": "宝安区信访局"}) == "宝安区信访局"
    assert xlsx._label("unit", "U8", {}) == "U8"
