"""The petition record the text algorithms read, and loaders from the Teddy 2020 CSV files.

A :class:`Petition` carries what the analytics read model keeps per case (text already
redacted, pseudonymous person keys only) plus the optional failure signals screening uses.
The loaders map a Teddy row as intake's ``teddy2020`` mapping does (留言编号 → case id, 留言用户
→ person key ``teddy2020:<user>``, 留言主题/留言详情, 留言时间, 点赞数 → likes) without going
through intake, so tests and the CLI can read a file directly.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from shared.dates import parse_datetime
from shared.reference import categories

# where tests, benchmarks and the CLI look for the real data: ../shared/data beside the repo
SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
TEDDY_DEFAULT_REGION = "440306"  # intake's default for sources without our region codes
TEDDY_SOURCE = "mayor_mailbox"


@dataclass(frozen=True, slots=True)
class Petition:
    """One case as the text algorithms see it.

    ``person_keys`` are pseudonymous keys of everyone linked to the case: the petitioner's
    identifiers, co-petitioners, the representative of a collective visit, the principal of a
    proxy. ``pending_levels`` lists the region codes where the same matter is still open at a
    lower level (越级 screening); the other signals come from casework's events.
    """

    case_id: str
    title: str
    content: str
    person_keys: tuple[str, ...] = ()
    region_code: str | None = None
    category_code: str | None = None
    source: str | None = None
    people_count: int = 1
    received_at: datetime | None = None
    likes: int | None = None
    overdue: bool = False
    extended: bool = False
    dissatisfied: bool = False
    review_requested: bool = False
    transfers: int = 0
    pending_levels: tuple[str, ...] = field(default=())
    owner_unit: str | None = None

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.content}" if self.title else self.content


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def teddy2020_row(row: dict[str, str]) -> Petition | None:
    """A Teddy row (留言编号 … columns) as a petition; ``None`` for rows intake would reject."""
    case_id = (row.get("留言编号") or "").strip()
    content = (row.get("留言详情") or "").replace("\x00", "").strip()
    when = (row.get("留言时间") or "").strip()
    if not case_id or not content or not when:
        return None
    try:
        received_at = parse_datetime(when)
    except ValueError:
        return None
    user = (row.get("留言用户") or "").strip()
    title = (row.get("留言主题") or "").strip() or " ".join(content.split())[:30]
    label = (row.get("一级标签") or "").strip()
    category = categories.match_label(label) if label else None
    return Petition(
        case_id=case_id,
        title=title,
        content=content,
        person_keys=(f"teddy2020:{user}",) if user else (),
        region_code=TEDDY_DEFAULT_REGION,
        category_code=category.code if category else None,
        source=TEDDY_SOURCE,
        received_at=received_at,
        likes=_int(row.get("点赞数")),
    )


def read_teddy2020(path: str | Path) -> list[Petition]:
    """Every usable row of a Teddy 2020 file with 留言编号 (hotspot, fullcolumns, replied)."""
    csv.field_size_limit(sys.maxsize)  # bodies can be long
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [p for p in map(teddy2020_row, csv.DictReader(handle)) if p is not None]


MAPPINGS = {"teddy2020": read_teddy2020}


def read_csv(path: str | Path, *, mapping: str = "teddy2020") -> list[Petition]:
    """Petitions from a partner file through the named mapping."""
    try:
        reader = MAPPINGS[mapping]
    except KeyError:
        raise ValueError(f"unknown mapping {mapping!r}; known: {', '.join(MAPPINGS)}") from None
    return reader(path)


def between(
    petitions: Iterable[Petition], date_from: datetime | None, date_to: datetime | None
) -> Iterator[Petition]:
    """Petitions received in ``[date_from, date_to)``; open ends where ``None``."""
    for p in petitions:
        if p.received_at is None:
            continue
        if date_from is not None and p.received_at < date_from:
            continue
        if date_to is not None and p.received_at >= date_to:
            continue
        yield p
