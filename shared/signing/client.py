"""Outbound signed calls (integrations §0, §2, §3): ``SignedClient`` POSTs JSON to a partner
signed with the partner's first configured key — our hotline callbacks and provincial
results, and the simulators and tests that play a partner calling us.

Owns serialising the body once and signing those exact bytes. Retrying, backoff and
dead-lettering belong to the caller (the outbound delivery worker); every attempt it makes
through ``post_json`` / ``post_bytes`` is signed afresh with a new timestamp and nonce.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from shared.clock import Clock, system_clock
from shared.settings import Settings
from shared.signing.keys import PartnerKeys, partner_keys
from shared.signing.signature import PREFIXES, Partner, signed_headers

__all__ = ["SignedClient", "encode_json"]


def encode_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON with characters as themselves (no ``\\uXXXX``), as we send it.

    ``allow_nan=False``: NaN and Infinity are not JSON and a partner would refuse them.
    """
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


class SignedClient:
    """POST signed JSON to one partner through a caller-owned ``httpx.AsyncClient``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        partner: Partner,
        keys: PartnerKeys,
        clock: Clock = system_clock,
    ) -> None:
        if partner not in PREFIXES:
            raise ValueError(f"unknown partner {partner!r}")
        self.http = http
        self.partner: Partner = partner
        self.keys = keys
        self.clock = clock

    @classmethod
    def from_settings(
        cls,
        http: httpx.AsyncClient,
        settings: Settings,
        *,
        partner: Partner,
        clock: Clock = system_clock,
    ) -> SignedClient:
        return cls(http, partner=partner, keys=partner_keys(settings, partner), clock=clock)

    def sign(self, body: bytes, nonce: str | None = None) -> dict[str, str]:
        """Signing headers for ``body`` with the first key, fresh timestamp and nonce."""
        key_id, secret = self.keys.first()
        return signed_headers(PREFIXES[self.partner], key_id, secret, body, self.clock, nonce)

    async def post_json(
        self,
        url: str,
        payload: Any,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Serialise ``payload`` once (``encode_json``), sign those bytes and POST them."""
        return await self.post_bytes(url, encode_json(payload), headers=headers, timeout=timeout)

    async def post_bytes(
        self,
        url: str,
        body: bytes,
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """POST ``body`` exactly as given, signed (tests use it for malformed bodies)."""
        # Extra headers first, so a caller cannot override the signing headers by accident.
        sent = {"Content-Type": content_type, **(headers or {}), **self.sign(body)}
        if timeout is None:
            return await self.http.post(url, content=body, headers=sent)
        return await self.http.post(url, content=body, headers=sent, timeout=timeout)
