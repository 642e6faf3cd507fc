"""Key material for personal-data protection: field encryption and keyed lookup hashes.

Owns ``KeyRing`` (AES-256-GCM with key rotation, parsed from ``MINSHENG_DATA_KEYS``)
and ``HashKey`` (HMAC-SHA256 blind indexes, from ``MINSHENG_HASH_KEY``). Keys are
passed in by the caller; nothing here reads settings or does I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.crypto.idnumber import normalize_id_number, normalize_phone

__all__ = [
    "TOKEN_VERSION",
    "CryptoError",
    "DecryptionError",
    "HashKey",
    "KeyRing",
    "UnknownKeyError",
    "token_key_id",
]

TOKEN_VERSION = "v1"  # noqa: S105 - a format tag, not a secret
KEY_BYTES = 32
NONCE_BYTES = 12
_TAG_BYTES = 16

# Key ids end up inside tokens delimited by "." and inside a spec delimited by ":" and ",".
_KEY_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_B64_RE = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_B64URL_BODY_RE = re.compile(r"[A-Za-z0-9_-]+")


class CryptoError(Exception):
    """Base class for errors raised by ``shared.crypto``."""


class UnknownKeyError(KeyError, CryptoError):
    """A token names a key id that is not in the key ring."""

    def __init__(self, key_id: str) -> None:
        super().__init__(key_id)
        self.key_id = key_id

    def __str__(self) -> str:
        # KeyError.__str__ would repr() the argument; give a readable message instead.
        return f"unknown data key id {self.key_id!r}"


class DecryptionError(CryptoError):
    """A token is malformed, was tampered with, or was bound to different associated data."""


def _decode_key(text: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not; raise ``ValueError`` otherwise."""
    if not _B64_RE.fullmatch(text):
        raise ValueError("not valid base64")
    body = text.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("not valid base64") from exc


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64url(data: bytes) -> str:
    # base64.urlsafe_b64encode without its Python layers: the same bytes
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=").decode("ascii")


def _split_token(token: str | bytes) -> tuple[str, str, str]:
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as exc:
            raise DecryptionError("token is not ASCII") from exc
    if not isinstance(token, str):
        raise DecryptionError(f"token must be str or bytes, not {type(token).__name__}")
    try:
        version, key_id, body = token.split(".")
    except ValueError:
        raise DecryptionError("malformed token: expected 'version.key_id.payload'") from None
    if version != TOKEN_VERSION:
        raise DecryptionError(f"unsupported token version {version[:16]!r}")
    if not _KEY_ID_RE.fullmatch(key_id):
        raise DecryptionError("malformed token: bad key id")
    return version, key_id, body


def token_key_id(token: str | bytes) -> str:
    """The key id a token was encrypted with (useful to find tokens needing re-encryption)."""
    return _split_token(token)[1]


