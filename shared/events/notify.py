"""Events produced by notify."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from shared.events.envelope import EventPayload


class EvaluationRecordedV1(EventPayload):
    """The petitioner's evaluation of a replied case (回访), or 超期未评价 when the window
    passed unrated. Casework turns it into ``evaluated``; 不满意 opens a 回访复核."""

    type: ClassVar[str] = "notify.evaluation.recorded"
    version: ClassVar[int] = 1

    case_id: str
    tracking_no: str
    unit_rating: str  # satisfied | basically_satisfied | dissatisfied | expired
    office_rating: str  # the petition office, rated separately; same codes
    reason: str | None = None  # required for dissatisfied; redacted of phone / ID numbers
    rated_at: datetime
    channel: str  # link (the signed SMS link) | citizen (the signed-in API) | expired
