"""Identifiers: time-ordered UUIDs for rows and cases, tracking numbers and query codes."""

from __future__ import annotations

import os
import secrets
import time
import uuid

# Crockford base32 without I, L, O, U: read aloud over the phone without confusion.
_TRACKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def uuid7() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): millisecond time prefix keeps indexes append-mostly."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def tracking_number(day: str) -> str:
    """``MS`` + yymmdd + 8 random base32 characters (40 bits): unique per day in practice and
    checked by a unique index; not a secret (the query code is)."""
    tail = "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(8))
    return f"MS{day}{tail}"


def query_code() -> str:
    """Six random digits; guessing is stopped by the tracking view's lock."""
    # what secrets.randbelow(1_000_000) does (20 random bits, drawn again when out of
    # range: uniform), without its Python layers, which were a noticeable part of a batch
    while True:
        n = int.from_bytes(os.urandom(3)) >> 4
        if n < 1_000_000:
            return f"{n:06d}"
