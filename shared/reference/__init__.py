"""Versioned reference data shared by every Minsheng service.

Owns two read-only tables, both authored in `shared.reference.data` and loaded in memory:

* `categories` — the three-level category tree (一级 / 二级 / 三级) with stable codes, Open311
  service codes, the responsible department type, high-risk flags and handling paths;
* `regions` — the administrative regions of the jurisdiction (省 / 市 / 区 / 街道 / 社区).

Both modules have functions of the same names (`get`, `children`); use them through the
module (`categories.get("C01")`, `regions.get("440306")`) or the aliases below. Store
`version()` alongside anything classified with this data.
"""

from __future__ import annotations

from shared.reference import categories, regions
from shared.reference.categories import (
    CATEGORY_TREE_VERSION,
    Category,
    Duty,
    all_categories,
    by_name,
    by_service_code,
    match_label,
    top_level,
)
from shared.reference.regions import (
    REGION_VERSION,
    Region,
    ancestors,
    district_of,
    districts,
    is_known,
    valid_region_code,
)

get_category = categories.get
category_children = categories.children
get_region = regions.get
region_children = regions.children
region_is_within = regions.is_within


def version() -> str:
    """Combined version of the reference data, e.g. "categories-2026.11.1+regions-2026.11.1"."""
    return f"categories-{CATEGORY_TREE_VERSION}+regions-{REGION_VERSION}"


__all__ = [
    "CATEGORY_TREE_VERSION",
    "REGION_VERSION",
    "Category",
    "Duty",
    "Region",
    "all_categories",
    "ancestors",
    "by_name",
    "by_service_code",
    "categories",
    "category_children",
    "district_of",
    "districts",
    "get_category",
    "get_region",
    "is_known",
    "match_label",
    "region_children",
    "region_is_within",
    "regions",
    "top_level",
    "valid_region_code",
    "version",
]
