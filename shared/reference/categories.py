"""The category tree: what a petition or 12345 request is about, and who owns that kind of matter.

Owns the versioned three-level classification (一级 / 二级 / 三级) used by intake, routing,
screening, metrics and the Open311 `services.json`: each node's stable code, name, Open311
service code, responsible department type (duty), high-risk flag and statutory handling path
(建议意见 / 检举控告 / 申诉求决, with 涉法涉诉 diverted to 政法 organs). The data is authored in
`shared.reference.data.category_tree`; this module validates it once at import and offers
read-only look-ups. Nothing here touches a database.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from shared.reference.data import category_tree as _data

CATEGORY_TREE_VERSION: str = _data.VERSION

HandlingPath = Literal["suggestion", "accusation", "claim"]
HANDLING_PATHS: tuple[HandlingPath, ...] = ("suggestion", "accusation", "claim")


@dataclass(frozen=True, slots=True)
class Duty:
    """A functional department type, e.g. `Duty("housing", "住房和城乡建设局")`."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Category:
    """One node of the tree. `level` is 1, 2 or 3; top-level nodes have no service code."""

    code: str
    name: str
    level: int
    parent_code: str | None
    open311_service_code: str | None
    duty: Duty
    high_risk: bool
    handling_path: HandlingPath
    diverted_to: str | None
    is_leaf: bool
    path: tuple[str, ...]

    @property
    def top_code(self) -> str:
        return self.code.split(".", 1)[0]

    @property
    def full_name(self) -> str:
        """Names from the top down, e.g. "城乡建设/物业管理/物业服务质量"."""
        return "/".join(self.path)


def _build() -> tuple[dict[str, Category], dict[str, Duty]]:
    duties = {code: Duty(code, name) for code, name in _data.DUTIES.items()}
    nodes: dict[str, Category] = {}

    def walk(
        raw: dict[str, Any],
        parent: Category | None,
        parent_slug: str | None,
        inherited: dict[str, Any],
    ) -> None:
        suffix = raw["suffix"]
        code = suffix if parent is None else f"{parent.code}.{suffix}"
        level = 1 if parent is None else parent.level + 1
        if level > 3:
            raise ValueError(f"category {code}: deeper than three levels")
        if code in nodes:
            raise ValueError(f"category {code}: duplicate code")
        attrs = {**inherited}
        for key in ("duty", "handling_path", "diverted_to"):
            if key in raw:
                attrs[key] = raw[key]
        attrs["high_risk"] = bool(inherited.get("high_risk")) or bool(raw.get("high_risk"))
        if attrs.get("duty") not in duties:
            raise ValueError(f"category {code}: unknown duty {attrs.get('duty')!r}")
        if attrs["handling_path"] not in HANDLING_PATHS:
            raise ValueError(f"category {code}: bad handling path {attrs['handling_path']!r}")
        slug = raw["slug"] if parent_slug is None else f"{parent_slug}.{raw['slug']}"
        node = Category(
            code=code,
            name=raw["name"],
            level=level,
            parent_code=None if parent is None else parent.code,
            open311_service_code=slug if level >= 2 else None,
            duty=duties[attrs["duty"]],
            high_risk=attrs["high_risk"],
            handling_path=attrs["handling_path"],
            diverted_to=attrs.get("diverted_to"),
            is_leaf=not raw["children"],
            path=(parent.path if parent else ()) + (raw["name"],),
        )
        nodes[code] = node
        for child in raw["children"]:
            walk(child, node, slug, attrs)

    for top in _data.TREE:
        walk(top, None, None, {"handling_path": "claim", "diverted_to": None})
    return nodes, duties


_BY_CODE, _DUTIES = _build()
_ALL: tuple[Category, ...] = tuple(_BY_CODE.values())
_CHILDREN: dict[str | None, tuple[Category, ...]] = {}
for _node in _ALL:
    _CHILDREN[_node.parent_code] = (*_CHILDREN.get(_node.parent_code, ()), _node)
_BY_SERVICE: dict[str, Category] = {
    c.open311_service_code: c for c in _ALL if c.open311_service_code is not None
}
if len(_BY_SERVICE) != sum(1 for c in _ALL if c.open311_service_code is not None):
    raise ValueError("category tree: duplicate Open311 service codes")
_BY_NAME: dict[str, list[Category]] = {}
_BY_LABEL: dict[str, Category] = {}
for _node in sorted(_ALL, key=lambda c: c.level):
    _BY_NAME.setdefault(_node.name, []).append(_node)
_SYNONYMS: dict[str, Category] = {}
for _label, _code in _data.SYNONYMS.items():
    if _code not in _BY_CODE:
        raise ValueError(f"category synonym {_label!r}: unknown code {_code}")
    _SYNONYMS[_label] = _BY_CODE[_code]


def all_categories() -> tuple[Category, ...]:
    """Every node, depth first in tree order (a parent always precedes its children)."""
    return _ALL


def get(code: str) -> Category | None:
    return _BY_CODE.get(code)


def by_name(name: str, level: int | None = None) -> Category | None:
    """The node called `name` (at `level` if given); the shallowest one if several match."""
    for node in _BY_NAME.get(name.strip(), ()):
        if level is None or node.level == level:
            return node
    return None


def by_service_code(service_code: str) -> Category | None:
    return _BY_SERVICE.get(service_code)


def children(code: str) -> tuple[Category, ...]:
    """Direct children of `code`, in tree order; empty for a leaf or an unknown code."""
    return _CHILDREN.get(code, ())


def descendants(code: str) -> tuple[Category, ...]:
    """Every node below `code` (not `code` itself), depth first."""
    out: list[Category] = []
    for child in children(code):
        out.append(child)
        out.extend(descendants(child.code))
    return tuple(out)


def top_level() -> tuple[Category, ...]:
    return _CHILDREN.get(None, ())


def leaves() -> tuple[Category, ...]:
    return tuple(c for c in _ALL if c.is_leaf)


def is_within(code: str, ancestor_code: str) -> bool:
    """True when `code` is `ancestor_code` or lies below it (both must be known codes)."""
    if code not in _BY_CODE or ancestor_code not in _BY_CODE:
        return False
    return code == ancestor_code or code.startswith(ancestor_code + ".")


def duties() -> tuple[Duty, ...]:
    return tuple(_DUTIES.values())


def get_duty(code: str) -> Duty | None:
    return _DUTIES.get(code)


def _normalize(label: str) -> str:
    # NFKC folds full-width letters, digits and brackets that partner systems send.
    text = unicodedata.normalize("NFKC", label)
    return "".join(text.split())


def match_label(label: str) -> Category | None:
    """Map a partner's free label (e.g. "环境保护", "城管", "物业管理") to our node.

    Exact node name first (shallowest level wins), then the synonyms table, then None. A
    path-shaped label ("城乡建设/物业管理") is matched on its most specific part that we know.
    """
    text = _normalize(label or "")
    if not text:
        return None
    for candidate in (text, *reversed(_split_path(text))):
        found = _lookup(candidate)
        if found is not None:
            return found
    return None


def _split_path(text: str) -> list[str]:
    for sep in ("/", ">", "＞", "-", "|", "、"):
        if sep in text:
            return [part for part in text.split(sep) if part]
    return []


def _lookup(text: str) -> Category | None:
    return _BY_LABEL.get(text) or _SYNONYMS.get(text)


# Names compared the way labels are (NFKC, no blanks), so "村(社区)干部问题" finds its node.
for _names in _BY_NAME.values():
    _BY_LABEL.setdefault(_normalize(_names[0].name), _names[0])
