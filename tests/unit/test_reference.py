"""Reference data: the category tree is consistent and complete; region look-ups are right."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from shared import reference
from shared.reference import categories, regions

SEVEN_TRAINING_LABELS = (
    "城乡建设",
    "劳动和社会保障",
    "教育文体",
    "商贸旅游",
    "环境保护",
    "卫生计生",
    "交通运输",
)


# -- category tree ----------------------------------------------------------------------------


def test_tree_size_and_top_level() -> None:
    nodes = categories.all_categories()
    assert 100 <= len(nodes) <= 200
    tops = categories.top_level()
    assert 12 <= len(tops) <= 15
    names = {c.name for c in tops}
    for name in SEVEN_TRAINING_LABELS:
        assert name in names, name
    for name in ("公安政法", "纪检监察", "农村农业", "民政", "市场监管", "国土资源", "党政综合"):
        assert name in names, name


def test_codes_unique_and_shaped_by_level() -> None:
    nodes = categories.all_categories()
    codes = [c.code for c in nodes]
    assert len(codes) == len(set(codes))
    shapes = {1: r"C\d{2}", 2: r"C\d{2}\.\d{2}", 3: r"C\d{2}\.\d{2}\.\d{2}"}
    for c in nodes:
        assert re.fullmatch(shapes[c.level], c.code), c.code


def test_parents_exist_and_levels_follow() -> None:
    by_code = {c.code: c for c in categories.all_categories()}
    for c in by_code.values():
        if c.level == 1:
            assert c.parent_code is None
            continue
        parent = by_code[c.parent_code or ""]
        assert parent.level == c.level - 1
        assert c.code.startswith(parent.code + ".")
        assert c in categories.children(parent.code)
        assert c.path == (*parent.path, c.name)
    # every top-level category has level-2 children, every level-2 node has leaves
    for top in categories.top_level():
        kids = categories.children(top.code)
        assert kids and all(k.level == 2 for k in kids)
        for kid in kids:
            assert categories.children(kid.code), kid.code


def test_names_unique() -> None:
    counts = Counter(c.name for c in categories.all_categories())
    assert [n for n, k in counts.items() if k > 1] == []


def test_leaves_and_level2_have_service_codes_and_duties() -> None:
    service_codes = []
    for c in categories.all_categories():
        assert c.duty.code and c.duty.name
        assert c.is_leaf == (not categories.children(c.code))
        if c.level == 1:
            assert c.open311_service_code is None
            continue
        code = c.open311_service_code
        assert code is not None and re.fullmatch(
            r"[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)+", code
        )
        service_codes.append(code)
        assert categories.by_service_code(code) == c
    assert len(service_codes) == len(set(service_codes))
    assert all(c.level == 3 for c in categories.leaves())


def test_high_risk_and_handling_paths() -> None:
    def named(name: str) -> categories.Category:
        found = categories.by_name(name)
        assert found is not None, name
        return found

    for name in (
        "征地拆迁",
        "拖欠工资",
        "企业改制",
        "大气污染",
        "物业管理",
        "涉法涉诉",
        "退役军人",
    ):
        node = named(name)
        assert node.high_risk, name
        assert all(d.high_risk for d in categories.descendants(node.code)), name
    assert not named("教育文体").high_risk
    assert not named("公交线路与站点").high_risk

    discipline = named("纪检监察")
    assert discipline.handling_path == "accusation"
    assert all(d.handling_path == "accusation" for d in categories.descendants(discipline.code))
    assert named("检举控告").handling_path == "accusation"
    litigation = named("涉法涉诉")
    assert litigation.diverted_to == "政法"
    assert all(d.diverted_to == "政法" for d in categories.descendants(litigation.code))
    assert named("治安案件").diverted_to is None
    assert named("建言献策").handling_path == "suggestion"
    assert named("物业服务质量").handling_path == "claim"
    paths = {c.handling_path for c in categories.all_categories()}
    assert paths == {"suggestion", "accusation", "claim"}


def test_duties_inherit_and_override() -> None:
    assert categories.by_name("物业管理").duty.code == "housing"  # type: ignore[union-attr]
    assert categories.by_name("占道经营").duty.name == "城市管理和综合执法局"  # type: ignore[union-attr]
    assert categories.by_name("工业废气").duty.name == "生态环境局"  # type: ignore[union-attr]
    assert categories.by_name("拖欠工资").duty.name == "人力资源和社会保障局"  # type: ignore[union-attr]
    assert categories.by_name("违反廉洁纪律").duty.name == "纪委监委"  # type: ignore[union-attr]
    assert categories.get_duty("housing") is not None
    assert categories.get_duty("nope") is None


def test_lookups() -> None:
    assert categories.get("C01") is not None and categories.get("C01").name == "城乡建设"  # type: ignore[union-attr]
    assert categories.get("C99") is None
    assert categories.by_name("物业管理", level=2) is not None
    assert categories.by_name("物业管理", level=3) is None
    assert categories.by_name("不存在的分类") is None
    assert categories.by_service_code("no.such.service") is None
    assert categories.children("C01.01.01") == ()
    assert categories.is_within("C01.01.01", "C01")
    assert not categories.is_within("C01.01.01", "C02")
    assert not categories.is_within("C010", "C01")


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("环境保护", "环境保护"),
        ("  卫生计生 ", "卫生计生"),
        ("物业管理", "物业管理"),
        ("城管", "城市管理执法"),
        ("环保", "环境保护"),
        ("欠薪", "拖欠工资"),
        ("城乡建设/物业管理", "物业管理"),
        ("村(社区)干部问题", "村（社区）干部问题"),
    ],
)
def test_match_label(label: str, expected: str) -> None:
    found = categories.match_label(label)
    assert found is not None and found.name == expected


@pytest.mark.parametrize("label", ["", "   ", "外星人入侵", "其他"])
def test_match_label_unknown(label: str) -> None:
    assert categories.match_label(label) is None


def test_all_seven_training_labels_match_top_level() -> None:
    for label in SEVEN_TRAINING_LABELS:
        node = categories.match_label(label)
        assert node is not None and node.level == 1 and node.name == label


def test_categories_are_frozen() -> None:
    node = categories.top_level()[0]
    with pytest.raises(AttributeError):
        node.name = "x"  # type: ignore[misc]


# -- regions ----------------------------------------------------------------------------------


def test_region_hierarchy() -> None:
    assert regions.get("440000").level == "province"  # type: ignore[union-attr]
    city = regions.get("440300")
    assert city is not None and city.name == "深圳市" and city.parent_code == "440000"
    expected = {
        "440303": "罗湖区",
        "440304": "福田区",
        "440305": "南山区",
        "440306": "宝安区",
        "440307": "龙岗区",
        "440308": "盐田区",
        "440309": "龙华区",
        "440310": "坪山区",
        "440311": "光明区",
    }
    assert {r.code: r.name for r in regions.districts()} == expected
    for district in regions.districts():
        streets = regions.children(district.code)
        assert 3 <= len(streets) <= 6
        for street in streets:
            assert street.level == "street" and len(street.code) == 9
            assert street.code.startswith(district.code) and street.name.endswith("街道")
    xinan = regions.get("440306001")
    assert xinan is not None and xinan.name == "新安街道"
    with_communities = {
        regions.district_of(r.code).code  # type: ignore[union-attr]
        for r in regions.all_regions()
        if r.level == "community"
    }
    assert len(with_communities) >= 2
    for r in regions.all_regions():
        if r.level == "community":
            assert len(r.code) == 12 and r.code.startswith(r.parent_code or "")
    for street_code in ("440306001", "440304001"):
        assert 2 <= len(regions.children(street_code)) <= 3


def test_region_codes_unique_and_parents_known() -> None:
    all_regions = regions.all_regions()
    assert len({r.code for r in all_regions}) == len(all_regions)
    for r in all_regions:
        if r.parent_code is not None:
            assert regions.is_known(r.parent_code)


def test_ancestors_and_district_of() -> None:
    community = next(r for r in regions.children("440306001"))
    chain = [r.code for r in regions.ancestors(community.code)]
    assert chain == ["440000", "440300", "440306", "440306001"]
    assert regions.ancestors("440000") == ()
    assert regions.ancestors("999999") == ()
    assert regions.district_of(community.code).code == "440306"  # type: ignore[union-attr]
    assert regions.district_of("440304").code == "440304"  # type: ignore[union-attr]
    assert regions.district_of("440300") is None
    assert regions.district_of("123") is None
    assert regions.full_name("440306001") == "广东省深圳市宝安区新安街道"


@pytest.mark.parametrize(
    ("code", "ancestor", "expected"),
    [
        ("440306", "440300", True),
        ("440306", "440000", True),
        ("440306001", "440306", True),
        ("440306001001", "440300", True),
        ("440306001001", "440306001", True),
        ("440306", "440306", True),
        ("440306", "440304", False),
        ("440306001", "440304", False),
        ("440300", "440306", False),
        ("440000", "440300", False),
        # not in our table, decided by the GB/T 2260 structure
        ("440306001999", "440306", True),
        ("440306001999", "440304", False),
        ("440103", "440000", True),
        ("440103", "440300", False),
        ("110101", "440000", False),
        ("440399", "440306", False),
        ("abc", "440000", False),
        ("440306", "", False),
    ],
)
def test_is_within(code: str, ancestor: str, expected: bool) -> None:
    assert regions.is_within(code, ancestor) is expected


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("440306", True),
        ("440300", True),
        ("440306001", True),
        ("440306001001", True),
        ("440399", False),
        ("44030", False),
        ("4403060", False),
        ("440306999", False),
        ("４４０３０６", False),
        ("", False),
    ],
)
def test_valid_region_code(code: str, valid: bool) -> None:
    assert regions.valid_region_code(code) is valid


def test_package_exports_and_version() -> None:
    assert reference.version() == (
        f"categories-{reference.CATEGORY_TREE_VERSION}+regions-{reference.REGION_VERSION}"
    )
    assert reference.get_category("C05").name == "环境保护"  # type: ignore[union-attr]
    assert reference.get_region("440306").name == "宝安区"  # type: ignore[union-attr]
    assert reference.match_label("交通运输") == categories.get("C07")
    assert reference.valid_region_code("440306001")
