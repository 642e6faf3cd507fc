"""Display masks for personal data shown to staff, in logs, and in exports.

Owns how phone numbers, ID numbers, names, addresses and e-mail addresses are
partially hidden. Every function returns ``None`` for ``None`` and never raises on
odd input: when a value does not look like what it should, more is hidden, not less.
"""

from __future__ import annotations

import re
import unicodedata
from typing import overload

from shared.crypto.idnumber import normalize_id_number, normalize_phone

__all__ = ["mask_address", "mask_email", "mask_id_number", "mask_name", "mask_phone"]

MASK = "****"

# Below these lengths, keeping the usual head and tail would reveal most of the value.
_MIN_PARTIAL_PHONE = 8
_MIN_PARTIAL_ID = 15

# "*" is allowed so that masking an already-masked value gives the same value back.
_PHONE_CHARS_RE = re.compile(r"[0-9*]+")
_ID_CHARS_RE = re.compile(r"[0-9A-Z*]+")

# Names of administrative units never contain these; stopping at them keeps a street,
# town or housing estate from being taken for a district.
_NOT_IN_NAME = r"省市区县旗镇乡街道路号村巷弄栋楼室\d\s"
_PROVINCE = rf"(?:北京市|天津市|上海市|重庆市|[^{_NOT_IN_NAME}]{{2,8}}?(?:省|自治区|特别行政区))"
_CITY = rf"(?:[^{_NOT_IN_NAME}]{{1,10}}?(?:市|自治州|地区|盟))"
_DISTRICT = rf"(?:[^{_NOT_IN_NAME}]{{1,10}}?(?:区|县|市|旗))"
_ADDRESS_HEAD_RE = re.compile(rf"(?:{_PROVINCE}\s*(?:{_CITY}\s*)?|{_CITY}\s*)(?:{_DISTRICT})?")


@overload
def mask_phone(phone: str) -> str: ...
@overload
def mask_phone(phone: None) -> None: ...
def mask_phone(phone: str | None) -> str | None:
    """``13800138000`` / ``+86 138-0013-8000`` -> ``138****8000``.

    Any number of 8+ digits keeps its first 3 and last 4; anything else is fully masked.
    """
    if phone is None:
        return None
    digits = normalize_phone(phone)
    if len(digits) >= _MIN_PARTIAL_PHONE and _PHONE_CHARS_RE.fullmatch(digits):
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * len(digits)


@overload
def mask_id_number(id_number: str) -> str: ...
@overload
def mask_id_number(id_number: None) -> None: ...
def mask_id_number(id_number: str | None) -> str | None:
    """``440306198001011234`` -> ``440306********1234`` (first 6 and last 4 kept).

    Values shorter than 15 characters (the old ID format) are fully masked, since
    keeping 10 characters of them would reveal most of the value.
    """
    if id_number is None:
        return None
    number = normalize_id_number(id_number)
    if len(number) >= _MIN_PARTIAL_ID and _ID_CHARS_RE.fullmatch(number):
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    return "*" * len(number)


@overload
def mask_name(name: str) -> str: ...
@overload
def mask_name(name: None) -> None: ...
def mask_name(name: str | None) -> str | None:
    """``张三`` -> ``张*``, ``欧阳娜娜`` -> ``欧***``, ``John Smith`` -> ``J*********``.

    Only the first character survives (even of a two-character surname, so a rare
    compound surname cannot identify the person); a one-character name is fully masked.
    """
    if name is None:
        return None
    text = unicodedata.normalize("NFKC", name).strip()
    if len(text) <= 1:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 1)


@overload
def mask_address(address: str) -> str: ...
@overload
def mask_address(address: None) -> None: ...
def mask_address(address: str | None) -> str | None:
    """Keep province/city/district and hide the rest.

    ``广东省深圳市宝安区西乡街道某某小区3栋101`` -> ``广东省深圳市宝安区****``. The
    district is the first unit ending in 区/县/市/旗 after the province or city. An
    address that does not start with a recognisable province or city becomes ``****``.
    """
    if address is None:
        return None
    text = address.strip()
    if not text:
        return ""
    match = _ADDRESS_HEAD_RE.match(text)
    if match is None:
        return MASK
    head = match.group().rstrip()
    if len(head) == len(text):
        return head
    return head + MASK


@overload
def mask_email(email: str) -> str: ...
@overload
def mask_email(email: None) -> None: ...
def mask_email(email: str | None) -> str | None:
    """``zhangsan@example.com`` -> ``z*******@example.com``; the domain stays visible."""
    if email is None:
        return None
    text = email.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return "*" * len(text)
    masked_local = local[0] + "*" * (len(local) - 1) if len(local) > 1 else "*"
    return f"{masked_local}@{domain}"
