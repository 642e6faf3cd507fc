"""Request and response models of the citizen petition API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.crypto import is_valid_mobile, normalize_phone
from shared.reference import categories, regions


class PetitionCreate(BaseModel):
    """A petition filed by a citizen through the web or the app."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "title": "小区门口餐饮店油烟扰民",
                    "content": "宝安区西乡街道某小区门口的餐饮店每天排放油烟，"
                    "影响居民休息，请求处理。",
                    "category": "C05",
                    "region_code": "440306",
                    "phone": "13800138000",
                    "name": "张三",
                }
            ]
        },
    )

    title: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=5000)
    category: str | None = Field(
        default=None, max_length=100, description="a category code or name of the reference tree"
    )
    region_code: str = Field(min_length=6, max_length=12)
    phone: str = Field(min_length=5, max_length=20, description="contact mobile for the 五回")
    name: str | None = Field(default=None, max_length=50)

    @field_validator("region_code")
    @classmethod
    def _region(cls, v: str) -> str:
        if not regions.valid_region_code(v):
            raise ValueError("unknown_region|行政区划代码无效或不在本辖区|unknown region code")
        return v

    @field_validator("category")
    @classmethod
    def _category(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        cat = categories.get(v) or categories.match_label(v)
        if cat is None:
            raise ValueError("unknown_category|诉求类别不存在|unknown category")
        return cat.code

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        if not is_valid_mobile(v):
            raise ValueError("invalid_phone|手机号码格式不正确|invalid mobile number")
        return normalize_phone(v)


class PetitionCreated(BaseModel):
    case_id: str
    tracking_no: str
    query_code: str = Field(description="keep it: with the tracking number it opens the status")
    status: str


class Milestone(BaseModel):
    occurred_at: datetime
    milestone: str
    status: str
    message: str


class PetitionStatus(BaseModel):
    tracking_no: str
    status: str
    title: str
    received_at: datetime
    history: list[Milestone]
