"""The signed, expiring evaluation link sent with the 回访 invitation:
``{MINSHENG_PUBLIC_BASE_URL}/api/v1/notify/evaluations/link/{token}``, where the token is
``<case id hex>.<expiry, unix seconds>.<HMAC-SHA256 over both, keyed by the secret key>``.
Holding the link is the permission to rate that one case until it expires."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

PATH = "/api/v1/notify/evaluations/link"


@dataclass(frozen=True)
class LinkClaim:
    case_id: uuid.UUID
    expires_at: datetime


def _mac(secret: str, case_hex: str, expires: int) -> str:
    message = f"minsheng.evaluation|{case_hex}|{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def make_token(secret: str, case_id: uuid.UUID, expires_at: datetime) -> str:
    expires = int(expires_at.timestamp())
    return f"{case_id.hex}.{expires}.{_mac(secret, case_id.hex, expires)}"


def make_url(public_base_url: str, secret: str, case_id: uuid.UUID, expires_at: datetime) -> str:
    return f"{public_base_url.rstrip('/')}{PATH}/{make_token(secret, case_id, expires_at)}"


def read_token(secret: str, token: str, now: datetime) -> LinkClaim | None:
    """The claim of a genuine, unexpired token; None otherwise (the caller answers 404)."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 12:
        return None
    case_hex, expires_s, mac = parts
    try:
        case_id = uuid.UUID(hex=case_hex)
    except ValueError:
        return None
    if not hmac.compare_digest(_mac(secret, case_hex, int(expires_s)), mac):
        return None
    expires_at = datetime.fromtimestamp(int(expires_s), UTC)
    if expires_at <= now:
        return None
    return LinkClaim(case_id, expires_at)
