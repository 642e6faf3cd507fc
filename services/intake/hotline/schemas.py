"""The 12345 hotline's side of the contract (integrations §1), as it sends it. Unknown extra
fields are ignored here and kept, encrypted, in the raw record."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.api.openapi import null_is_empty
from shared.api.params import INT_MAX, Moment
from shared.reference import regions


def _aware(v: datetime | None) -> datetime | None:
    if v is not None and v.tzinfo is None:
        raise ValueError("timezone_aware|时间须带时区|date-time needs an offset")
    return v


class Caller(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(default=None, max_length=100)
    # secondary identifiers: a malformed one (of any length) is flagged, never refused (§1)
    phone: str | None = None
    id_number: str | None = None


class HotlineLocation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    lat: float = Field(ge=-90, le=90, strict=True)
    lng: float = Field(ge=-180, le=180, strict=True)


class HotlineAttachment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=255)
    url: str | None = Field(default=None, max_length=2000)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")


class WorkOrder(BaseModel):
    """工单 — one order as the hotline pushes it."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "order_no": "GD202611220001234",
                    "revision": 1,
                    "received_at": "2026-11-22T09:15:00+08:00",
                    "channel": "phone",
                    "caller": {"name": "张三", "phone": "13800138000", "id_number": None},
                    "anonymous": False,
                    "title": "小区门口餐饮店油烟扰民",
                    "content": "小区门口餐饮店每天傍晚油烟很大，影响居民生活。",
                    "category": "环境保护",
                    "region_code": "440306",
                    "address": "宝安区西乡街道……",
                    "urgency": "normal",
                    "due_at": "2026-11-29T18:00:00+08:00",
                }
            ]
        },
    )

    order_no: str = Field(min_length=1, max_length=64)
    # a JSON integer (not "1", not true) that fits the column
    revision: int = Field(ge=1, le=INT_MAX, strict=True)
    received_at: Moment
    channel: Literal["phone", "app", "wechat", "web", "sms"]
    anonymous: bool = Field(default=False, strict=True)  # before caller: its check reads this
    caller: Caller | None = Field(default=None, validate_default=True)
    title: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=5000)
    category: str | None = Field(default=None, max_length=200)
    region_code: str = Field(min_length=6, max_length=12)
    address: str = Field(min_length=1, max_length=500)
    location: HotlineLocation | None = None
    urgency: Literal["normal", "urgent", "emergency"]
    due_at: Moment | None = None
    attachments: list[HotlineAttachment] = Field(
        default_factory=list, max_length=50, json_schema_extra=null_is_empty
    )

    @field_validator("received_at", "due_at")
    @classmethod
    def _times(cls, v: datetime | None) -> datetime | None:
        return _aware(v)

    @field_validator("attachments", mode="before")
    @classmethod
    def _no_attachments(cls, v: object) -> object:
        return [] if v is None else v  # optional: null is none

    @field_validator("region_code")
    @classmethod
    def _region(cls, v: str) -> str:
        if not regions.valid_region_code(v):
            raise ValueError("unknown_region|行政区划代码无效或不在本辖区|unknown region code")
        return v

    @field_validator("caller")
    @classmethod
    def _caller_unless_anonymous(cls, v: Caller | None, info: ValidationInfo) -> Caller | None:
        if v is None and not info.data.get("anonymous", False):
            raise ValueError("required|非匿名工单须提供来电人|caller required unless anonymous")
        return v


class BatchPush(BaseModel):
    model_config = ConfigDict(extra="ignore")
    orders: list[dict[str, object]]


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    reason: str = Field(min_length=1, max_length=2000)
    cancelled_at: Moment

    @field_validator("cancelled_at")
    @classmethod
    def _times(cls, v: datetime) -> datetime | None:
        return _aware(v)


class Evaluation(BaseModel):
    """The hotline's own call-back to the citizen (12345 回访)."""

    model_config = ConfigDict(extra="ignore")
    order_no: str = Field(min_length=1, max_length=64)
    visited_at: Moment
    contacted: bool = Field(strict=True)
    solved: bool | None = Field(default=None, strict=True)
    rating: Literal["满意", "基本满意", "不满意"] | None = None
    comment: str | None = Field(default=None, max_length=5000)

    @field_validator("visited_at")
    @classmethod
    def _times(cls, v: datetime) -> datetime | None:
        return _aware(v)


class OrderAnswer(BaseModel):
    case_id: str
    tracking_no: str
    status: str


class ReconciliationItem(BaseModel):
    order_no: str
    revision: int
    case_id: str
    status: str


class Reconciliation(BaseModel):
    date: date
    orders: list[ReconciliationItem]
