"""Demo generator and demo organisation: every field valid, deterministic, varied, structured."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from shared.demo import (
    CHANNELS,
    SOURCES,
    URGENCIES,
    DemoGenerator,
    demo_org,
    demo_phone_numbers,
    demo_staff,
    is_valid_id_number,
)
from shared.demo.generator import load_templates
from shared.reference import categories, regions

CST = timezone(timedelta(hours=8))
WINDOW = (datetime(2026, 3, 1, tzinfo=CST), datetime(2026, 6, 1, tzinfo=CST))
N = 500


def gb11643_ok(value: str) -> bool:
    """Independent check of an 18-character resident ID number (GB 11643-1999)."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    total = sum(int(ch) * w for ch, w in zip(value[:17], weights, strict=True))
    expected = (12 - total % 11) % 11
    return value[17] == ("X" if expected == 10 else str(expected))


@pytest.fixture(scope="module")
def generated() -> tuple[DemoGenerator, list[dict[str, Any]]]:
    gen = DemoGenerator(seed=20261122)
    return gen, gen.petitions(N, received_between=WINDOW)


@pytest.fixture(scope="module")
def petitions(generated: tuple[DemoGenerator, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return generated[1]


def test_checksum_helper_is_itself_right() -> None:
    # the worked example of the standard's annex and two single-digit mutations of it
    assert gb11643_ok("11010519491231002X")
    assert not gb11643_ok("11010519491231002Y")
    assert not gb11643_ok("110105194912310021")
    assert not gb11643_ok("21010519491231002X")


def test_deterministic_for_a_seed() -> None:
    a = DemoGenerator(7).petitions(60, received_between=WINDOW)
    b = DemoGenerator(7).petitions(60, received_between=WINDOW)
    c = DemoGenerator(8).petitions(60, received_between=WINDOW)
    assert a == b
    assert a != c
    # the default window is fixed too: nothing reads the clock
    assert DemoGenerator(7).petition() == DemoGenerator(7).petition()


def test_every_field_valid(petitions: list[dict[str, Any]]) -> None:
    keys = {
        "title",
        "content",
        "category_code",
        "category_name",
        "region_code",
        "address",
        "channel",
        "source",
        "urgency",
        "people_count",
        "petitioner",
        "anonymous",
        "accusation",
        "received_at",
    }
    jurisdiction = {r.code for r in regions.districts()}
    for p in petitions:
        assert set(p) == keys
        assert 1 <= len(p["title"]) <= 60
        assert 80 <= len(p["content"]) <= 600
        assert "{" not in p["content"] + p["title"] and "}" not in p["content"] + p["title"]
        node = categories.get(p["category_code"])
        assert node is not None and node.level in (2, 3)
        assert p["category_name"] == node.name
        region = regions.get(p["region_code"])
        assert region is not None and region.level in ("district", "street")
        district = regions.district_of(region.code)
        assert district is not None and district.code in jurisdiction
        assert p["address"].startswith("深圳市" + district.name)
        assert region.name in p["address"]
        assert p["channel"] in CHANNELS
        assert p["source"] in SOURCES
        assert p["urgency"] in URGENCIES
        assert p["people_count"] == 1 or 5 <= p["people_count"] <= 40
        assert isinstance(p["anonymous"], bool) and isinstance(p["accusation"], bool)
        if p["anonymous"]:
            assert p["petitioner"] is None
            continue
        person = p["petitioner"]
        assert set(person) == {"name", "phone", "id_number"}
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", person["name"])
        assert re.fullmatch(r"1[3-9]\d{9}", person["phone"])
        number = person["id_number"]
        assert gb11643_ok(number), number
        assert is_valid_id_number(number)
        assert number[:6] in jurisdiction
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        assert date(1950, 1, 1) <= born <= date(2004, 12, 31)


def test_received_within_window(petitions: list[dict[str, Any]]) -> None:
    start, end = WINDOW
    for p in petitions:
        assert p["received_at"].endswith("+08:00")
        at = datetime.fromisoformat(p["received_at"])
        assert start <= at < end


def test_naive_and_narrow_windows() -> None:
    gen = DemoGenerator(3)
    start, end = datetime(2026, 2, 10, 9, 0), datetime(2026, 2, 10, 9, 30)
    for _ in range(30):
        at = datetime.fromisoformat(gen.petition((start, end))["received_at"])
        assert start.replace(tzinfo=CST) <= at < end.replace(tzinfo=CST)
    with pytest.raises(ValueError):
        gen.petition((end, start))


def test_mix_of_channels_sources_and_flags(petitions: list[dict[str, Any]]) -> None:
    assert set(Counter(p["channel"] for p in petitions)) == set(CHANNELS)
    assert len(Counter(p["source"] for p in petitions)) >= 8
    urgency = Counter(p["urgency"] for p in petitions)
    assert urgency["normal"] > 0.75 * N and urgency["urgent"] > 0
    anonymous = sum(p["anonymous"] for p in petitions)
    assert 0.02 * N <= anonymous <= 0.09 * N
    collective = [p for p in petitions if p["people_count"] > 1]
    assert 0.02 * N <= len(collective) <= 0.15 * N
    tops = Counter(p["category_code"][:3] for p in petitions)
    assert len(tops) >= 12
    assert any(categories.get(p["category_code"]).level == 2 for p in petitions)  # type: ignore[union-attr]


def test_accusations(petitions: list[dict[str, Any]]) -> None:
    accusations = [p for p in petitions if p["accusation"]]
    assert 0.01 * N <= len(accusations) <= 0.06 * N
    for p in petitions:
        in_discipline = categories.is_within(p["category_code"], "C09")
        assert p["accusation"] == in_discipline
    for p in accusations:
        assert "举报" in p["title"] + p["content"] or "反映" in p["title"]
        assert categories.get(p["category_code"]).handling_path == "accusation"  # type: ignore[union-attr]


def test_variety(petitions: list[dict[str, Any]]) -> None:
    assert len({p["title"] for p in petitions}) >= 40
    assert len({p["content"] for p in petitions}) >= 0.9 * N
    assert len({p["category_code"] for p in petitions}) >= 40
    assert len({p["region_code"] for p in petitions}) >= 25
    ordinary, accusations, hotspots = load_templates()
    assert len(ordinary) >= 40 and accusations and len(hotspots) >= 3
    assert {t.category[:3] for t in ordinary} >= {c.code for c in categories.top_level()} - {"C09"}


def test_repeat_petitioners(
    generated: tuple[DemoGenerator, list[dict[str, Any]]],
) -> None:
    gen, petitions = generated
    by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    seen: set[str] = set()
    repeats = 0
    for p in petitions:
        if p["petitioner"] is None:
            continue
        number = p["petitioner"]["id_number"]
        repeats += number in seen
        seen.add(number)
        by_person[number].append(p)
    assert 0.08 * N <= repeats <= 0.22 * N
    for items in by_person.values():
        if len(items) < 2:
            continue
        # same person, same matter: one category, one place, the same identity each time
        assert len({p["category_code"] for p in items}) == 1
        assert len({p["region_code"] for p in items}) == 1
        assert len({(p["petitioner"]["name"], p["petitioner"]["phone"]) for p in items}) == 1
    # the ground truth agrees, and a repeat is never received before what it repeats
    assert sum(m.repeat_of is not None for m in gen.meta) == repeats
    for m in gen.meta:
        if m.repeat_of is not None:
            later = datetime.fromisoformat(petitions[m.index]["received_at"])
            earlier = datetime.fromisoformat(petitions[m.repeat_of]["received_at"])
            assert later > earlier
            assert "反映" in petitions[m.index]["content"]


def test_hotspots(generated: tuple[DemoGenerator, list[dict[str, Any]]]) -> None:
    gen, petitions = generated
    groups: dict[str, list[int]] = defaultdict(list)
    for m in gen.meta:
        if m.hotspot is not None:
            groups[m.hotspot].append(m.index)
    assert len(groups) >= 3
    for indexes in groups.values():
        people = {
            petitions[i]["petitioner"]["id_number"]
            for i in indexes
            if petitions[i]["petitioner"] is not None
        }
        assert len(people) >= 4
        first_cases = [i for i in indexes if gen.meta[i].repeat_of is None]
        times = sorted(datetime.fromisoformat(petitions[i]["received_at"]) for i in first_cases)
        # clustered: the middle 80 % of first petitions fall within about a month
        k = len(times) // 10
        assert times[-1 - k] - times[k] < timedelta(days=40)
    # the property-dispute hotspot is findable from the data alone
    haiyun = [p for p in petitions if "海韵嘉园" in p["content"]]
    assert len({p["petitioner"]["id_number"] for p in haiyun if p["petitioner"]}) >= 5


def test_fast() -> None:
    started = time.perf_counter()
    DemoGenerator(11).petitions(1000)
    assert time.perf_counter() - started < 1.5


def test_demo_phone_numbers() -> None:
    numbers = demo_phone_numbers(50, seed=4)
    assert numbers == demo_phone_numbers(50, seed=4)
    assert len(set(numbers)) == 50
    assert all(re.fullmatch(r"1[3-9]\d{9}", n) for n in numbers)


# -- demo organisation ------------------------------------------------------------------------


def test_demo_org_units() -> None:
    units = demo_org()
    codes = [u["code"] for u in units]
    assert len(codes) == len(set(codes))
    known: set[str] = set()
    for u in units:
        assert set(u) == {"code", "name", "kind", "parent_code", "region_codes", "duties"}
        assert u["kind"] in {
            "petition_office",
            "department",
            "street",
            "community",
            "discipline",
            "government",
        }
        assert u["parent_code"] is None or u["parent_code"] in known  # parents come first
        known.add(u["code"])
        assert u["region_codes"] and all(regions.valid_region_code(c) for c in u["region_codes"])
        for code in u["duties"]:
            assert categories.get(code) is not None, code
    names = {u["name"]: u for u in units}
    for name in (
        "深圳市信访局",
        "宝安区信访局",
        "福田区信访局",
        "宝安区住房和城乡建设局",
        "宝安区人力资源局",
        "宝安区城管局",
        "宝安区生态环境分局",
        "宝安区纪委监委",
        "新安街道办事处",
    ):
        assert name in names, name
    assert names["深圳市信访局"]["kind"] == "petition_office"
    assert names["宝安区纪委监委"]["kind"] == "discipline"
    assert "C09.01" in names["宝安区纪委监委"]["duties"]
    assert "C02.01.01" in names["宝安区人力资源局"]["duties"]
    assert names["新安街道办事处"]["region_codes"] == ["440306001"]
    assert any(u["kind"] == "community" for u in units)
    # every leaf category can be routed to some 宝安 unit
    baoan = [u for u in units if u["region_codes"] == ["440306"]]
    covered = {code for u in baoan for code in u["duties"]}
    assert {c.code for c in categories.leaves()} <= covered


def test_demo_staff() -> None:
    staff = demo_staff()
    unit_codes = {u["code"] for u in demo_org()}
    usernames = [s["username"] for s in staff]
    assert len(usernames) == len(set(usernames))
    roles: set[str] = set()
    for s in staff:
        assert set(s) == {"username", "display_name", "unit_code", "roles"}
        assert re.fullmatch(r"[a-z0-9.]+", s["username"])
        assert s["unit_code"] in unit_codes
        assert s["roles"]
        roles.update(s["roles"])
    assert roles == {
        "registrar",
        "petition_officer",
        "handler",
        "unit_lead",
        "leader",
        "supervisor",
        "analyst",
        "discipline_inspector",
        "admin",
    }
    inspectors = [s for s in staff if "discipline_inspector" in s["roles"]]
    discipline_units = {u["code"] for u in demo_org() if u["kind"] == "discipline"}
    assert all(s["unit_code"] in discipline_units for s in inspectors)
    # callers get their own copies
    staff[0]["roles"].append("x")
    assert "x" not in demo_staff()[0]["roles"]


def test_demo_desks(petitions: list[dict[str, Any]]) -> None:
    """Every demo letter and visit is registered by a registrar of a desk whose unit covers
    its region: mostly its district's office where the demo has one, some at the city's."""
    from services.intake.registrar.service import desk_level
    from shared.demo.staff import DESKS, demo_desk

    staff = {s["username"]: s for s in demo_staff()}
    units = {u["code"]: u for u in demo_org()}
    for office, registrars in DESKS.items():
        assert all(
            staff[r]["unit_code"] == office and "registrar" in staff[r]["roles"] for r in registrars
        )
    assert desk_level(units["440300.petition"]["region_codes"]) == "city"
    assert desk_level(units["440306.petition"]["region_codes"]) == "district"
    desk = [p for p in petitions if p["source"] in ("letter", "visit")]
    chosen = [demo_desk(p["region_code"], i) for i, p in enumerate(desk)]
    assert chosen == [demo_desk(p["region_code"], i) for i, p in enumerate(desk)]
    levels: Counter[str | None] = Counter()
    for p, username in zip(desk, chosen, strict=True):
        unit = units[staff[username]["unit_code"]]
        assert any(regions.is_within(p["region_code"], c) for c in unit["region_codes"])
        levels[desk_level(unit["region_codes"])] += 1
    assert levels["city"] > 0 and levels["district"] > 0
    # a 宝安 petition goes to 宝安's desk, except one in five, to the city's
    baoan = [u for p, u in zip(desk, chosen, strict=True) if p["region_code"].startswith("440306")]
    assert Counter(u == "sz.registrar" for u in baoan)[False] > len(baoan) // 2
