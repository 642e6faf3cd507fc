"""What Open311 clients send: the POST form and the GET filters, checked by hand so that every
refusal is in the standard's error format (never FastAPI's 422)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.intake.open311.render import bad_request
from shared.clock import SHANGHAI

DESCRIPTION_MAX = 4000  # the standard's limit
ADDRESS_MAX = 500  # NormalizedPetition.address
FIELD_MAX = 200
WINDOW = timedelta(days=90)  # the standard's default query window
MAX_RESULTS = 1000  # … and its default volume
MAX_IDS = 1000
STATUSES = ("open", "closed")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class RequestForm:
    """``POST requests.[format]``; ``jurisdiction_id``, ``address_id``, ``account_id`` and any
    other field are accepted and not used (they are kept, encrypted, in the raw record)."""

    service_code: str
    description: str
    lat: float | None
    long: float | None
    address_string: str | None
    email: str | None
    email_valid: bool
    phone: str | None
    first_name: str | None
    last_name: str | None
    region_code: str | None  # attribute[region_code]
    media_url: str | None
    device_id: str | None


def _text(form: Mapping[str, str], name: str, limit: int = FIELD_MAX) -> str | None:
    value = (form.get(name) or "").strip()
    if not value:
        return None  # "optional": empty is the same as absent
    if len(value) > limit:
        raise bad_request(f"{name} 过长（最多 {limit} 字）", f"{name} too long (max {limit})")
    return value


def _coordinate(form: Mapping[str, str], name: str, bound: float) -> float | None:
    raw = _text(form, name, 40)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise bad_request(f"{name} 应为数字", f"{name} must be a number") from None
    if not math.isfinite(value) or abs(value) > bound:
        raise bad_request(f"{name} 超出范围", f"{name} out of range")
    return value


def parse_form(form: Mapping[str, str]) -> RequestForm:
    problems: list[tuple[str, str]] = []
    service_code = _text(form, "service_code")
    if service_code is None:
        problems.append(("缺少 service_code", "service_code was not provided"))
    description = (form.get("description") or "").strip()
    if not description:
        problems.append(("缺少诉求描述 description", "description is required"))
    elif len(description) > DESCRIPTION_MAX:
        problems.append(
            (f"描述过长（最多 {DESCRIPTION_MAX} 字）", f"description over {DESCRIPTION_MAX} chars")
        )
    lat = _coordinate(form, "lat", 90)
    lng = _coordinate(form, "long", 180)
    if (lat is None) != (lng is None):
        problems.append(("lat 与 long 须同时提供", "lat and long must be sent together"))
    address = _text(form, "address_string", ADDRESS_MAX)
    if lat is None and lng is None and address is None:
        problems.append(
            (
                "须提供位置：lat/long 或 address_string",
                "a location is required: lat & long or address_string",
            )
        )
    if problems:
        err = bad_request(*problems[0])
        err.description = "; ".join(f"{zh} / {en}" for zh, en in problems)
        raise err
    email = _text(form, "email")
    assert service_code is not None
    return RequestForm(
        service_code=service_code,
        description=description,
        lat=lat,
        long=lng,
        address_string=address,
        email=email,
        email_valid=email is None or bool(_EMAIL.match(email)),
        phone=_text(form, "phone", 40),
        first_name=_text(form, "first_name", 50),
        last_name=_text(form, "last_name", 50),
        region_code=_text(form, "attribute[region_code]", 12),
        media_url=_text(form, "media_url", 2000),
        device_id=_text(form, "device_id"),
    )


@dataclass(frozen=True)
class RequestQuery:
    """``GET requests.[format]``: ``service_request_id`` overrides every other argument."""

    ids: tuple[str, ...]
    service_codes: tuple[str, ...]
    start: datetime
    end: datetime
    statuses: tuple[str, ...]


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in (value or "").split(",") if v.strip()))


def _when(name: str, value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise bad_request(
            f"{name} 时间格式不正确（W3C 格式，如 2026-01-01T00:00:00Z）",
            f"{name} must be a W3C date-time, e.g. 2026-01-01T00:00:00Z",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


def parse_query(params: Mapping[str, str], now: datetime) -> RequestQuery:
    ids = _list(params.get("service_request_id"))
    if len(ids) > MAX_IDS:
        raise bad_request(f"service_request_id 最多 {MAX_IDS} 个", f"at most {MAX_IDS} ids")
    statuses = _list(params.get("status"))
    for status in statuses:
        if status not in STATUSES:
            raise bad_request("status 只能是 open 或 closed", "status must be open or closed")
    start, end = (
        _when("start_date", params.get("start_date")),
        _when("end_date", params.get("end_date")),
    )
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - WINDOW
    if end is None:
        end = start + WINDOW
    if end < start:
        raise bad_request("end_date 早于 start_date", "end_date is before start_date")
    if end - start > WINDOW:
        raise bad_request(
            "查询时间跨度不得超过 90 天", "the date range may not span more than 90 days"
        )
    return RequestQuery(
        ids=ids,
        service_codes=_list(params.get("service_code")),
        start=start,
        end=end,
        statuses=statuses,
    )