class KeyRing:
    """AES-256-GCM keys by id; the first key encrypts, every key decrypts.

    Tokens look like ``v1.<key_id>.<base64url(nonce || ciphertext || tag)>``. The
    ``v1.<key_id>.`` header is authenticated together with the caller's ``aad`` so a
    token cannot be relabelled to another key id, even one holding the same key.
    """

    __slots__ = ("_ciphers", "_current", "_current_id", "_header", "_header_bytes")

    def __init__(self, keys: Iterable[tuple[str, bytes]]) -> None:
        ciphers: dict[str, AESGCM] = {}
        current_id: str | None = None
        for key_id, key in keys:
            if not _KEY_ID_RE.fullmatch(key_id):
                raise ValueError(
                    f"invalid data key id {key_id!r}: use 1-64 characters from A-Z a-z 0-9 _ -"
                )
            if key_id in ciphers:
                raise ValueError(f"duplicate data key id {key_id!r}")
            if len(key) != KEY_BYTES:
                raise ValueError(
                    f"data key {key_id!r} is {len(key)} bytes; AES-256 needs exactly {KEY_BYTES}"
                )
            ciphers[key_id] = AESGCM(key)
            if current_id is None:
                current_id = key_id
        if current_id is None:
            raise ValueError("a key ring needs at least one key")
        self._ciphers = ciphers
        self._current_id = current_id
        self._current = ciphers[current_id]
        self._header = f"{TOKEN_VERSION}.{current_id}."
        self._header_bytes = self._header.encode("ascii")

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        """Build a key ring from ``MINSHENG_DATA_KEYS``: ``id1:base64key,id2:base64key``.

        The first key is current. Error messages never include key material.
        """
        if not isinstance(text, str) or not text.strip():
            raise ValueError("MINSHENG_DATA_KEYS is empty: expected 'key_id:base64key[,...]'")
        pairs: list[tuple[str, bytes]] = []
        for position, raw_entry in enumerate(text.split(","), start=1):
            entry = raw_entry.strip()
            if not entry:
                raise ValueError(f"MINSHENG_DATA_KEYS entry {position} is empty")
            key_id, sep, encoded = entry.partition(":")
            key_id, encoded = key_id.strip(), encoded.strip()
            if not sep or not key_id or not encoded:
                raise ValueError(
                    f"MINSHENG_DATA_KEYS entry {position} is not of the form 'key_id:base64key'"
                )
            try:
                key = _decode_key(encoded)
            except ValueError:
                raise ValueError(f"MINSHENG_DATA_KEYS key {key_id!r} is not valid base64") from None
            pairs.append((key_id, key))
        try:
            return cls(pairs)
        except ValueError as exc:
            # Id, duplicate and length checks live in __init__; only add where it came from.
            raise ValueError(f"MINSHENG_DATA_KEYS: {exc}") from None

    @staticmethod
    def generate_spec(key_id: str = "k1") -> str:
        """A fresh ``key_id:base64key`` spec with a random 256-bit key."""
        if not _KEY_ID_RE.fullmatch(key_id):
            raise ValueError(f"invalid data key id {key_id!r}")
        return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode('ascii')}"

    @property
    def current_key_id(self) -> str:
        return self._current_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        """All key ids, current first."""
        return tuple(self._ciphers)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._ciphers

    def __repr__(self) -> str:
        return f"KeyRing(current={self._current_id!r}, key_ids={list(self._ciphers)!r})"

    def encrypt(self, plaintext: bytes, aad: bytes = b"") -> str:
        """Encrypt with the current key; ``aad`` must be given again to decrypt."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._current.encrypt(nonce, plaintext, self._header_bytes + aad)
        return self._header + _b64url(nonce + sealed)

    def decrypt(self, token: str | bytes, aad: bytes = b"") -> bytes:
        """Decrypt a token made by any key in the ring.

        Raises ``UnknownKeyError`` when the token's key id is not in the ring and
        ``DecryptionError`` when it is malformed, tampered with, or ``aad`` differs.
        """
        version, key_id, body = _split_token(token)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(key_id)
        if not _B64URL_BODY_RE.fullmatch(body):
            raise DecryptionError("malformed token payload")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise DecryptionError("malformed token payload") from exc
        if _b64url(raw) != body:
            # the last character's unused bits are free: one ciphertext, several spellings.
            # Only the canonical one is accepted, so a token cannot be altered unnoticed.
            raise DecryptionError("non-canonical token payload")
        if len(raw) < NONCE_BYTES + _TAG_BYTES:
            raise DecryptionError("token payload too short")
        header = f"{version}.{key_id}.".encode("ascii")
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], header + aad)
        except InvalidTag:
            raise DecryptionError(
                "token failed authentication (tampered, wrong key or wrong aad)"
            ) from None

    def encrypt_text(self, text: str | None, aad: bytes = b"") -> str | None:
        """Encrypt a UTF-8 string; ``None`` passes through so nullable columns stay null."""
        if text is None:
            return None
        return self.encrypt(text.encode("utf-8"), aad)

    def decrypt_text(self, token: str | bytes | None, aad: bytes = b"") -> str | None:
        """Inverse of ``encrypt_text``."""
        if token is None:
            return None
        plaintext = self.decrypt(token, aad)
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecryptionError("decrypted value is not UTF-8 text") from exc


class HashKey:
    """Keyed HMAC-SHA256 "blind index" for equality lookups on personal data.

    Lets the application find a person by phone or ID number without storing the value
    in clear. Values are normalised per kind first so that differently typed forms of the
    same number (``+86 138-0013-8000`` vs ``13800138000``) hash alike, and the kind is
    part of the MAC input so equal strings of different kinds do not collide.
    """

    __slots__ = ("_key",)

    def __init__(self, secret: str) -> None:
        if not isinstance(secret, str) or not secret.strip():
            raise ValueError("MINSHENG_HASH_KEY is empty: expected a non-empty secret string")
        self._key = secret.encode("utf-8")

    def __repr__(self) -> str:
        return "HashKey(<secret>)"

    @staticmethod
    def normalize(kind: str, value: str) -> str:
        """The canonical form of ``value`` that ``digest`` hashes for ``kind``."""
        if kind == "phone":
            return normalize_phone(value)
        if kind == "id_number":
            return normalize_id_number(value)
        return unicodedata.normalize("NFKC", value.strip()).strip()

    def digest(self, kind: str, value: str) -> str:
        """Hex HMAC-SHA256 of ``kind + "\\x00" + normalised value``.

        Raises ``ValueError`` for an empty kind or a value that normalises to nothing:
        hashing "" would give one shared digest that links unrelated records.
        """
        if not kind or "\x00" in kind:
            raise ValueError("hash kind must be a non-empty string without NUL")
        normalized = self.normalize(kind, value)
        if not normalized:
            raise ValueError(f"refusing to hash an empty {kind} value")
        message = f"{kind}\x00{normalized}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
