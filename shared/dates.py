"""Date-times as partner files and feeds write them, parsed into aware datetimes.

Owns the formats real sources use: the Teddy message boards (``2019/2/28 11:25:05``,
``2017-06-08 17:31:20``, ``2019/2/28 11:25``, ``2019/2/28``), NYC 311 and the Fuzhou export
(``06/26/2018 10:58:54 AM``, ``12/31/2016``: month first when the year comes last), ISO dates
(``2019-02-28``) and RFC 3339 with an offset or ``Z``. A value without an offset is local
time in ``default_tz`` (Asia/Shanghai unless the source says otherwise). Anything else is
refused with one bilingual error, so a caller can report the row instead of guessing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from shared.clock import SHANGHAI

INVALID = "invalid_datetime|时间格式不正确|invalid date-time"

# Year first: 2019/2/28, 2019-02-28, with an optional time (seconds and fraction optional),
# "T" or a blank between, and an optional offset. One separator throughout the date.
_YMD = re.compile(
    r"(?P<y>\d{4})(?P<sep>[/-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?",
    re.IGNORECASE,
)
# Year last, month first (the US order of NYC 311 and the Fuzhou export): 06/26/2018,
# 06/26/2018 10:58:54 AM, 06/26/2018 22:58.
_MDY = re.compile(
    r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"
    r"(?: (?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\s*(?P<ampm>[AP]M))?)?",
    re.IGNORECASE,
)


def parse_datetime(text: str, *, default_tz: tzinfo = SHANGHAI) -> datetime:
    """The aware instant ``text`` names; ``ValueError`` when it is not a supported format."""
    value = text.strip() if isinstance(text, str) else ""
    try:
        if m := _YMD.fullmatch(value):
            return _build(m, m["tz"], None, default_tz)
        if m := _MDY.fullmatch(value):
            return _build(m, None, m["ampm"], default_tz)
    except (ValueError, OverflowError):
        pass
    raise ValueError(INVALID)


def _build(m: re.Match[str], offset: str | None, ampm: str | None, default_tz: tzinfo) -> datetime:
    hour = int(m["H"] or 0)
    if ampm is not None:
        if not 1 <= hour <= 12:
            raise ValueError(INVALID)
        hour = hour % 12 + (12 if ampm.upper() == "PM" else 0)
    fraction = (m.groupdict().get("f") or "")[:6].ljust(6, "0")
    naive = datetime(
        int(m["y"]),
        int(m["m"]),
        int(m["d"]),
        hour,
        int(m["M"] or 0),
        int(m["S"] or 0),
        int(fraction),
    )
    if offset is None:
        return naive.replace(tzinfo=default_tz)
    if offset.upper() == "Z":
        return naive.replace(tzinfo=UTC)
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError(INVALID)
    delta = timedelta(hours=hours, minutes=minutes)
    return naive.replace(tzinfo=timezone(-delta if offset[0] == "-" else delta))
