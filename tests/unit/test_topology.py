"""The bus topology (who is sent what) and the consumers' handlers (what they act on) agree:
an event a consumer handles but is not subscribed to would never reach it, and one it is
sent but cannot handle would be dead-lettered."""

from __future__ import annotations

import pytest

from shared.bus.topology import SUBSCRIPTIONS
from shared.events.registry import EVENT_TYPES


def _handlers(consumer: str) -> set[str]:
    if consumer == "analytics":
        from services.analytics.metric.handlers import HANDLERS
    elif consumer == "casework":
        from services.casework.case.handlers import HANDLERS
    elif consumer == "intake":
        from services.intake.petition.handlers import HANDLERS
    else:
        from services.notify.message.handlers import HANDLERS
    return set(HANDLERS)


@pytest.mark.parametrize("consumer", sorted(SUBSCRIPTIONS))
def test_each_consumer_is_sent_exactly_what_it_handles(consumer: str) -> None:
    assert _handlers(consumer) == set(SUBSCRIPTIONS[consumer])


def test_every_subscribed_type_is_a_known_event() -> None:
    known = {t for t, _ in EVENT_TYPES}
    for consumer, types in SUBSCRIPTIONS.items():
        assert set(types) <= known, consumer
