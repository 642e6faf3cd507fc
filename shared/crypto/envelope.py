"""Encrypted envelope for the personal-data part of events and other JSON payloads.

Owns the ``{"kid": ..., "ct": ...}`` shape: ``seal_pii`` encrypts the canonical JSON of a
dict with the key ring's current key, ``open_pii`` reverses it with whichever key the
envelope names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson

from shared.crypto.keys import DecryptionError, KeyRing, token_key_id

__all__ = ["PII_AAD", "canonical_json", "open_pii", "seal_pii"]

# Binds ciphertexts to this purpose, so a field token cannot be replayed as an envelope.
PII_AAD = b"minsheng.pii.v1"


def canonical_json(data: Mapping[str, Any]) -> bytes:
    """Deterministic UTF-8 JSON (sorted keys, no whitespace, no NaN/Infinity)."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _canonical_strings(data: Mapping[str, Any]) -> bytes | None:
    """``canonical_json`` of a flat mapping of strings to strings or None, several times
    quicker (the usual envelope: a name, a phone, a code); byte for byte the same output.
    None for anything else, or a string orjson refuses (a lone surrogate)."""
    if type(data) is not dict or not all(
        type(k) is str and (v is None or type(v) is str) for k, v in data.items()
    ):
        return None
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None


def seal_pii(keyring: KeyRing, data: Mapping[str, Any]) -> dict[str, str]:
    """Encrypt ``data`` into a JSON-serialisable ``{"kid": key_id, "ct": token}`` envelope.

    Raises ``TypeError`` if ``data`` is not a mapping or is not JSON-serialisable.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"seal_pii expects a mapping, not {type(data).__name__}")
    token = keyring.encrypt(_canonical_strings(data) or canonical_json(data), PII_AAD)
    return {"kid": token_key_id(token), "ct": token}


def open_pii(keyring: KeyRing, sealed: Mapping[str, Any]) -> dict[str, Any]:
    """Decrypt an envelope made by ``seal_pii``.

    Raises ``DecryptionError`` for a malformed or tampered envelope and
    ``UnknownKeyError`` when its key is no longer in the ring.
    """
    if not isinstance(sealed, Mapping):
        raise DecryptionError("PII envelope must be a mapping")
    token = sealed.get("ct")
    kid = sealed.get("kid")
    if not isinstance(token, str) or not isinstance(kid, str):
        raise DecryptionError("PII envelope needs string 'kid' and 'ct' fields")
    # "kid" sits outside the ciphertext, so a mismatch means the envelope was edited.
    if token_key_id(token) != kid:
        raise DecryptionError("PII envelope 'kid' does not match its ciphertext")
    plaintext = keyring.decrypt(token, PII_AAD)
    try:
        data = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecryptionError("PII envelope does not contain JSON") from exc
    if not isinstance(data, dict):
        raise DecryptionError("PII envelope does not contain a JSON object")
    return data
