"""What notify keeps of each case to reach its petitioner and partners after registration:
casework's later milestones carry no contact details and no partner ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.crypto import KeyRing


@dataclass(frozen=True)
class Contact:
    case_id: uuid.UUID
    tracking_no: str
    recipient_hash: str | None
    pii: dict[str, str]
    source: str | None
    urgency: str
    accusation: bool
    external_ids: dict[str, str]
    office_unit_id: str | None
    lead_unit_id: str | None
    lead_unit_name: str | None
    co_unit_ids: list[str]
    in_progress_sent: bool

    @property
    def phone(self) -> str | None:
        return self.pii.get("phone") or None

    @property
    def email(self) -> str | None:
        return self.pii.get("email") or None

    @property
    def order_no(self) -> str | None:
        """The 12345 work order this case came from (integrations §1)."""
        return self.external_ids.get("hotline_order_no") or self.external_ids.get("order_no")

    @property
    def province_case_no(self) -> str | None:
        return self.external_ids.get("province_case_no")

    @property
    def units(self) -> set[str]:
        return {u for u in (self.office_unit_id, self.lead_unit_id, *self.co_unit_ids) if u}


async def upsert_many(db: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """One statement for a batch of registrations; a re-registration changes nothing."""
    if not rows:
        return
    cols = ("c", "t", "r", "p", "s", "u", "a", "x", "o", "at")
    await db.execute(
        text(
            "INSERT INTO notify.case_contact (case_id, tracking_no, recipient_hash, pii_enc, "
            "source, urgency, accusation, external_ids, office_unit_id, registered_at) "
            "SELECT c, t, r, p, s, u, a, CAST(x AS jsonb), o, at FROM unnest("
            "CAST(:c AS uuid[]), CAST(:t AS text[]), CAST(:r AS text[]), CAST(:p AS text[]), "
            "CAST(:s AS text[]), CAST(:u AS text[]), CAST(:a AS boolean[]), CAST(:x AS text[]), "
            "CAST(:o AS text[]), CAST(:at AS timestamptz[])) AS v(c, t, r, p, s, u, a, x, o, at) "
            "ON CONFLICT (case_id) DO NOTHING"
        ),
        {k: [row[k] for row in rows] for k in cols},
    )


def contact_row(
    ring: KeyRing,
    *,
    case_id: uuid.UUID,
    tracking_no: str,
    recipient_hash: str | None,
    pii: dict[str, str],
    source: str | None,
    urgency: str,
    accusation: bool,
    external_ids: dict[str, str],
    office_unit_id: str | None,
    registered_at: datetime,
) -> dict[str, Any]:
    # the query code is not kept: it was needed for the receipt only
    kept = {k: v for k, v in pii.items() if k in ("name", "phone", "email") and v}
    return {
        "c": case_id,
        "t": tracking_no,
        "r": recipient_hash,
        "p": ring.encrypt_text(orjson.dumps(kept).decode()) if kept else None,
        "s": source,
        "u": urgency,
        "a": accusation,
        "x": orjson.dumps(external_ids).decode(),
        "o": office_unit_id,
        "at": registered_at,
    }


async def get(db: AsyncConnection, ring: KeyRing, case_id: uuid.UUID) -> Contact | None:
    row = (
        await db.execute(
            text("SELECT * FROM notify.case_contact WHERE case_id = :c"), {"c": case_id}
        )
    ).first()
    if row is None:
        return None
    pii: dict[str, str] = {}
    if row.pii_enc:
        pii = orjson.loads(ring.decrypt_text(row.pii_enc) or "{}")
    return Contact(
        case_id=row.case_id,
        tracking_no=row.tracking_no,
        recipient_hash=row.recipient_hash,
        pii=pii,
        source=row.source,
        urgency=row.urgency,
        accusation=row.accusation,
        external_ids=dict(row.external_ids or {}),
        office_unit_id=row.office_unit_id,
        lead_unit_id=row.lead_unit_id,
        lead_unit_name=row.lead_unit_name,
        co_unit_ids=list(row.co_unit_ids or []),
        in_progress_sent=row.in_progress_sent,
    )


async def set_units(
    db: AsyncConnection,
    *,
    case_id: uuid.UUID,
    lead_unit_id: str | None,
    lead_unit_name: str | None,
    co_unit_ids: list[str],
) -> None:
    await db.execute(
        text(
            "UPDATE notify.case_contact SET lead_unit_id = :l, lead_unit_name = :n, "
            "co_unit_ids = CAST(:co AS text[]) WHERE case_id = :c"
        ),
        {"c": case_id, "l": lead_unit_id, "n": lead_unit_name, "co": co_unit_ids},
    )


async def mark_in_progress(db: AsyncConnection, case_id: uuid.UUID) -> bool:
    """True the first time only (the hotline hears ``in_progress`` once)."""
    return (
        await db.scalar(
            text(
                "UPDATE notify.case_contact SET in_progress_sent = true "
                "WHERE case_id = :c AND NOT in_progress_sent RETURNING 1"
            ),
            {"c": case_id},
        )
    ) is not None
