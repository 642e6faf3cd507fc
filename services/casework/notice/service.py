"""Issuing notices and recording their delivery (the ``casework.notice`` table).

``issue`` gives the notice its 文号, renders it from the kind's template in force, stores
the DOCX and the PDF in the object store (addressed by sha256) and inserts the row, all on
the caller's connection: the caller's unit of work commits. ``record_delivery`` records how
the notice reached the petitioner, once.

**文号.** ``<prefix>〔<year>〕第<seq:06d>号``, e.g. ``信受〔2026〕第000123号``: one series per
kind (``kinds.KindSpec.number_prefix``) and calendar year of issue in Asia/Shanghai, from 1,
without gaps while transactions commit. Allocation holds a transaction-level advisory lock
on (notice, kind:year) until the caller commits, then takes the series' highest number + 1:
concurrent issues of one kind and year queue, other kinds and years do not. (A plain
``SELECT max(...) + 1`` without the lock would hand two transactions the same number; the
unique constraint on ``number`` stays as the backstop.) A rolled-back issue leaves its
files in the store, unreferenced: harmless, objects are content-addressed.

The context carries personal data (the petitioner's name as printed): only ids, kinds and
numbers are logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Integer, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.casework.models import case as case_table
from services.casework.models import notice as notice_table
from services.casework.notice import kinds, render
from shared.api.errors import ApiError, not_found
from shared.clock import SHANGHAI, Clock
from shared.logging import get_logger
from shared.storage import ObjectStore

log = get_logger(__name__)

DeliveryMethod = Literal["in_person", "post", "electronic"]
DeliveryOutcome = Literal["signed", "refused", "sent"]
FileFormat = Literal["docx", "pdf"]

# Handed over in person, a notice is signed for or refused; by post it is sent and may come
# back signed (回执) or refused; electronically it is sent and may be acknowledged.
OUTCOMES: dict[str, frozenset[str]] = {
    "in_person": frozenset({"signed", "refused"}),
    "post": frozenset({"sent", "signed", "refused"}),
    "electronic": frozenset({"sent", "signed"}),
}
MEDIA_TYPES: dict[str, str] = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}

_LOCK_SPACE = "casework.notice"


@dataclass(frozen=True)
class Delivery:
    method: str
    outcome: str
    at: datetime
    recorded_by: str


@dataclass(frozen=True)
class NoticeRecord:
    """One row of ``casework.notice``."""

    id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    number: str
    template_version: str
    issued_at: datetime
    issued_by: str
    docx_key: str
    docx_sha256: str
    pdf_key: str
    pdf_sha256: str
    delivery: Delivery | None

    @property
    def title(self) -> str:
        return kinds.KINDS[self.kind].title if self.kind in kinds.KINDS else self.kind

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> NoticeRecord:
        delivery = None
        if row["delivery_method"] is not None:
            delivery = Delivery(
                row["delivery_method"],
                row["delivery_outcome"],
                row["delivered_at"],
                row["delivery_recorded_by"],
            )
        return cls(
            id=row["id"],
            case_id=row["case_id"],
            kind=row["kind"],
            number=row["number"],
            template_version=row["template_version"],
            issued_at=row["issued_at"],
            issued_by=row["issued_by"],
            docx_key=row["docx_key"],
            docx_sha256=row["docx_sha256"],
            pdf_key=row["pdf_key"],
            pdf_sha256=row["pdf_sha256"],
            delivery=delivery,
        )


@dataclass(frozen=True)
class NoticeFile:
    data: bytes
    media_type: str
    filename: str  # ASCII, for Content-Disposition


class NoticeFileError(RuntimeError):
    """A stored notice file is missing or does not match its recorded sha256."""


async def issue(
    db: AsyncConnection,
    *,
    case_id: uuid.UUID,
    kind: str,
    context: Mapping[str, Any],
    issued_by: str,
    store: ObjectStore,
    clock: Clock,
) -> NoticeRecord:
    """Number, render, store and record a notice of ``kind`` for the case.

    ``context`` is the caller's part (``kinds.<Kind>Fields``); the 文号, the tracking
    number, the day the petition was received and the day of issue are filled in here.
    Errors: 422 naming the field (``context.<path>``), 404 for an unknown case.
    """
    spec = kinds.get(kind)
    fields = kinds.validate_fields(spec, context)  # before any lock: a bad context costs nothing
    case = (
        (
            await db.execute(
                select(case_table.c.tracking_no, case_table.c.received_at).where(
                    case_table.c.case_id == case_id
                )
            )
        )
        .mappings()
        .first()
    )
    if case is None:
        raise not_found("办件不存在", "case not found")
    now = clock.now()
    issued_on = now.astimezone(SHANGHAI).date()
    number = await _allocate_number(db, spec, issued_on.year)
    full = {
        **fields.model_dump(),
        "number": number,
        "tracking_no": case["tracking_no"],
        "received_on": case["received_at"].astimezone(SHANGHAI).date(),
        "issued_on": issued_on,
    }
    rendered = await asyncio.to_thread(render.render, kind, full)
    docx_key, docx_sha = await store.put(rendered.docx)
    pdf_key, pdf_sha = await store.put(rendered.pdf)
    row = (
        (
            await db.execute(
                notice_table.insert()
                .values(
                    id=uuid.uuid4(),
                    case_id=case_id,
                    kind=kind,
                    number=number,
                    template_version=rendered.template_version,
                    issued_at=now,
                    issued_by=issued_by,
                    docx_key=docx_key,
                    docx_sha256=docx_sha,
                    pdf_key=pdf_key,
                    pdf_sha256=pdf_sha,
                )
                .returning(*notice_table.c)
            )
        )
        .mappings()
        .one()
    )
    record = NoticeRecord.from_row(row)
    log.info(
        "notice.issued",
        notice_id=str(record.id),
        case_id=str(case_id),
        kind=kind,
        number=number,
        template_version=record.template_version,
    )
    return record


async def _allocate_number(db: AsyncConnection, spec: kinds.KindSpec, year: int) -> str:
    """The next 文号 of the kind's series for ``year``; the lock is held until commit."""
    await db.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:space), hashtext(:series))"),
        {"space": _LOCK_SPACE, "series": f"{spec.code}:{year}"},
    )
    prefix = spec.number(year, 0).split("第", 1)[0]  # e.g. 信受〔2026〕
    n = notice_table.c
    seq = func.substring(n.number, "第([0-9]+)号$")
    last = await db.scalar(
        select(func.max(cast(seq, Integer))).where(
            n.kind == spec.code, func.starts_with(n.number, prefix)
        )
    )
    return spec.number(year, int(last or 0) + 1)


