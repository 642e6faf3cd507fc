"""Schemathesis hooks for tests/e2e/test_api_fuzz.py (loaded through ``SCHEMATHESIS_HOOKS``):
the partners' endpoints get requests signed as integrations §0 says — over the exact bytes
sent, a fresh timestamp and nonce each time, with the embedded run's default key pairs — so
that the generated bodies reach validation instead of stopping at 401."""

from __future__ import annotations

import time
from typing import Any

import requests
import schemathesis

from shared.settings import DEV_EXCHANGE_KEYS, DEV_HOTLINE_KEYS
from shared.signing.signature import header_names, new_nonce, sign

_PARTNERS = {
    "/api/v1/hotline/": ("hotline", DEV_HOTLINE_KEYS),
    "/api/v1/exchange/": ("exchange", DEV_EXCHANGE_KEYS),
}


class _Signed(requests.auth.AuthBase):
    def __init__(self, partner: str, pairs: str) -> None:
        first = pairs.split(",")[0]
        self.key_id, _, secret = first.partition(":")
        self.secret = secret.encode()
        self.names = header_names(partner)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        timestamp, nonce = str(int(time.time())), new_nonce()
        request.headers[self.names.key_id] = self.key_id
        request.headers[self.names.timestamp] = timestamp
        request.headers[self.names.nonce] = nonce
        request.headers[self.names.signature] = sign(self.secret, timestamp, nonce, raw)
        return request


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    for prefix, (partner, pairs) in _PARTNERS.items():
        if case.operation.path.startswith(prefix):
            kwargs["auth"] = _Signed(partner, pairs)
