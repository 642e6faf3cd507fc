"""The request and response bodies a notices router uses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.casework.notice import kinds
from services.casework.notice.examples import EXAMPLES
from services.casework.notice.schemas import DeliveryIn, NoticeIssueIn, NoticeKindRead


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_issue_body_and_its_context(kind: str) -> None:
    body = NoticeIssueIn.model_validate({"kind": kind, "context": EXAMPLES[kind]})
    fields = kinds.validate_fields(kinds.get(body.kind), body.context)
    assert isinstance(fields, kinds.KINDS[kind].fields)


def test_issue_body_refuses_unknown_kinds_and_fields() -> None:
    for bad in (
        {"kind": "praise", "context": {}},
        {"kind": "accept", "context": {}, "number": "x"},
        {"kind": "accept"},
    ):
        with pytest.raises(ValidationError):
            NoticeIssueIn.model_validate(bad)


def test_delivery_body() -> None:
    body = DeliveryIn.model_validate(
        {"method": "post", "outcome": "sent", "at": "2026-03-06T09:00:00+08:00"}
    )
    assert body.at.utcoffset() == timedelta(hours=8)
    for bad in (
        {"method": "post", "outcome": "sent", "at": "2026-03-06T09:00"},
        {"method": "fax", "outcome": "sent", "at": "2026-03-06T09:00:00+08:00"},
        {"method": "post", "outcome": "sent", "at": "2026-03-06T09:00:00+08:00", "by": "x"},
    ):
        with pytest.raises(ValidationError):
            DeliveryIn.model_validate(bad)


def test_kind_listing_carries_the_context_schema() -> None:
    read = NoticeKindRead.of(kinds.KINDS["extension"])
    assert read.title == "信访事项延期办理告知书" and read.articles == [34]
    assert read.template_version == "extension/v1"
    schema = read.context_schema
    assert {"issuer", "petitioner", "matter", "extra_days", "new_due_on", "reason"} <= set(
        schema["required"]
    )
    assert schema["additionalProperties"] is False
    assert not kinds.SYSTEM_FIELDS & set(schema["properties"])
