"""The shared parameter types refuse what pydantic's lax parsing would let through (a number
read as the Unix epoch, a year the period arithmetic cannot hold, an id past bigint), each with
a 422 naming the parameter, and take the forms they document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from shared.api.errors import install_error_handlers
from shared.api.params import MONTH_PATTERN, Day, Moment, RowId

app = FastAPI()
install_error_handlers(app)


@app.get("/day")
def _day(day: Day | None = None) -> dict[str, str | None]:
    return {"day": day.isoformat() if day else None}


@app.get("/moment")
def _moment(at: Moment) -> dict[str, str]:
    return {"at": at.isoformat()}


@app.get("/month")
def _month(month: Annotated[str, Query(pattern=MONTH_PATTERN)]) -> dict[str, str]:
    return {"month": month}


@app.get("/rows/{row_id}")
def _row(row_id: RowId, before: RowId | None = None) -> dict[str, int | None]:
    return {"row_id": row_id, "before": before}


client = TestClient(app)


def _refused(path: str) -> tuple[str, str]:
    answer = client.get(path)
    assert answer.status_code == 422, answer.text
    error = answer.json()["errors"][0]
    assert " / " in error["message"]  # Chinese and English
    return error["field"], error["code"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("0", "invalid_date"),
        ("1700000000", "invalid_date"),
        ("2026-2-3", "invalid_date"),
        ("2026-02-30", "invalid_date"),
        ("2026-03-05T00:00:00", "invalid_date"),
        ("0000-01-01", "invalid_date"),  # no year 0: not a date at all
        ("0492-08-13", "date_out_of_range"),
        ("3000-01-01", "date_out_of_range"),
    ],
)
def test_a_day_is_yyyy_mm_dd_within_the_supported_years(query: str, code: str) -> None:
    assert _refused(f"/day?day={query}") == ("day", code)


def test_a_day_in_range_is_taken() -> None:
    for given in ("1900-01-01", "2026-12-07", "2999-12-31"):
        assert client.get(f"/day?day={given}").json() == {"day": given}
    assert client.get("/day").json() == {"day": None}
    assert date.fromisoformat(client.get("/day?day=2024-02-29").json()["day"]).day == 29


def test_a_moment_is_rfc_3339() -> None:
    for bad in ("0", "1700000000", "2026-03-05", "tomorrow", "0492-08-13T00:00:00Z"):
        assert _refused(f"/moment?at={bad}")[0] == "at"
    at = client.get("/moment", params={"at": "2026-03-05T09:30:00+08:00"}).json()["at"]
    assert datetime.fromisoformat(at).utcoffset() is not None
    assert client.get("/moment", params={"at": "2026-03-05 09:30"}).status_code == 200


def test_a_month_is_yyyy_mm_of_a_supported_year() -> None:
    for bad in ("0000-01", "0492-08", "2026-13", "2026-1", "3000-01"):
        assert _refused(f"/month?month={bad}") == ("month", "invalid_format")
    assert client.get("/month?month=2026-11").json() == {"month": "2026-11"}


def test_a_row_id_fits_bigint_and_is_positive() -> None:
    assert _refused("/rows/243544954288866017013119523487744") == ("row_id", "too_large")
    assert _refused("/rows/0") == ("row_id", "too_small")
    assert _refused("/rows/5?before=-149218940909975306240") == ("before", "too_small")
    assert client.get(f"/rows/{2**63 - 1}?before=7").json() == {"row_id": 2**63 - 1, "before": 7}


def test_a_moment_in_a_body_is_a_string_not_a_number() -> None:
    from pydantic import BaseModel, ValidationError

    from shared.api.params import AwareMoment

    class Body(BaseModel):
        at: Moment
        aware: AwareMoment | None = None

    for number in (0, 1_700_000_000, 1.5):
        with pytest.raises(ValidationError, match="invalid_datetime"):
            Body.model_validate({"at": number})
    with pytest.raises(ValidationError):
        Body.model_validate({"at": "2026-03-05T09:30:00Z", "aware": "2026-03-05T09:30:00"})
    taken = Body.model_validate(
        {"at": "2026-03-05T09:30:00.123456789+08:00", "aware": "2026-03-05t01:30:00z"}
    )
    assert taken.aware is not None and taken.aware.utcoffset() is not None
    assert Body(at=datetime(2026, 3, 5, 9, 30)).at.hour == 9  # built in code: a datetime
