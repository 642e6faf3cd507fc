"""The org tree as casework needs it: petition offices and discipline units of a
jurisdiction, a unit's next-higher body, units by duty. Read from the identity library's
tables through its own connection and kept in memory for a short while (the tree changes
rarely; a unit created by an admin is seen within ``TTL_SECONDS``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select, text

from shared.db import Database
from shared.identity.models import org_unit
from shared.identity.scope import region_covers, region_prefix

TTL_SECONDS = 30.0


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    kind: str
    parent_id: str | None
    path: str
    region_codes: tuple[str, ...]
    duties: tuple[str, ...]

    def covers(self, region_code: str) -> bool:
        """Whether ``region_code`` lies in this unit's jurisdiction."""
        return region_covers(self.region_codes, region_code)


class OrgDirectory:
    def __init__(self, units: list[Unit]) -> None:
        self.by_id = {u.id: u for u in units}

    def get(self, unit_id: str | None) -> Unit | None:
        return self.by_id.get(unit_id) if unit_id else None

    def parent(self, unit_id: str) -> Unit | None:
        unit = self.by_id.get(unit_id)
        return self.by_id.get(unit.parent_id) if unit and unit.parent_id else None

    def _of_kind(self, kind: str, region_code: str) -> list[Unit]:
        """Units of ``kind`` whose jurisdiction covers the region, nearest (deepest) first."""
        found = [u for u in self.by_id.values() if u.kind == kind and u.covers(region_code)]
        return sorted(found, key=lambda u: (-self._reach(u, region_code), -u.path.count("/"), u.id))

    @staticmethod
    def _reach(unit: Unit, region_code: str) -> int:
        """How closely the unit's jurisdiction fits the region (longest matching prefix)."""
        return max(
            (
                len(p)
                for c in unit.region_codes
                if (p := region_prefix(c)) and region_code.startswith(p)
            ),
            default=0,
        )

    def petition_offices(self, region_code: str) -> list[Unit]:
        return self._of_kind("petition_office", region_code)

    def discipline_units(self, region_code: str) -> list[Unit]:
        return self._of_kind("discipline", region_code)

    def units_for(self, region_code: str, category_code: str | None) -> list[Unit]:
        """Units whose jurisdiction covers the region and whose duties cover the category,
        the most specific duty and the nearest unit first."""
        if not category_code:
            return []
        scored = []
        for u in self.by_id.values():
            if u.kind not in ("department", "street", "community") or not u.covers(region_code):
                continue
            best = max(
                (
                    len(d)
                    for d in u.duties
                    if category_code == d or category_code.startswith(d + ".")
                ),
                default=0,
            )
            if best:
                scored.append((best, u.path.count("/"), u))
        scored.sort(key=lambda t: (-t[0], t[1], t[2].id))
        return [u for _, _, u in scored]

    def superior_body(self, unit_id: str) -> Unit | None:
        """The next-higher body for 复查 / 复核: the nearest government above the unit (a
        department's own government), or the parent of a government."""
        unit = self.by_id.get(unit_id)
        cur = self.parent(unit_id) if unit else None
        while cur is not None and cur.kind != "government":
            cur = self.parent(cur.id)
        return cur

    def common_superior(self, a: str, b: str) -> Unit | None:
        ua, ub = self.by_id.get(a), self.by_id.get(b)
        if ua is None or ub is None:
            return None
        common = None
        for x, y in zip(
            [p for p in ua.path.split("/") if p], [p for p in ub.path.split("/") if p], strict=False
        ):
            if x != y:
                break
            common = x
        return self.by_id.get(common) if common else None


_cache: dict[int, tuple[float, tuple[int, object], OrgDirectory]] = {}

_VERSION = text("SELECT count(*), max(created_at) FROM identity.org_unit")


async def directory(db: Database, *, fresh: bool = False) -> OrgDirectory:
    """The org tree, reloaded when a unit was added (checked on every call: one tiny query)
    and at least every ``TTL_SECONDS`` (edits of existing units)."""
    key = id(db)
    hit = _cache.get(key)
    async with db.transaction("identity") as conn:
        version = tuple((await conn.execute(_VERSION)).one())
        if hit and not fresh and hit[1] == version and time.monotonic() - hit[0] < TTL_SECONDS:
            return hit[2]
        rows = (await conn.execute(select(org_unit))).mappings().all()
    found = OrgDirectory(
        [
            Unit(
                id=r["id"],
                name=r["name"],
                kind=r["kind"],
                parent_id=r["parent_id"],
                path=r["path"],
                region_codes=tuple(r["region_codes"] or ()),
                duties=tuple(r["duties"] or ()),
            )
            for r in rows
        ]
    )
    _cache[key] = (time.monotonic(), (int(version[0]), version[1]), found)
    return found
