"""shared.dates: the formats real sources write, the errors, and round trips (hypothesis)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shared.clock import SHANGHAI
from shared.dates import parse_datetime

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019/2/28 11:25:05", datetime(2019, 2, 28, 11, 25, 5, tzinfo=SHANGHAI)),
        ("2019/4/25 9:32:09", datetime(2019, 4, 25, 9, 32, 9, tzinfo=SHANGHAI)),
        ("2017-06-08 17:31:20", datetime(2017, 6, 8, 17, 31, 20, tzinfo=SHANGHAI)),
        ("2019/2/28 11:25", datetime(2019, 2, 28, 11, 25, tzinfo=SHANGHAI)),
        ("2019/2/28", datetime(2019, 2, 28, tzinfo=SHANGHAI)),
        ("2019-02-28", datetime(2019, 2, 28, tzinfo=SHANGHAI)),
        ("12/31/2016", datetime(2016, 12, 31, tzinfo=SHANGHAI)),
        ("06/26/2018 10:58:54 AM", datetime(2018, 6, 26, 10, 58, 54, tzinfo=SHANGHAI)),
        ("06/26/2018 12:50:01 PM", datetime(2018, 6, 26, 12, 50, 1, tzinfo=SHANGHAI)),
        ("06/26/2018 12:05:00 am", datetime(2018, 6, 26, 0, 5, tzinfo=SHANGHAI)),
        ("2019-02-28T03:25:05Z", datetime(2019, 2, 28, 3, 25, 5, tzinfo=UTC)),
        ("2019-02-28T11:25:05.250+08:00", datetime(2019, 2, 28, 3, 25, 5, 250000, tzinfo=UTC)),
        ("2019-02-28t11:25:05-0500", datetime(2019, 2, 28, 16, 25, 5, tzinfo=UTC)),
        ("  2019/2/28 11:25:05 ", datetime(2019, 2, 28, 11, 25, 5, tzinfo=SHANGHAI)),
    ],
)
def test_formats_of_real_sources(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed.tzinfo is not None
    assert parsed == expected


def test_naive_values_take_the_default_zone() -> None:
    parsed = parse_datetime("06/26/2018 10:58:54 AM", default_tz=NEW_YORK)
    assert parsed == datetime(2018, 6, 26, 14, 58, 54, tzinfo=UTC)
    # an explicit offset wins over the default zone
    assert parse_datetime("2019-02-28T11:25:05Z", default_tz=NEW_YORK).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "yesterday",
        "2019/13/01",
        "2019/2/30 10:00:00",
        "2019-02-28 24:00:00",
        "2019-02-28 11:61",
        "2019/02-28",
        "28/02/2019",  # day first when the year is last is not a format any source uses
        "06/26/2018 13:00:00 PM",
        "06/26/2018 00:10:00 AM",
        "2019-02-28T11:25:05+25:00",
        "2019年2月28日",
        "20190228",
    ],
)
def test_unsupported_values_are_refused_with_one_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid_datetime\|时间格式不正确\|invalid date-time$"):
        parse_datetime(text)


def test_non_text_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid_datetime"):
        parse_datetime(None)  # type: ignore[arg-type]


# --- round trips -------------------------------------------------------------------------

ZONES: list[tzinfo] = [UTC, SHANGHAI, NEW_YORK, timezone(timedelta(hours=-9, minutes=-30))]


def _slash_seconds(d: datetime) -> str:
    return f"{d.year}/{d.month}/{d.day} {d.hour}:{d.minute:02d}:{d.second:02d}"


def _dash_seconds(d: datetime) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S")


def _us(d: datetime) -> str:
    return d.strftime("%m/%d/%Y %I:%M:%S %p")


def _slash_minutes(d: datetime) -> str:
    return f"{d.year}/{d.month}/{d.day} {d.hour}:{d.minute:02d}"


def _slash_date(d: datetime) -> str:
    return f"{d.year}/{d.month}/{d.day}"


def _iso_date(d: datetime) -> str:
    return d.strftime("%Y-%m-%d")


def _us_date(d: datetime) -> str:
    return d.strftime("%m/%d/%Y")


# format, precision it keeps
NAIVE_FORMATS: list[tuple[Callable[[datetime], str], str]] = [
    (_slash_seconds, "second"),
    (_dash_seconds, "second"),
    (_us, "second"),
    (_slash_minutes, "minute"),
    (_slash_date, "day"),
    (_iso_date, "day"),
    (_us_date, "day"),
]


def _truncate(d: datetime, precision: str) -> datetime:
    if precision == "day":
        return d.replace(hour=0, minute=0, second=0, microsecond=0)
    if precision == "minute":
        return d.replace(second=0, microsecond=0)
    return d.replace(microsecond=0)


aware = st.datetimes(
    min_value=datetime(1902, 1, 1),  # after local mean time: offsets in whole minutes
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(ZONES),
)


@given(moment=aware, zone=st.sampled_from(ZONES), fmt=st.sampled_from(NAIVE_FORMATS))
def test_naive_formats_round_trip_in_the_default_zone(
    moment: datetime, zone: tzinfo, fmt: tuple[Callable[[datetime], str], str]
) -> None:
    render, precision = fmt
    local = moment.astimezone(zone)
    expected = _truncate(local, precision)
    # a wall time that a zone's clock change repeats or skips names no single instant
    for probe in (local, expected):
        assume(probe.replace(fold=1 - probe.fold).utcoffset() == probe.utcoffset())
    parsed = parse_datetime(render(local), default_tz=zone)
    assert parsed == expected


@given(moment=aware, zulu=st.booleans())
def test_rfc3339_round_trips_to_the_microsecond(moment: datetime, zulu: bool) -> None:
    if zulu:
        text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        text = moment.isoformat()
    parsed = parse_datetime(text, default_tz=NEW_YORK)  # the offset, not the default, decides
    # compared in UTC: Python never calls an ambiguous wall time equal across zones (PEP 495)
    assert parsed.astimezone(UTC) == moment.astimezone(UTC)
    assert parsed.utcoffset() == (timedelta(0) if zulu else moment.utcoffset())
