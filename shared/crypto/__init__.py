"""Personal-data protection for Minsheng.

This package owns everything that turns personal data into something safer to store,
show or log: field encryption with rotating AES-256-GCM keys (``KeyRing``), keyed lookup
hashes (``HashKey``), the encrypted event envelope (``seal_pii`` / ``open_pii``), display
masks, free-text redaction, and validation of ID and mobile numbers. It does no I/O and
reads no settings: callers build ``KeyRing`` / ``HashKey`` from ``MINSHENG_DATA_KEYS`` /
``MINSHENG_HASH_KEY`` and pass them in.
"""

from shared.crypto.envelope import PII_AAD, canonical_json, open_pii, seal_pii
from shared.crypto.idnumber import (
    id_check_char,
    is_valid_id_number,
    is_valid_mobile,
    normalize_id_number,
    normalize_phone,
)
from shared.crypto.keys import (
    CryptoError,
    DecryptionError,
    HashKey,
    KeyRing,
    UnknownKeyError,
    token_key_id,
)
from shared.crypto.masking import mask_address, mask_email, mask_id_number, mask_name, mask_phone
from shared.crypto.redact import redact, redact_many

__all__ = [
    "PII_AAD",
    "CryptoError",
    "DecryptionError",
    "HashKey",
    "KeyRing",
    "UnknownKeyError",
    "canonical_json",
    "id_check_char",
    "is_valid_id_number",
    "is_valid_mobile",
    "mask_address",
    "mask_email",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "normalize_id_number",
    "normalize_phone",
    "open_pii",
    "redact",
    "redact_many",
    "seal_pii",
    "token_key_id",
]
