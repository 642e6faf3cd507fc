"""Events produced by analytics: suggestions for casework, computed from the read model.

Casework shows them beside its own routing (``casework.case.route_suggestion``); nothing here
decides anything. Payloads hold ids, labels and scores, never personal data."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventPayload


class RoutingSuggestedV1(EventPayload):
    """The routing model's top-level category for a received petition, with its confidence
    (0–1, calibrated) and the model version that said so."""

    type: ClassVar[str] = "analytics.routing.suggested"
    version: ClassVar[int] = 1

    case_id: str
    label: str  # the top-level label (城乡建设, 劳动和社会保障 …)
    category_code: str | None = None  # its reference category code (C01 …)
    confidence: float = Field(ge=0.0, le=1.0)
    model_version: str
    suggested_at: datetime


class RepeatLinkV1(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    case_id: str
    similarity: float  # 0–1
    reasons: list[str]  # same_person, similar_content, similar_title, same_place, …


class RepeatSuggestedV1(EventPayload):
    """Repeat detection (同人 + 同事) for a case: earlier or later petitions of the same person
    on basically the same matter, and whether it is a first petition (初信初访). Sent again
    when a petition received earlier in time arrives later (an import of history) and makes
    this one a repeat; the latest event of a case is the current answer."""

    type: ClassVar[str] = "analytics.repeat.suggested"
    version: ClassVar[int] = 1

    case_id: str
    first_petition: bool
    earlier_repeats: int = 0
    links: list[RepeatLinkV1] = Field(default_factory=list)
    checked_at: datetime
