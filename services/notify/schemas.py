"""Request and response bodies of notify's API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.api.params import Moment

Rating = Literal["satisfied", "basically_satisfied", "dissatisfied"]


class EvaluationCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"unit_rating": "satisfied", "office_rating": "basically_satisfied"},
                {"unit_rating": "dissatisfied", "office_rating": "satisfied", "reason": "未解决"},
            ]
        },
    )
    unit_rating: Rating = Field(description="the handling unit: 满意 / 基本满意 / 不满意")
    office_rating: Rating = Field(description="the petition office, rated separately")
    reason: str | None = Field(default=None, max_length=1000, description="required for 不满意")


class EvaluationRead(BaseModel):
    case_id: str
    tracking_no: str
    status: str  # open | rated | expired
    unit_name: str | None = None
    expires_at: datetime
    unit_rating: str | None = None
    office_rating: str | None = None
    reason: str | None = None
    rated_at: datetime | None = None
    channel: str | None = None


class InboxItemRead(BaseModel):
    id: int
    case_id: str | None
    tracking_no: str | None
    kind: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class InboxPage(BaseModel):
    items: list[InboxItemRead]
    next_before: int | None = Field(description="pass as ?before= for the next page")


class AlertRead(BaseModel):
    id: int
    kind: str
    case_id: str
    tracking_no: str
    accusation: bool
    text: str
    due_at: datetime | None
    created_at: datetime
    read_at: datetime | None


class AlertPage(BaseModel):
    items: list[AlertRead]
    next_before: int | None


class ReadMark(BaseModel):
    id: int
    read_at: datetime


class DeliveryRead(BaseModel):
    channel: str  # sms | email | inbox | hotline | exchange
    kind: str
    template: str | None
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    delivery_status: str | None = None
    held: str | None = None
    last_error: str | None = None
    recipient: str | None = Field(default=None, description="masked")


class DeliveryLog(BaseModel):
    case_id: str
    tracking_no: str
    deliveries: list[DeliveryRead]


class SmsReceipt(BaseModel):
    """A delivery receipt from the SMS gateway (see ``minsheng.simulators.sms_gateway``)."""

    model_config = ConfigDict(extra="ignore")
    message_id: str = Field(min_length=1, max_length=64)
    provider_ref: str = Field(min_length=1, max_length=200)
    status: Literal["delivered", "undelivered"]
    at: Moment | None = None


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["sms", "inbox", "email"] = "sms"
    context: dict[str, Any] = Field(
        default_factory=dict, description="overrides of the template's sample values"
    )


class TemplateRead(BaseModel):
    kind: str
    label: str
    version: int
    template: str
    channels: list[str]
    sample: dict[str, Any]


class CallbackRead(BaseModel):
    id: int
    partner: str
    stream: str
    event_id: str
    case_id: str | None
    status_sent: str
    state: str
    attempts: int
    next_attempt_at: datetime
    first_failed_at: datetime | None
    alerted_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
