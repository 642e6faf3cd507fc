"""The demo organisation: petition offices, departments, a street office, a community, staff.

Owns the org units and user accounts a fresh demo system is loaded with, in 深圳市 with
宝安区 worked out in full (every department type of the category tree has a 宝安 unit, so
any demo case can be routed there) and a few 福田区 units. Unit duties are category codes
taken from `shared.reference.categories` by department type, so they stay consistent with
the tree. Passwords are not here: whoever loads the accounts assigns them.

Unit codes are "<region code>.<unit>", e.g. "440306.housing" (宝安区住房和城乡建设局).
"""

from __future__ import annotations

from typing import Any

from shared.reference import categories, regions

ROLES: tuple[str, ...] = (
    "registrar",
    "petition_officer",
    "handler",
    "unit_lead",
    "leader",
    "supervisor",
    "analyst",
    "discipline_inspector",
    "admin",
)
UNIT_KINDS: tuple[str, ...] = (
    "petition_office",
    "department",
    "street",
    "community",
    "discipline",
    "government",
)

# Names that differ from "<district><the duty's usual department name>".
_BAOAN_NAMES: dict[str, str] = {
    "urban_mgmt": "宝安区城管局",
    "hrss": "宝安区人力资源局",
    "eco_env": "宝安区生态环境分局",
    "public_security": "宝安区公安分局",
    "politics_law": "宝安区委政法委",
    "gov_office": "宝安区人民政府办公室",
}
# Matters a street office and a community station handle on the spot (属地).
_STREET_DUTIES = ("C01.01", "C01.04", "C05.01.02", "C05.03.02", "C08.05.02", "C10.03", "C11.01")
_COMMUNITY_DUTIES = ("C01.01", "C08.05.02", "C11.01")


def duty_codes(duty: str) -> list[str]:
    """Every category code (any level) whose responsible department type is `duty`."""
    return [c.code for c in categories.all_categories() if c.duty.code == duty]


def _unit(
    code: str,
    name: str,
    kind: str,
    parent: str | None,
    region_codes: list[str],
    duties: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "parent_code": parent,
        "region_codes": region_codes,
        "duties": list(duties),
    }


def demo_org() -> list[dict[str, Any]]:
    """Demo org units, parents before children. A fresh list on every call."""
    units = [
        _unit("440300.gov", "深圳市人民政府", "government", None, ["440300"]),
        _unit("440300.petition", "深圳市信访局", "petition_office", "440300.gov", ["440300"]),
        _unit("440306.gov", "宝安区人民政府", "government", "440300.gov", ["440306"]),
        _unit("440306.petition", "宝安区信访局", "petition_office", "440306.gov", ["440306"]),
    ]
    for duty in categories.duties():
        name = _BAOAN_NAMES.get(duty.code, f"宝安区{duty.name}")
        kind = "discipline" if duty.code == "discipline" else "department"
        units.append(
            _unit(
                f"440306.{duty.code}",
                name,
                kind,
                "440306.gov",
                ["440306"],
                duty_codes(duty.code),
            )
        )
    units += [
        _unit(
            "440306001.office",
            "新安街道办事处",
            "street",
            "440306.gov",
            ["440306001"],
            _STREET_DUTIES,
        ),
        _unit(
            "440306002.office",
            "西乡街道办事处",
            "street",
            "440306.gov",
            ["440306002"],
            _STREET_DUTIES,
        ),
        _unit(
            "440306001001.station",
            "海旺社区工作站",
            "community",
            "440306001.office",
            ["440306001001"],
            _COMMUNITY_DUTIES,
        ),
        _unit("440304.gov", "福田区人民政府", "government", "440300.gov", ["440304"]),
        _unit("440304.petition", "福田区信访局", "petition_office", "440304.gov", ["440304"]),
        _unit(
            "440304.housing",
            "福田区住房和城乡建设局",
            "department",
            "440304.gov",
            ["440304"],
            duty_codes("housing"),
        ),
        _unit(
            "440304.hrss",
            "福田区人力资源局",
            "department",
            "440304.gov",
            ["440304"],
            duty_codes("hrss"),
        ),
        _unit(
            "440304.urban_mgmt",
            "福田区城市管理和综合执法局",
            "department",
            "440304.gov",
            ["440304"],
            duty_codes("urban_mgmt"),
        ),
    ]
    return units


