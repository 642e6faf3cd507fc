"""Request and response models of the citizen petition API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

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
    anonymous: bool = Field(
        default=False,
        strict=True,
        description="file without name or phone: the query code is then the only key",
    )
    phone: str | None = Field(
        default=None,
        min_length=5,
        max_length=20,
        validate_default=True,
        description="contact mobile for the 五回; required unless anonymous",
    )
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
    def _phone(cls, v: str | None, info: ValidationInfo) -> str | None:
        anonymous = info.data.get("anonymous", False)
        if v is None:
            if not anonymous:
                raise ValueError(
                    "required|请填写联系电话，或选择匿名提交|"
                    "a contact phone is required unless anonymous"
                )
            return None
        if anonymous:
            raise ValueError(
                "anonymous_with_contact|匿名提交不应填写电话|an anonymous petition carries no phone"
            )
        if not is_valid_mobile(v):
            raise ValueError("invalid_phone|手机号码格式不正确|invalid mobile number")
        return normalize_phone(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v and info.data.get("anonymous", False):
            raise ValueError(
                "anonymous_with_contact|匿名提交不应填写姓名|an anonymous petition carries no name"
            )
        return v


class Supplement(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str | None = Field(default=None, max_length=32, description="the query code")
    content: str = Field(min_length=1, max_length=5000)


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str | None = Field(default=None, max_length=32, description="the query code")
    reason: str = Field(min_length=1, max_length=2000)


class AttachmentRead(BaseModel):
    attachment_id: str
    name: str
    media_type: str
    size: int
    sha256: str


class MyPetition(BaseModel):
    tracking_no: str
    title: str
    status: str
    received_at: datetime


class MyPetitions(BaseModel):
    items: list[MyPetition]
    next_cursor: str | None = None


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
    deadline: datetime | None = Field(
        None, description="the deadline now running for this petition (null when none runs)"
    )
