"""The seven trained labels map, explicitly, onto the reference category tree."""

from __future__ import annotations

from services.analytics.routing.labels import LABEL_TO_CATEGORY, LABELS, category_code
from shared.reference import categories

BOARD_LABELS = {
    "城乡建设",
    "劳动和社会保障",
    "教育文体",
    "商贸旅游",
    "环境保护",
    "卫生计生",
    "交通运输",
}


def test_every_label_of_the_board_is_mapped() -> None:
    assert set(LABELS) == BOARD_LABELS
    assert len(set(LABEL_TO_CATEGORY.values())) == len(BOARD_LABELS)  # no two share a code


def test_each_code_is_the_top_level_node_of_that_name() -> None:
    for label, code in LABEL_TO_CATEGORY.items():
        node = categories.get(code)
        assert node is not None, code
        assert node.level == 1
        assert node.name == label
        assert categories.match_label(label) == node


def test_category_code_of_deeper_and_unknown_labels() -> None:
    assert category_code("城乡建设") == "C01"
    assert category_code("城乡建设/物业管理") == "C01.01"  # what a finer model could return
    assert category_code("没有这个分类") is None
    assert category_code("") is None