async def record_delivery(
    db: AsyncConnection,
    *,
    notice_id: uuid.UUID,
    method: DeliveryMethod,
    outcome: DeliveryOutcome,
    at: datetime,
    recorded_by: str,
) -> NoticeRecord:
    """Record how the notice reached the petitioner (送达: in person, by post, electronic;
    signed, refused or sent). Once: recording the same method, outcome and time again
    returns the notice unchanged (a retried request); anything else is 409
    ``delivery_already_recorded``."""
    if method not in OUTCOMES:
        raise ApiError(422, "invalid_choice", "送达方式不在允许范围内", "unknown method", "method")
    if outcome not in OUTCOMES[method]:
        raise ApiError(
            422,
            "invalid_delivery_outcome",
            "该送达方式不能有此送达结果",
            f"{outcome!r} is not an outcome of {method!r} delivery",
            "outcome",
        )
    if at.tzinfo is None:
        raise ApiError(422, "invalid_datetime", "时间须带时区", "date-time needs an offset", "at")
    row = (
        (
            await db.execute(
                notice_table.update()
                .where(
                    notice_table.c.id == notice_id,
                    notice_table.c.delivery_method.is_(None),
                    notice_table.c.issued_at <= at,
                )
                .values(
                    delivery_method=method,
                    delivery_outcome=outcome,
                    delivered_at=at,
                    delivery_recorded_by=recorded_by,
                )
                .returning(*notice_table.c)
            )
        )
        .mappings()
        .first()
    )
    if row is not None:
        log.info("notice.delivered", notice_id=str(notice_id), method=method, outcome=outcome)
        return NoticeRecord.from_row(row)
    current = await get(db, notice_id=notice_id)
    if current is None:
        raise not_found("告知书不存在", "notice not found")
    existing = current.delivery
    if existing is None:
        raise ApiError(
            422,
            "delivered_before_issue",
            "送达时间早于发文时间",
            "delivery cannot precede issue",
            "at",
        )
    if (existing.method, existing.outcome, existing.at) == (method, outcome, at):
        return current
    raise ApiError(
        409,
        "delivery_already_recorded",
        "该告知书的送达情况已登记，不能更改",
        "the delivery of this notice is already recorded",
    )


async def get(db: AsyncConnection, *, notice_id: uuid.UUID) -> NoticeRecord | None:
    row = (
        (await db.execute(select(notice_table).where(notice_table.c.id == notice_id)))
        .mappings()
        .first()
    )
    return None if row is None else NoticeRecord.from_row(row)


async def list_for_case(db: AsyncConnection, case_id: uuid.UUID) -> list[NoticeRecord]:
    """The case's notices, oldest first."""
    rows = (
        (
            await db.execute(
                select(notice_table)
                .where(notice_table.c.case_id == case_id)
                .order_by(notice_table.c.issued_at, notice_table.c.number)
            )
        )
        .mappings()
        .all()
    )
    return [NoticeRecord.from_row(r) for r in rows]


async def open_file(store: ObjectStore, notice: NoticeRecord, fmt: FileFormat) -> NoticeFile:
    """The stored DOCX or PDF, checked against the sha256 recorded at issue."""
    if fmt not in MEDIA_TYPES:
        raise ApiError(422, "invalid_choice", "文件格式不在允许范围内", "docx or pdf", "format")
    key, digest = (
        (notice.docx_key, notice.docx_sha256)
        if fmt == "docx"
        else (notice.pdf_key, notice.pdf_sha256)
    )
    try:
        data = await store.get(key)
    except (KeyError, FileNotFoundError) as exc:
        raise NoticeFileError(f"notice {notice.id}: {fmt} file missing") from exc
    if hashlib.sha256(data).hexdigest() != digest:
        raise NoticeFileError(f"notice {notice.id}: {fmt} file does not match its sha256")
    return NoticeFile(data, MEDIA_TYPES[fmt], f"notice-{notice.id}.{fmt}")
