"""The signature itself (integrations §0): header names, the HMAC-SHA256 over
``timestamp + "\\n" + nonce + "\\n" + raw_body``, signing outbound requests and the pure,
constant-time check of an inbound one.

Owns the byte-exact signing format. Pure functions only: no database, no clock reads other
than the injected ``Clock`` given to ``signed_headers``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from shared.clock import Clock

__all__ = [
    "NONCE_RE",
    "PREFIXES",
    "TIMESTAMP_RE",
    "HeaderNames",
    "Partner",
    "Prefix",
    "check_signature",
    "header_names",
    "new_nonce",
    "sign",
    "signed_headers",
    "unix_timestamp",
]

Partner = Literal["hotline", "exchange"]
Prefix = Literal["Hotline", "Exchange"]
PREFIXES: dict[str, Prefix] = {"hotline": "Hotline", "exchange": "Exchange"}

NONCE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Unix seconds as ASCII decimal digits (``[0-9]``, not ``\d``: no other scripts' digits, no
# sign). 1–16 digits bounds the int() parse and still covers any plausible date.
TIMESTAMP_RE = re.compile(r"[0-9]{1,16}")


@dataclass(frozen=True)
class HeaderNames:
    """The four header names of one partner, e.g. ``X-Hotline-Key-Id``."""

    key_id: str
    timestamp: str
    nonce: str
    signature: str

    def all(self) -> tuple[str, str, str, str]:
        return (self.key_id, self.timestamp, self.nonce, self.signature)


def header_names(partner_or_prefix: str) -> HeaderNames:
    """``header_names("hotline")`` or ``header_names("Hotline")``."""
    prefix = PREFIXES.get(partner_or_prefix) or (
        partner_or_prefix if partner_or_prefix in PREFIXES.values() else None
    )
    if prefix is None:
        raise ValueError(f"unknown partner or header prefix {partner_or_prefix!r}")
    base = f"X-{prefix}-"
    return HeaderNames(base + "Key-Id", base + "Timestamp", base + "Nonce", base + "Signature")


def sign(secret: bytes, timestamp: str, nonce: str, raw_body: bytes) -> str:
    """Lowercase hex HMAC-SHA256(secret, ``timestamp + "\\n" + nonce + "\\n" + raw_body``).

    ``raw_body`` is the body bytes exactly as sent or received, never re-serialised JSON.
    Timestamp and nonce are ASCII in any valid request; they are encoded as UTF-8.
    """
    message = timestamp.encode("utf-8") + b"\n" + nonce.encode("utf-8") + b"\n" + raw_body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def check_signature(
    secret: bytes, timestamp: str, nonce: str, raw_body: bytes, signature: str
) -> bool:
    """Whether ``signature`` is the signature of this request, compared in constant time.

    The contract says *lowercase* hex, so an uppercase signature does not match. Comparing
    bytes (not str) keeps ``compare_digest`` from raising on non-ASCII header values; a
    replaced character is never a hex digit, so ``errors="replace"`` cannot make a match.
    """
    expected = sign(secret, timestamp, nonce, raw_body).encode("ascii")
    return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))


def new_nonce() -> str:
    """32 random characters of ``[A-Za-z0-9_-]`` (192 bits)."""
    nonce = secrets.token_urlsafe(24)
    # token_urlsafe's alphabet is exactly the contract's; checked so a library change could
    # never make us send nonces the partner refuses.
    if not NONCE_RE.fullmatch(nonce):  # pragma: no cover - defensive
        raise RuntimeError("generated nonce outside the contract's alphabet")
    return nonce


def unix_timestamp(clock: Clock) -> str:
    """The clock's time as decimal unix seconds (truncated), as the header carries it."""
    return str(int(clock.now().timestamp()))


def signed_headers(
    prefix: str,
    key_id: str,
    secret: bytes,
    body: bytes,
    clock: Clock,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four signing headers for ``body``, with a fresh timestamp and nonce.

    Call it for every attempt: a retry must be signed afresh (a new timestamp and nonce),
    or the partner refuses it as a replay. ``prefix`` is ``"Hotline"`` or ``"Exchange"``
    (a partner name is accepted too). ``nonce`` is for tests; it must fit the contract.
    """
    names = header_names(prefix)
    if nonce is None:
        nonce = new_nonce()
    elif not NONCE_RE.fullmatch(nonce):
        raise ValueError("nonce must be 1-64 characters of [A-Za-z0-9_-]")
    if not key_id:
        raise ValueError("key_id must not be empty")
    timestamp = unix_timestamp(clock)
    return {
        names.key_id: key_id,
        names.timestamp: timestamp,
        names.nonce: nonce,
        names.signature: sign(secret, timestamp, nonce, body),
    }