# (username, display name, unit code, roles)
_STAFF: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("admin", "系统管理员", "440300.petition", ("admin",)),
    ("sz.lead", "罗建华", "440300.petition", ("unit_lead",)),
    ("sz.officer", "郑国强", "440300.petition", ("petition_officer",)),
    ("sz.analyst", "周文静", "440300.petition", ("analyst",)),
    ("sz.leader", "黄志明", "440300.gov", ("leader",)),
    ("sz.registrar", "钟晓玲", "440300.petition", ("registrar",)),
    ("ba.registrar1", "陈丽", "440306.petition", ("registrar",)),
    ("ba.registrar2", "林小燕", "440306.petition", ("registrar",)),
    ("ba.officer1", "刘伟", "440306.petition", ("petition_officer",)),
    ("ba.officer2", "张敏", "440306.petition", ("petition_officer",)),
    ("ba.supervisor", "何志刚", "440306.petition", ("supervisor",)),
    ("ba.analyst", "吴佳", "440306.petition", ("analyst",)),
    ("ba.lead", "杨建国", "440306.petition", ("unit_lead",)),
    ("ba.leader", "王海涛", "440306.gov", ("leader",)),
    ("ba.housing.handler", "李明", "440306.housing", ("handler",)),
    ("ba.housing.lead", "赵卫东", "440306.housing", ("unit_lead",)),
    ("ba.hrss.handler", "孙丽娟", "440306.hrss", ("handler",)),
    ("ba.hrss.lead", "徐建军", "440306.hrss", ("unit_lead",)),
    ("ba.urban.handler", "马俊", "440306.urban_mgmt", ("handler",)),
    ("ba.env.handler", "朱晓峰", "440306.eco_env", ("handler",)),
    ("ba.market.handler", "曾晓丽", "440306.market_reg", ("handler",)),
    ("ba.discipline", "胡静", "440306.discipline", ("discipline_inspector",)),
    ("ba.discipline.lead", "郭正", "440306.discipline", ("discipline_inspector", "unit_lead")),
    ("xinan.handler", "何丽萍", "440306001.office", ("handler",)),
    ("xinan.lead", "高峰", "440306001.office", ("unit_lead",)),
    ("haiwang.handler", "梁晓", "440306001001.station", ("handler", "registrar")),
    ("ft.registrar", "谢婷", "440304.petition", ("registrar",)),
    ("ft.officer", "宋健", "440304.petition", ("petition_officer",)),
    ("ft.housing.handler", "唐磊", "440304.housing", ("handler",)),
)


def demo_staff() -> list[dict[str, Any]]:
    """Demo accounts: username, display_name, unit_code, roles. A fresh list on every call."""
    return [
        {"username": u, "display_name": n, "unit_code": unit, "roles": list(roles)}
        for u, n, unit, roles in _STAFF
    ]


# The registrars at each demo petition office's reception desk (登记), by unit code.
DESKS: dict[str, tuple[str, ...]] = {
    "440300.petition": ("sz.registrar",),
    "440306.petition": ("ba.registrar1", "ba.registrar2"),
    "440304.petition": ("ft.registrar",),
}
CITY_DESK = "440300.petition"
CITY_DESK_EVERY = 5  # one in five desk petitions of a district with a desk came to the city's


def demo_desk(region_code: str, ordinal: int) -> str:
    """The registrar (username) who registers the ``ordinal``-th demo letter or visit (0, 1 …,
    counting desk petitions only), about ``region_code``: its district's petition office when
    the demo has one (宝安, 福田), except every ``CITY_DESK_EVERY``-th, which the petitioners
    took to the city's office (去市); the city's office for the districts with no demo office.
    Deterministic, and within each registrar's jurisdiction."""
    district = regions.district_of(region_code)
    office = f"{district.code}.petition" if district is not None else CITY_DESK
    if office not in DESKS or ordinal % CITY_DESK_EVERY == 0:
        office = CITY_DESK
    desk = DESKS[office]
    return desk[(ordinal // CITY_DESK_EVERY) % len(desk)]
