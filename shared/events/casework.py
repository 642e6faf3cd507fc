"""Events produced by casework."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from shared.events.envelope import EventPayload


class CaseRegisteredV1(EventPayload):
    type: ClassVar[str] = "casework.case.registered"
    version: ClassVar[int] = 1

    case_id: str
    tracking_no: str
    source: str
    channel: str
    category_code: str | None = None
    region_code: str
    status: str
    registered_at: datetime
    accusation: bool = False
    public_message: str
    pii: dict[str, str] | None = None  # sealed contact details for the 五回


class CaseWithdrawnV1(EventPayload):
    type: ClassVar[str] = "casework.case.withdrawn"
    version: ClassVar[int] = 1

    case_id: str
    tracking_no: str
    status: str
    withdrawn_at: datetime
    by: str
    public_message: str
