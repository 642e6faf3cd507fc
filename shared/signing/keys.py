"""Partner signing keys: parsing the ``key_id:secret`` pair lists of ``MINSHENG_HOTLINE_KEYS``
and ``MINSHENG_EXCHANGE_KEYS`` (integrations §0) into a ``PartnerKeys`` lookup.

Owns the pair-list format only; nothing here signs, verifies or does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from shared.signing.signature import Partner

if TYPE_CHECKING:
    from shared.settings import Settings

__all__ = ["PartnerKeys", "parse_key_pairs", "partner_keys"]

# A key id travels in an HTTP header and is split out of a comma/colon list, so it must be
# visible ASCII without separators; anything else is a configuration typo better caught at start.
_KEY_ID_RE = re.compile(r"[\x21-\x7e]+")


def parse_key_pairs(spec: str) -> dict[str, bytes]:
    """Parse ``"id1:secret1,id2:secret2"`` into ``{key_id: secret_bytes}``, in configured order.

    The secret is the UTF-8 encoding of everything after the *first* ``:`` (so a secret may
    itself contain ``:``, but not ``,``). Whitespace around each comma-separated pair is
    ignored (env files often say ``a:x, b:y``), so a secret cannot start or end with
    whitespace. Raises ``ValueError`` for an empty list, a pair without ``:``, an empty id or
    secret, an id with whitespace or non-ASCII characters, and a duplicate id. The message
    never contains a secret.
    """
    pairs: dict[str, bytes] = {}
    for index, raw in enumerate(spec.split(",")):
        item = raw.strip()
        if not item:  # "a:x,,b:y" or a trailing comma: an id and secret went missing
            raise ValueError(f"key pair #{index + 1} is empty")
        key_id, sep, secret = item.partition(":")
        if not sep:
            raise ValueError(f"key pair #{index + 1} has no ':' between key id and secret")
        if not key_id:
            raise ValueError(f"key pair #{index + 1} has an empty key id")
        if not _KEY_ID_RE.fullmatch(key_id):
            raise ValueError(f"key pair #{index + 1}: key id must be visible ASCII without spaces")
        if not secret:
            raise ValueError(f"key {key_id!r} has an empty secret")
        if key_id in pairs:
            raise ValueError(f"key id {key_id!r} is configured twice")
        pairs[key_id] = secret.encode("utf-8")
    return pairs


class PartnerKeys:
    """The active keys of one partner, several at once during rotation.

    ``get`` serves inbound verification (any active key); ``first`` serves outbound signing
    (the partner's first configured pair, integrations §0).
    """

    __slots__ = ("_keys",)

    def __init__(self, pairs: dict[str, bytes]) -> None:
        if not pairs:
            raise ValueError("at least one key pair is required")
        for key_id, secret in pairs.items():
            if not key_id or not secret:
                raise ValueError("key ids and secrets must be non-empty")
        self._keys = dict(pairs)

    @classmethod
    def parse(cls, spec: str) -> PartnerKeys:
        return cls(parse_key_pairs(spec))

    def get(self, key_id: str) -> bytes | None:
        return self._keys.get(key_id)

    def first(self) -> tuple[str, bytes]:
        key_id = next(iter(self._keys))
        return key_id, self._keys[key_id]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PartnerKeys) and other._keys == self._keys

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        # Never the secrets: reprs end up in logs and tracebacks.
        return f"PartnerKeys(key_ids={list(self._keys)!r})"


@lru_cache(maxsize=16)
def _parsed(spec: str) -> PartnerKeys:
    return PartnerKeys.parse(spec)


def partner_keys(settings: Settings, partner: Partner) -> PartnerKeys:
    """The configured keys of ``partner`` (parsed once per distinct setting value)."""
    if partner == "hotline":
        return _parsed(settings.hotline_keys)
    if partner == "exchange":
        return _parsed(settings.exchange_keys)
    raise ValueError(f"unknown partner {partner!r}")
