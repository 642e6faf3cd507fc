"""Issuing notices against the real database: 文号 series, stored files, delivery once."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docx
import pytest
from sqlalchemy import text

from services.casework.notice import kinds, service
from services.casework.notice.examples import EXAMPLES
from services.casework.notice.schemas import NoticeRead
from shared.api.errors import ApiError
from shared.clock import SHANGHAI, FixedClock
from shared.db import Database
from shared.storage import LocalObjectStore

pytestmark = pytest.mark.asyncio(loop_scope="session")

ISSUED = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


RECEIVED = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)


async def new_case(db: Database, received_at: datetime = RECEIVED) -> uuid.UUID:
    case_id = uuid.uuid4()
    async with db.transaction("casework") as conn:
        await conn.execute(
            text(
                "INSERT INTO casework.case (case_id, tracking_no, source, channel, title, "
                "region_code, status, received_at, registered_at, updated_at) VALUES "
                "(:id, :tn, 'citizen', 'web', '物业收费', '440306', 'accepted', :at, :at, :at)"
            ),
            {"id": case_id, "tn": f"MS{case_id.hex[:16].upper()}", "at": received_at},
        )
    return case_id


async def issue(
    db: Database, store: LocalObjectStore, case_id: uuid.UUID, kind: str, at: datetime = ISSUED
) -> service.NoticeRecord:
    async with db.transaction("casework") as conn:
        return await service.issue(
            conn,
            case_id=case_id,
            kind=kind,
            context=EXAMPLES[kind],
            issued_by="staff-1",
            store=store,
            clock=FixedClock(at),
        )


async def test_issue_stores_both_files(db: Database, clean: None, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    case_id = await new_case(db)
    notice = await issue(db, store, case_id, "accept")
    assert notice.number == kinds.KINDS["accept"].number(2026, 1) == "信受〔2026〕第000001号"
    assert notice.template_version == "accept/v1"
    assert notice.issued_at == ISSUED and notice.issued_by == "staff-1"
    assert notice.delivery is None
    for key, digest in ((notice.docx_key, notice.docx_sha256), (notice.pdf_key, notice.pdf_sha256)):
        stored = await store.get(key)
        assert hashlib.sha256(stored).hexdigest() == digest
    pdf = await service.open_file(store, notice, "pdf")
    assert pdf.data.startswith(b"%PDF") and pdf.media_type == "application/pdf"
    word = await service.open_file(store, notice, "docx")
    body = "\n".join(p.text for p in docx.Document(io.BytesIO(word.data)).paragraphs)
    tracking_no = f"MS{case_id.hex[:16].upper()}"
    # the system's fields: 文号, the case's tracking number and dates in Asia/Shanghai
    for needle in (notice.number, tracking_no, "2026年3月1日", "2026年3月5日", "李某某"):
        assert needle in body
    assert word.filename == f"notice-{notice.id}.docx"

    async with db.transaction("casework") as conn:
        listed = await service.list_for_case(conn, case_id)
        assert [n.id for n in listed] == [notice.id]
        assert await service.list_for_case(conn, uuid.uuid4()) == []
    read = NoticeRead.of(listed[0])
    assert read.title == "信访事项受理告知书" and read.number == notice.number


async def test_tampered_file_is_detected(db: Database, clean: None, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    notice = await issue(db, store, await new_case(db), "transfer")
    path = tmp_path / notice.pdf_key[:2] / notice.pdf_key
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(service.NoticeFileError):
        await service.open_file(store, notice, "pdf")
    path.unlink()
    with pytest.raises(service.NoticeFileError):
        await service.open_file(store, notice, "pdf")


async def test_series_per_kind_and_year(db: Database, clean: None, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    case_id = await new_case(db)
    first = await issue(db, store, case_id, "accept")
    second = await issue(db, store, case_id, "accept", ISSUED + timedelta(hours=1))
    other = await issue(db, store, case_id, "not_accept", ISSUED + timedelta(minutes=30))
    # 2026-12-31T17:00Z is already 2027 in Shanghai: a new series
    new_year = await issue(db, store, case_id, "accept", datetime(2026, 12, 31, 17, tzinfo=UTC))
    assert [first.number, second.number, other.number, new_year.number] == [
        "信受〔2026〕第000001号",
        "信受〔2026〕第000002号",
        "信不受〔2026〕第000001号",
        "信受〔2027〕第000001号",
    ]
    async with db.transaction("casework") as conn:
        listed = await service.list_for_case(conn, case_id)
    assert [n.id for n in listed] == [first.id, other.id, second.id, new_year.id]


async def test_concurrent_issues_get_unique_sequential_numbers(
    db: Database, clean: None, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path)
    case_id = await new_case(db)
    notices = await asyncio.gather(*(issue(db, store, case_id, "reply") for _ in range(20)))
    numbers = sorted(n.number for n in notices)
    assert numbers == [kinds.KINDS["reply"].number(2026, i) for i in range(1, 21)]
    async with db.transaction("casework") as conn:
        count = await conn.scalar(text("SELECT count(DISTINCT number) FROM casework.notice"))
    assert count == 20


async def test_rejected_issues_leave_nothing(db: Database, clean: None, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    case_id = await new_case(db)
    bad = {k: v for k, v in EXAMPLES["extension"].items() if k != "new_due_on"}
    calls = [
        (case_id, "extension", bad, "context.new_due_on", 422),
        (case_id, "accept", {**EXAMPLES["accept"], "number": "x"}, "context.number", 422),
        (case_id, "praise", EXAMPLES["accept"], "kind", 422),
        (uuid.uuid4(), "accept", EXAMPLES["accept"], None, 404),
    ]
    for case, kind, context, field, status in calls:
        async with db.transaction("casework") as conn:
            with pytest.raises(ApiError) as caught:
                await service.issue(
                    conn,
                    case_id=case,
                    kind=kind,
                    context=context,
                    issued_by="staff-1",
                    store=store,
                    clock=FixedClock(ISSUED),
                )
        assert caught.value.status == status and caught.value.items[0].field == field
    async with db.transaction("casework") as conn:
        assert await conn.scalar(text("SELECT count(*) FROM casework.notice")) == 0
    assert not await asyncio.to_thread(lambda: any(tmp_path.iterdir()))


async def test_delivery_is_recorded_once(db: Database, clean: None, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    notice = await issue(db, store, await new_case(db), "reply")
    at = ISSUED + timedelta(days=1)

    async def deliver(**kw: object) -> service.NoticeRecord:
        args: dict[str, object] = {
            "method": "in_person",
            "outcome": "signed",
            "at": at,
            "recorded_by": "staff-2",
            **kw,
        }
        async with db.transaction("casework") as conn:
            return await service.record_delivery(conn, notice_id=notice.id, **args)  # type: ignore[arg-type]

    async def refused(status: int, code: str, **kw: object) -> None:
        with pytest.raises(ApiError) as caught:
            await deliver(**kw)
        assert (caught.value.status, caught.value.items[0].code) == (status, code)

    await refused(422, "invalid_delivery_outcome", outcome="sent")
    await refused(422, "delivered_before_issue", at=ISSUED - timedelta(minutes=1))
    await refused(422, "invalid_datetime", at=at.replace(tzinfo=None))

    done = await deliver()
    assert done.delivery == service.Delivery("in_person", "signed", at, "staff-2")
    again = await deliver(at=at.astimezone(SHANGHAI))  # the same instant, another offset
    assert again == done

    await refused(409, "delivery_already_recorded", outcome="refused")
    await refused(409, "delivery_already_recorded", method="post", outcome="signed")
    await refused(409, "delivery_already_recorded", at=at + timedelta(minutes=5))

    async with db.transaction("casework") as conn:
        stored = await service.get(conn, notice_id=notice.id)
        with pytest.raises(ApiError) as caught:
            await service.record_delivery(
                conn,
                notice_id=uuid.uuid4(),
                method="post",
                outcome="sent",
                at=at,
                recorded_by="staff-2",
            )
        assert caught.value.status == 404
    assert stored is not None and stored.delivery == done.delivery
    assert NoticeRead.of(stored).delivery is not None
