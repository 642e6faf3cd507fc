"""Administrative regions: codes, names and containment for the jurisdiction Minsheng serves.

Owns the versioned region table (省 → 市 → 区 → 街道 → 社区) built from
`shared.reference.data.regions`, and the questions every service asks of a region code: is
it one we know, what district is it in, is it inside another region. Province, city and
district codes are GB/T 2260; street (9-digit) and community (12-digit) codes are Minsheng's
own derived codes (see the data module). Read-only and in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from shared.reference.data import regions as _data

REGION_VERSION: str = _data.VERSION

RegionLevel = Literal["province", "city", "district", "street", "community"]

_SIX_DIGITS = re.compile(r"^[1-9]\d{5}$")
_STANDARD = re.compile(r"^[1-9]\d{5}(\d{3}){0,2}$")  # 6, 9 or 12 digits


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: RegionLevel
    parent_code: str | None


def _build() -> dict[str, Region]:
    regions: dict[str, Region] = {}

    def add(region: Region) -> None:
        if region.code in regions:
            raise ValueError(f"region {region.code}: duplicate code")
        if region.parent_code is not None and region.parent_code not in regions:
            raise ValueError(f"region {region.code}: unknown parent {region.parent_code}")
        regions[region.code] = region

    province_code, province_name = _data.PROVINCE
    city_code, city_name = _data.CITY
    add(Region(province_code, province_name, "province", None))
    add(Region(city_code, city_name, "city", province_code))
    for district_code, (district_name, streets) in _data.DISTRICTS.items():
        add(Region(district_code, district_name, "district", city_code))
        for ordinal, street_name in enumerate(streets, start=1):
            add(Region(f"{district_code}{ordinal:03d}", street_name, "street", district_code))
    for street_code, communities in _data.COMMUNITIES.items():
        if regions.get(street_code, None) is None or regions[street_code].level != "street":
            raise ValueError(f"communities listed under unknown street {street_code}")
        for ordinal, community_name in enumerate(communities, start=1):
            add(Region(f"{street_code}{ordinal:03d}", community_name, "community", street_code))
    return regions


_BY_CODE = _build()
_CHILDREN: dict[str, tuple[Region, ...]] = {}
for _region in _BY_CODE.values():
    if _region.parent_code is not None:
        _CHILDREN[_region.parent_code] = (*_CHILDREN.get(_region.parent_code, ()), _region)


def all_regions() -> tuple[Region, ...]:
    """Every region, parents before children."""
    return tuple(_BY_CODE.values())


def get(code: str) -> Region | None:
    return _BY_CODE.get(code)


def is_known(code: str) -> bool:
    return code in _BY_CODE


def children(code: str) -> tuple[Region, ...]:
    return _CHILDREN.get(code, ())


def ancestors(code: str) -> tuple[Region, ...]:
    """The known regions containing `code`, from the province down to its direct parent.

    Empty for an unknown code or the province itself.
    """
    chain: list[Region] = []
    region = _BY_CODE.get(code)
    while region is not None and region.parent_code is not None:
        region = _BY_CODE.get(region.parent_code)
        if region is not None:
            chain.append(region)
    return tuple(reversed(chain))


def full_name(code: str) -> str | None:
    """E.g. "广东省深圳市宝安区新安街道" for "440306001"; None for an unknown code."""
    region = _BY_CODE.get(code)
    if region is None:
        return None
    return "".join(r.name for r in ancestors(code)) + region.name


def districts() -> tuple[Region, ...]:
    return tuple(r for r in _BY_CODE.values() if r.level == "district")


def streets(district_code: str | None = None) -> tuple[Region, ...]:
    """All streets, or those of one district."""
    return tuple(
        r
        for r in _BY_CODE.values()
        if r.level == "street" and (district_code is None or r.parent_code == district_code)
    )


def district_of(code: str) -> Region | None:
    """The district a known district, street or community code lies in (itself for a district)."""
    region = _BY_CODE.get(code)
    while region is not None and region.level != "district":
        region = _BY_CODE.get(region.parent_code) if region.parent_code else None
    return region


def is_within(code: str, ancestor_code: str) -> bool:
    """True when region `code` is `ancestor_code` or lies inside it.

    Known codes are answered through their parents. Otherwise codes of the standard shape are
    compared by the GB/T 2260 structure: a province "PP0000" holds every code starting "PP", a
    city "PPCC00" every code starting "PPCC", a district (6 digits) or a street (9 digits)
    every longer code that starts with it. So an unlisted village code "440306001123" is
    inside "440306" and "440000", but not inside "440304".
    """
    if code == ancestor_code:
        return code in _BY_CODE or bool(_STANDARD.match(code))
    if code in _BY_CODE and ancestor_code in _BY_CODE:
        return any(r.code == ancestor_code for r in ancestors(code))
    if not (_STANDARD.match(code) and _STANDARD.match(ancestor_code)):
        return False
    if len(ancestor_code) == 6 and ancestor_code.endswith("0000"):
        return code.startswith(ancestor_code[:2])
    if len(ancestor_code) == 6 and ancestor_code.endswith("00"):
        return code.startswith(ancestor_code[:4])
    return len(code) > len(ancestor_code) and code.startswith(ancestor_code)


def valid_region_code(code: str) -> bool:
    """A 6-digit GB/T 2260 code we know, or a longer street / community code we know."""
    if not isinstance(code, str) or not code.isascii() or not code.isdigit():
        return False
    if len(code) == 6:
        return bool(_SIX_DIGITS.match(code)) and code in _BY_CODE
    return len(code) in (9, 12) and code in _BY_CODE
