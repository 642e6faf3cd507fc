"""Versioned event schemas and the envelope that carries them (architecture §2.2).

Event types are ``<service>.<thing>.<past-tense verb>``; payload classes carry a version
suffix (``PetitionReceivedV1``). Payloads carry ids and facts; personal data travels only in
the sealed ``pii`` field (see ``shared.crypto``). Consumers ignore unknown fields, and the
contract test in ``tests/contract`` fails on any non-additive change.
"""

from shared.events.envelope import Envelope, EventPayload
from shared.events.registry import EVENT_TYPES, payload_class

__all__ = ["EVENT_TYPES", "Envelope", "EventPayload", "payload_class"]
