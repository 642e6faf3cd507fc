"""Types every API shares for days, months, moments and row ids in paths, query strings and
(moments) request bodies. Pydantic's lax parsing would read ``?to=0`` or ``"due_at": 0`` as the
Unix epoch and let years through that the period arithmetic cannot hold (year 0, or ``0492``
turned into ``'492-08-01'``), and a row id past PostgreSQL's ``bigint`` reaches the driver as
an overflow (500). These refuse them with a 422 that names the field, before any handler
runs."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

import annotated_types
from pydantic import AwareDatetime, BeforeValidator, WithJsonSchema

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?")
_RANGE = (
    "date_out_of_range|日期须在1900-01-01至2999-12-31之间"
    "|date must be between 1900-01-01 and 2999-12-31"
)


_NOT_A_MOMENT = (
    "invalid_datetime|时间格式应为RFC 3339（如2026-03-05T09:30:00+08:00）"
    "|date-time must be RFC 3339 (e.g. 2026-03-05T09:30:00+08:00)"
)


def _day(value: Any) -> Any:
    if isinstance(value, str):
        if not _DAY.fullmatch(value):
            raise ValueError("invalid_date|日期格式应为YYYY-MM-DD|date must be YYYY-MM-DD")
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValueError("invalid_date|日期不存在|no such date") from None
    if isinstance(value, date) and not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(_RANGE)
    return value


def _moment(value: Any) -> Any:
    if not isinstance(value, str | datetime):  # a number would be read as Unix time
        raise ValueError(_NOT_A_MOMENT)
    if isinstance(value, str):
        if not _MOMENT.fullmatch(value):
            raise ValueError(_NOT_A_MOMENT)
        if not FIRST_DAY.isoformat() <= value[:10] <= LAST_DAY.isoformat():
            raise ValueError(_RANGE)
    return value


Day = Annotated[
    date,
    BeforeValidator(_day),
    WithJsonSchema({"type": "string", "format": "date", "minLength": 10, "maxLength": 10}),
]
"""A calendar day, ``YYYY-MM-DD`` only, 1900-01-01 … 2999-12-31."""

Moment = Annotated[datetime, BeforeValidator(_moment)]
"""An RFC 3339 date-time, as a string (whether an offset is required is the endpoint's rule);
for query parameters and request bodies alike."""

AwareMoment = Annotated[AwareDatetime, BeforeValidator(_moment)]
"""An RFC 3339 date-time with its offset."""

MONTH_PATTERN = r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$"
"""``YYYY-MM`` of years 1900–2999."""

INT_MAX = 2**31 - 1
"""The largest PostgreSQL ``integer``: counts and revisions stored in one."""

ROW_ID_MAX = 2**63 - 1
RowId = Annotated[int, annotated_types.Ge(1), annotated_types.Le(ROW_ID_MAX)]
"""A ``bigint`` row id (alerts, inbox items, archived reports, paging cursors)."""
