"""The rules of taking in a citizen's petition and of the public tracking view."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.petition import repository as repo
from services.intake.petition.schemas import (
    Milestone,
    PetitionCreate,
    PetitionCreated,
    PetitionStatus,
)
from shared.api.errors import ApiError, not_found
from shared.bus import publish
from shared.clock import SHANGHAI, Clock
from shared.crypto import redact, seal_pii
from shared.events.intake import PetitionReceivedV1
from shared.ids import query_code, tracking_number, uuid7
from shared.security import Keys
from shared.settings import Settings

PRODUCER = "intake"


@dataclass(frozen=True)
class Submission:
    source: str
    channel: str
    received_at: datetime


async def submit(
    db: AsyncConnection,
    *,
    petition_in: PetitionCreate,
    submission: Submission,
    keys: Keys,
    clock: Clock,
) -> PetitionCreated:
    """Store the petition, allocate its case id, tracking number and query code, and emit
    ``intake.petition.received`` in the same transaction."""
    person_key = keys.hash.digest("phone", petition_in.phone)
    person_id = await repo.link_person(db, kind="phone", value_hash=person_key, new_id=uuid7())
    case_id = uuid7()
    day = submission.received_at.astimezone(SHANGHAI).strftime("%y%m%d")
    code = query_code()
    title, content = redact(petition_in.title), redact(petition_in.content)
    original = None
    if title != petition_in.title or content != petition_in.content:
        original = keys.ring.encrypt_text(f"{petition_in.title}\n\n{petition_in.content}")
    pii = {"name": petition_in.name, "phone": petition_in.phone, "query_code": code}
    values = dict(
        case_id=case_id,
        source=submission.source,
        channel=submission.channel,
        title=title,
        content=content,
        original_enc=original,
        category_code=petition_in.category,
        region_code=petition_in.region_code,
        received_at=submission.received_at,
        person_id=person_id,
        pii_enc=keys.ring.encrypt_text(
            orjson.dumps({"name": petition_in.name, "phone": petition_in.phone}).decode()
        ),
        status="received",
    )
    while True:  # a tracking number drawn twice in a day is refused by its unique index
        tracking_no = tracking_number(day)
        stored = await repo.insert_petition(
            db,
            tracking_no=tracking_no,
            query_code_hash=keys.hash.digest("query_code", f"{tracking_no}:{code}"),
            **values,
        )
        if stored:
            break
    await publish(
        db,
        producer=PRODUCER,
        aggregate_id=str(case_id),
        clock=clock,
        event=PetitionReceivedV1(
            case_id=str(case_id),
            tracking_no=tracking_no,
            source=submission.source,
            channel=submission.channel,
            title=title,
            content=content,
            category_code=petition_in.category,
            region_code=petition_in.region_code,
            received_at=submission.received_at,
            person_key=person_key,
            pii=seal_pii(keys.ring, pii),
        ),
    )
    return PetitionCreated(
        case_id=str(case_id), tracking_no=tracking_no, query_code=code, status="received"
    )


class TrackingLocked(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "tracking_locked",
            "查询码错误次数过多，请稍后再试",
            "too many wrong codes; try again later",
            field="code",
            headers={"Retry-After": str(retry_after)},
        )


async def check_lock(db: AsyncConnection, *, tracking_no: str, clock: Clock) -> None:
    state = await repo.guard_state(db, tracking_no)
    now = clock.now()
    if state is not None and state.locked_until is not None and state.locked_until > now:
        raise TrackingLocked(max(1, int((state.locked_until - now).total_seconds())))


async def track(
    db: AsyncConnection, *, tracking_no: str, code: str, keys: Keys
) -> PetitionStatus | None:
    """The public view, or None when the number or the code is wrong (the caller counts the
    failure in its own transaction, so it is kept even though this answer is a 404)."""
    row = await repo.get_by_tracking_no(db, tracking_no)
    expected = keys.hash.digest("query_code", f"{tracking_no}:{code}")
    if row is None or not hmac.compare_digest(row.query_code_hash, expected):
        return None
    await repo.guard_reset(db, tracking_no)
    history = [
        Milestone(
            occurred_at=m.occurred_at, milestone=m.milestone, status=m.status, message=m.message
        )
        for m in await repo.milestones(db, row.case_id)
    ]
    received = Milestone(
        occurred_at=row.received_at,
        milestone="received",
        status="received",
        message="诉求已收到 / petition received",
    )
    return PetitionStatus(
        tracking_no=row.tracking_no,
        status=row.status,
        title=row.title,
        received_at=row.received_at,
        history=[received, *history],
    )


async def count_failure(
    db: AsyncConnection, *, tracking_no: str, clock: Clock, settings: Settings
) -> None:
    await repo.guard_fail(
        db,
        tracking_no=tracking_no,
        now=clock.now(),
        max_failures=settings.tracking_max_failures,
        lock_seconds=settings.tracking_lock_minutes * 60,
    )


def wrong_code() -> ApiError:
    return not_found("未找到该编号或查询码错误", "unknown tracking number or wrong code")
