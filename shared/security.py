"""The key material a process holds, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from shared.crypto import HashKey, KeyRing
from shared.settings import Settings


@dataclass(frozen=True)
class Keys:
    ring: KeyRing
    hash: HashKey


@lru_cache(maxsize=8)
def _keys(data_keys: str, hash_key: str) -> Keys:
    return Keys(KeyRing.parse(data_keys), HashKey(hash_key))


def keys_for(settings: Settings) -> Keys:
    return _keys(settings.data_keys, settings.hash_key)
