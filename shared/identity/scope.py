"""Scopes: what part of the data a principal may see (architecture §2.6, 属地管理、分级负责).

Every query over scoped rows adds one of these conditions:

* :func:`scope_condition` — rows whose org path lies in the caller's org subtree
  (``path LIKE '/SZ/SZBA/%'``, LIKE wildcards in ids escaped);
* :func:`region_scope_condition` — rows whose region code lies in one of the caller's
  jurisdictions (by code prefix, see :func:`region_prefix`).

**Out of scope is answered with 404, never 403**: a row the caller may not see is, for
them, a row that does not exist (``shared.api.errors.not_found()``; :func:`ensure_in_scope`
does it), so ids outside one's scope cannot be probed. 403 is only for a missing *role* on
something the caller can see.

Scope comes from the org unit alone; no role widens it (a city-wide leader is simply
attached to the city's unit). Citizens and partners have no org scope: for them these
conditions are false, and their own filters (own petitions / own pushes) apply instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_

from shared.api.errors import ApiError, not_found
from shared.identity.principal import Principal

_LIKE_ESCAPE = "\\"


def escape_like(value: str) -> str:
    """``value`` with ``\\``, ``%`` and ``_`` escaped for ``LIKE ... ESCAPE '\\'``."""
    return value.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")


def _subtree_root(principal: Principal) -> str | None:
    if not principal.is_staff or not principal.org_path:
        return None
    path = principal.org_path
    return path if path.endswith("/") else path + "/"


def subtree_condition(path_column: Any, org_path: str) -> ColumnElement[bool]:
    """Rows whose path is ``org_path`` or below it."""
    if not org_path.endswith("/"):
        org_path += "/"
    return path_column.like(escape_like(org_path) + "%", escape=_LIKE_ESCAPE)


def scope_condition(principal: Principal, path_column: Any) -> ColumnElement[bool]:
    """A boolean clause limiting rows to the caller's org subtree (false outside staff)."""
    root = _subtree_root(principal)
    if root is None:
        return false()
    return subtree_condition(path_column, root)


def in_scope(principal: Principal, org_path: str | None) -> bool:
    """Whether a row at ``org_path`` lies in the caller's org subtree."""
    root = _subtree_root(principal)
    if root is None or not org_path:
        return False
    if not org_path.endswith("/"):
        org_path += "/"
    return org_path.startswith(root)


def ensure_in_scope(
    principal: Principal, org_path: str | None, error: ApiError | None = None
) -> None:
    """Raise 404 (or ``error``) unless ``org_path`` is in the caller's scope."""
    if not in_scope(principal, org_path):
        raise error or not_found()


# Administrative division codes (GB/T 2260 and the statistics bureau's 12-digit codes):
# province 2 + city 2 + county 2 + township 3 + village 3 digits.
_SEGMENT_ENDS = (2, 4, 6, 9, 12)


def region_prefix(code: str) -> str | None:
    """The prefix that every code inside region ``code`` starts with, or None for a code
    that is not a division code.

    Trailing all-zero segments mean "the whole of the level above": ``440300`` (Shenzhen) ->
    ``4403``, ``440000`` (Guangdong) -> ``44``, ``440306`` (Bao'an) -> ``440306``,
    ``440306001000`` -> ``440306001``. Segments are stripped whole (the township segment has
    three digits), so ``440306010000`` keeps ``440306010``."""
    code = code.strip()
    if not code.isascii() or not code.isdigit() or len(code) not in _SEGMENT_ENDS:
        return None
    ends = [e for e in _SEGMENT_ENDS if e <= len(code)]
    while len(ends) > 1:
        start = ends[-2]
        if set(code[start:]) != {"0"}:
            break
        code = code[:start]
        ends.pop()
    if set(code) == {"0"}:
        return None
    return code


def region_prefixes(codes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Distinct prefixes of ``codes``, without any that a shorter one already covers."""
    prefixes = sorted({p for c in codes if (p := region_prefix(c)) is not None}, key=len)
    kept: list[str] = []
    for p in prefixes:
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return tuple(sorted(kept))


def region_covers(region_codes: tuple[str, ...] | list[str], code: str | None) -> bool:
    """Whether ``code`` lies within any of ``region_codes``."""
    if not code:
        return False
    code = code.strip()
    return any(code.startswith(p) for p in region_prefixes(region_codes))


def in_region_scope(principal: Principal, region_code: str | None) -> bool:
    """Whether a row in ``region_code`` lies in the caller's jurisdiction."""
    return principal.is_staff and region_covers(principal.region_codes, region_code)


def region_scope_condition(principal: Principal, region_column: Any) -> ColumnElement[bool]:
    """A boolean clause limiting rows to the caller's jurisdictions (false outside staff
    or with no valid region code)."""
    if not principal.is_staff:
        return false()
    prefixes = region_prefixes(principal.region_codes)
    if not prefixes:
        return false()
    # Division codes are digits only: nothing to escape.
    return or_(*(region_column.like(p + "%") for p in prefixes))
