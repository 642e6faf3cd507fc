"""The event bus (architecture §2.2–2.3): an outbox per producer, a relay per producer that
leases deliveries to each subscriber's arq queue, idempotent consumers that acknowledge only
after recording, one dead-letter store. ``docs/architecture.md`` explains the guarantee and how
the chaos tests prove it."""

from shared.bus.consumer import BusContext, Consumer, Handler
from shared.bus.outbox import publish
from shared.bus.topology import SUBSCRIPTIONS, consumers_of, queue_name

__all__ = [
    "SUBSCRIPTIONS",
    "BusContext",
    "Consumer",
    "Handler",
    "consumers_of",
    "publish",
    "queue_name",
]
