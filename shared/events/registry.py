"""Every event type the system knows, by (type, version)."""

from __future__ import annotations

from shared.events.analytics import RepeatSuggestedV1, RoutingSuggestedV1
from shared.events.casework import (
    MILESTONES,
    ApprovalRequestedV1,
    CaseRegisteredV1,
    CaseWithdrawnV1,
)
from shared.events.envelope import EventPayload
from shared.events.intake import (
    HotlineEvaluationReceivedV1,
    OneTimeCodeIssuedV1,
    PetitionAmendedV1,
    PetitionReceivedV1,
    PetitionSupplementedV1,
    PetitionWithdrawnV1,
)
from shared.events.notify import EvaluationRecordedV1

_ALL: list[type[EventPayload]] = [
    PetitionReceivedV1,
    OneTimeCodeIssuedV1,
    PetitionAmendedV1,
    PetitionWithdrawnV1,
    PetitionSupplementedV1,
    HotlineEvaluationReceivedV1,
    CaseRegisteredV1,
    CaseWithdrawnV1,
    *MILESTONES,
    ApprovalRequestedV1,
    EvaluationRecordedV1,
    RoutingSuggestedV1,
    RepeatSuggestedV1,
]

EVENT_TYPES: dict[tuple[str, int], type[EventPayload]] = {(c.type, c.version): c for c in _ALL}


class UnknownEventType(KeyError):
    pass


def payload_class(type_: str, version: int) -> type[EventPayload]:
    try:
        return EVENT_TYPES[(type_, version)]
    except KeyError:
        raise UnknownEventType(f"{type_} v{version}") from None
