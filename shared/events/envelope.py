"""The envelope every event travels in."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class EventPayload(BaseModel):
    """Base of every payload. ``type`` and ``version`` identify the schema."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    type: ClassVar[str]
    version: ClassVar[int]


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_id: UUID
    type: str
    version: int
    occurred_at: datetime
    producer: str
    trace_id: str
    aggregate_id: str
    aggregate_seq: int
    payload: dict[str, Any]

    def parse(self) -> EventPayload:
        from shared.events.registry import payload_class

        return payload_class(self.type, self.version).model_validate(self.payload)
