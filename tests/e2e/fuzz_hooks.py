"""Schemathesis hooks for tests/e2e/test_api_fuzz.py (loaded through ``SCHEMATHESIS_HOOKS``):
the partners' endpoints get requests signed as integrations §0 says — over the exact bytes
sent, a fresh timestamp and nonce each time, with the embedded run's default key pairs — so
that the generated bodies reach validation instead of stopping at 401."""

from __future__ import annotations

import os
from typing import Any

import requests
import schemathesis

from shared.clock import system_clock
from shared.settings import DEV_EXCHANGE_KEYS, DEV_HOTLINE_KEYS
from shared.signing.keys import PartnerKeys
from shared.signing.signature import signed_headers

_PARTNERS = {
    "/api/v1/hotline/": ("Hotline", PartnerKeys.parse(DEV_HOTLINE_KEYS)),
    "/api/v1/exchange/": ("Exchange", PartnerKeys.parse(DEV_EXCHANGE_KEYS)),
}


class _Signed(requests.auth.AuthBase):
    """Signs the prepared request: its body is then the exact bytes that will be sent."""

    def __init__(self, prefix: str, keys: PartnerKeys) -> None:
        self.prefix = prefix
        self.key_id, self.secret = keys.first()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        request.headers.update(
            signed_headers(self.prefix, self.key_id, self.secret, raw, system_clock)
        )
        return request


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    for prefix, partner in _PARTNERS.items():
        if case.operation.path.startswith(prefix):
            kwargs["auth"] = _Signed(*partner)


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    """Each partner answer's status, to ``MINSHENG_FUZZ_PARTNER_LOG``: the test checks that the
    signed requests got past the signature check (a 401 is documented, so the run alone would
    pass even if every signature were wrong)."""
    log = os.environ.get("MINSHENG_FUZZ_PARTNER_LOG")
    if log and any(case.operation.path.startswith(prefix) for prefix in _PARTNERS):
        with open(log, "a") as out:
            out.write(f"{response.status_code}\n")
