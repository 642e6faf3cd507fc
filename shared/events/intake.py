"""Events produced by intake."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from shared.events.envelope import EventPayload


class PetitionReceivedV1(EventPayload):
    type: ClassVar[str] = "intake.petition.received"
    version: ClassVar[int] = 1

    case_id: str
    tracking_no: str
    source: str
    channel: str
    title: str  # redacted of phone and ID numbers
    content: str  # redacted of phone and ID numbers
    category_code: str | None = None
    region_code: str
    received_at: datetime
    people_count: int = 1
    anonymous: bool = False
    accusation: bool = False
    person_key: str | None = None  # pseudonymous: a keyed hash, never the identifier itself
    idempotency_key_hash: str | None = None
    pii: dict[str, str] | None = None  # sealed {name, phone, query_code}
    # additive, intake issue
    urgency: str = "normal"
    source_category: str | None = None
    external_ids: dict[str, str] = Field(default_factory=dict)
    source_deadline: datetime | None = None
    person_keys: list[str] = Field(
        default_factory=list
    )  # every petitioner and representative, pseudonymous
    collective: bool = False  # 集体访: people_count >= 5
    public_attention: int | None = None
    prior_case_ids: list[str] = Field(default_factory=list)  # earlier petitions, same matter
    # additive: the administrative level (province, city, district, street, community) of the
    # petition office's desk that registered a letter or visit — the registrar's unit's highest
    # region; None for every other channel and for events from before it was recorded
    received_level: str | None = None


class OneTimeCodeIssuedV1(EventPayload):
    """A citizen asked to sign in: notify sends the code (sealed in ``pii``) by SMS."""

    type: ClassVar[str] = "intake.otp.issued"
    version: ClassVar[int] = 1

    request_id: str
    expires_at: datetime
    pii: dict[str, str]  # sealed {phone, code}


class PetitionAmendedV1(EventPayload):
    """A partner sent a higher revision of a petition (12345 amendment) or the desk corrected
    a registration; the changed public fields (redacted) with their new values."""

    type: ClassVar[str] = "intake.petition.amended"
    version: ClassVar[int] = 1

    case_id: str
    tracking_no: str
    revision: int
    source: str
    changed: dict[str, str | None]
    amended_at: datetime
    # additive: the petition's pseudonymous person keys after a correction that changed its
    # petitioners (keyed hashes, as on ``received``); None when the petitioners did not change
    person_keys: list[str] | None = None


class PetitionWithdrawnV1(EventPayload):
    """The petitioner withdrew (撤回), or the hotline's caller cancelled the order (撤单)."""

    type: ClassVar[str] = "intake.petition.withdrawn"
    version: ClassVar[int] = 1

    case_id: str
    tracking_no: str
    reason: str  # redacted
    withdrawn_at: datetime
    by: str  # citizen | hotline | registrar


class HotlineEvaluationReceivedV1(EventPayload):
    """The hotline's own call-back to the caller (12345 回访): feeds the three rates."""

    type: ClassVar[str] = "intake.hotline.evaluation_received"
    version: ClassVar[int] = 1

    case_id: str
    order_no: str
    visited_at: datetime
    contacted: bool
    solved: bool | None = None
    rating: str | None = None
    comment: str | None = None  # redacted


class PetitionSupplementedV1(EventPayload):
    """The petitioner added material (补充材料): text and/or attachments."""

    type: ClassVar[str] = "intake.petition.supplemented"
    version: ClassVar[int] = 1

    case_id: str
    tracking_no: str
    content: str | None = None  # redacted
    attachment_ids: list[str] = Field(default_factory=list)
    supplemented_at: datetime
