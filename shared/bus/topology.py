"""Who listens to what. A producer writes one delivery row per subscriber of an event's type
in the transaction that writes the event, so the set of subscribers is fixed here; each
consumer's handlers must cover exactly its set (tests/unit/test_topology.py)."""

from __future__ import annotations

SUBSCRIPTIONS: dict[str, frozenset[str]] = {
    "casework": frozenset(
        {
            "intake.petition.received",
            "intake.petition.amended",
            "intake.petition.withdrawn",
            "intake.petition.supplemented",
            "notify.evaluation.recorded",  # the petitioner's rating: evaluated, 回访复核
            # analytics' suggestions, kept in case.route_suggestion
            "analytics.routing.suggested",
            "analytics.repeat.suggested",
        }
    ),
    # the five returns, staff alerts and partner callbacks follow every casework milestone
    "notify": frozenset(
        {
            "casework.case.registered",
            "casework.case.withdrawn",
            "casework.case.accepted",
            "casework.case.refused",
            "casework.case.diverted",
            "casework.case.assigned",
            "casework.case.objected",
            "casework.case.signed",
            "casework.case.contacted",
            "casework.case.replied",
            "casework.case.extended",
            "casework.case.evaluated",
            "casework.case.review_requested",
            "casework.case.reviewed",
            "casework.case.closed",
            "casework.case.deadline_approached",
            "casework.case.deadline_missed",
            "casework.case.supervised",  # 督办通知 to the lead unit (staff alert)
            "casework.case.leader_assigned",
            "casework.approval.requested",
            "intake.otp.issued",
        }
    ),
    # the read model of metrics and reports (services/analytics/metric/fold.py)
    "analytics": frozenset(
        {
            "intake.petition.received",
            "intake.petition.amended",
            "intake.hotline.evaluation_received",
            "casework.case.registered",
            "casework.case.withdrawn",
            "casework.case.accepted",
            "casework.case.refused",
            "casework.case.diverted",
            "casework.case.assigned",
            "casework.case.objected",
            "casework.case.signed",
            "casework.case.contacted",
            "casework.case.replied",
            "casework.case.extended",
            "casework.case.evaluated",
            "casework.case.review_requested",
            "casework.case.reviewed",
            "casework.case.closed",
            "casework.case.deadline_approached",
            "casework.case.deadline_missed",
            "casework.case.supervised",  # 督办件按期率
            "casework.case.leader_assigned",  # 包案化解率
            "notify.evaluation.recorded",
        }
    ),
    # intake keeps the public tracking view, projected from casework's milestones
    "intake": frozenset(
        {
            "casework.case.registered",
            "casework.case.withdrawn",
            "casework.case.accepted",
            "casework.case.refused",
            "casework.case.diverted",
            "casework.case.assigned",
            "casework.case.signed",
            "casework.case.replied",
            "casework.case.extended",
            "casework.case.evaluated",
            "casework.case.review_requested",
            "casework.case.reviewed",
            "casework.case.closed",
        }
    ),
}


def consumers_of(event_type: str) -> list[str]:
    return sorted(c for c, types in SUBSCRIPTIONS.items() if event_type in types)


def queue_name(consumer: str) -> str:
    """Each subscriber's own arq queue."""
    return f"minsheng:queue:{consumer}"


def ack_key(producer: str) -> str:
    """Redis list where consumers report the deliveries they recorded, for the producer's relay.
    Losing it (FLUSHALL) only delays acknowledgement until the lease runs out."""
    return f"minsheng:bus:ack:{producer}"


def notify_channel(producer: str) -> str:
    return f"minsheng_outbox_{producer}"
