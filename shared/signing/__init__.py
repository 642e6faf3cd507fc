"""HMAC request signing between Minsheng and its partners (integrations §0), both ways:
the 12345 city hotline (``X-Hotline-*`` headers) and the provincial petition platform
(``X-Exchange-*``).

This package owns the signing contract and nothing else: key lists (``keys``), the
signature format and outbound headers (``signature``), inbound verification with replay
protection (``verify``) and its ``partner_nonce`` table (``tables``, added to the receiving
service's metadata and migrations by that service), the FastAPI glue (``dependency``) and a
signing HTTP client (``client``). What a partner's request *means* is the receiving
service's business; what we send and when is the outbound worker's.
"""

from shared.signing.client import SignedClient, encode_json
from shared.signing.dependency import verify_partner
from shared.signing.keys import PartnerKeys, parse_key_pairs, partner_keys
from shared.signing.signature import (
    NONCE_RE,
    PREFIXES,
    TIMESTAMP_RE,
    HeaderNames,
    Partner,
    Prefix,
    check_signature,
    header_names,
    new_nonce,
    sign,
    signed_headers,
    unix_timestamp,
)
from shared.signing.tables import NONCE_TABLE, nonce_table
from shared.signing.verify import (
    MESSAGES,
    REPLAY_SECONDS,
    WINDOW_SECONDS,
    SignatureError,
    SignedRequest,
    authenticate,
    purge_nonces,
    remember_nonce,
    verify_request,
)

__all__ = [
    "MESSAGES",
    "NONCE_RE",
    "NONCE_TABLE",
    "PREFIXES",
    "REPLAY_SECONDS",
    "TIMESTAMP_RE",
    "WINDOW_SECONDS",
    "HeaderNames",
    "Partner",
    "PartnerKeys",
    "Prefix",
    "SignatureError",
    "SignedClient",
    "SignedRequest",
    "authenticate",
    "check_signature",
    "encode_json",
    "header_names",
    "new_nonce",
    "nonce_table",
    "parse_key_pairs",
    "partner_keys",
    "purge_nonces",
    "remember_nonce",
    "sign",
    "signed_headers",
    "unix_timestamp",
    "verify_partner",
    "verify_request",
]
