"""Validation and normalisation of mainland identity numbers and mobile phone numbers.

Owns the GB 11643-1999 citizen identity number checksum, birth-date plausibility
checks, and the canonical forms of phone and ID numbers that hashing and masking
build on. Pure functions, no I/O.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata

__all__ = [
    "ID_CHECK_CHARS",
    "ID_WEIGHTS",
    "id_check_char",
    "is_valid_id_number",
    "is_valid_mobile",
    "normalize_id_number",
    "normalize_phone",
]

ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"

_MIN_BIRTH_YEAR = 1900
_MAX_BIRTH_YEAR = 2100

# Explicit [0-9]: str.isdigit()/\d would also accept other Unicode digits.
_ID18_RE = re.compile(r"[0-9]{17}[0-9X]")
_ID15_RE = re.compile(r"[0-9]{15}")
_DIGITS17_RE = re.compile(r"[0-9]{17}")
_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
# Separators people type inside phone numbers; NFKC has already folded full-width forms.
_PHONE_SEPARATORS_RE = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_WHITESPACE_RE = re.compile(r"\s+")


def normalize_phone(value: str) -> str:
    """Canonical form of a phone number: NFKC, no spaces/dashes, no +86/0086 prefix.

    A bare ``86`` prefix is dropped only when what follows is a valid mobile number,
    because ``86...`` on its own is also the start of ordinary numbers.
    """
    text = _PHONE_SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", value))
    if text.startswith("+86"):
        return text[3:]
    if text.startswith("0086"):
        return text[4:]
    if text.startswith("86") and _MOBILE_RE.fullmatch(text[2:]):
        return text[2:]
    return text


def normalize_id_number(value: str) -> str:
    """Canonical form of an ID number: NFKC, no whitespace, upper-case check character."""
    return _WHITESPACE_RE.sub("", unicodedata.normalize("NFKC", value)).upper()


def is_valid_mobile(value: object) -> bool:
    """True for a mainland mobile number (``1[3-9]`` + 9 digits) after normalisation."""
    if not isinstance(value, str):
        return False
    return _MOBILE_RE.fullmatch(normalize_phone(value)) is not None


def id_check_char(first17: str) -> str:
    """GB 11643-1999 check character for the first 17 digits of an ID number."""
    if not _DIGITS17_RE.fullmatch(first17):
        raise ValueError("expected exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def _plausible_birth_date(year: int, month: int, day: int) -> bool:
    if not _MIN_BIRTH_YEAR <= year <= _MAX_BIRTH_YEAR:
        return False
    try:
        _dt.date(year, month, day)
    except ValueError:
        return False
    return True


def is_valid_id_number(value: object) -> bool:
    """True for a well-formed resident identity number.

    18 characters: 17 digits plus a check character that matches GB 11643-1999, with a
    real birth date (YYYYMMDD, year 1900-2100) at positions 7-14. 15 digits (the
    pre-1999 format, which has no checksum): a real YYMMDD birth date in the 1900s.
    Whitespace, full-width digits and a lower-case ``x`` are accepted.
    """
    if not isinstance(value, str):
        return False
    number = normalize_id_number(value)
    if _ID18_RE.fullmatch(number):
        birth = number[6:14]
        if not _plausible_birth_date(int(birth[:4]), int(birth[4:6]), int(birth[6:])):
            return False
        return id_check_char(number[:17]) == number[17]
    if _ID15_RE.fullmatch(number):
        birth = number[6:12]
        # Old-format numbers were only issued to people born in the 20th century.
        return _plausible_birth_date(1900 + int(birth[:2]), int(birth[2:4]), int(birth[4:]))
    return False
