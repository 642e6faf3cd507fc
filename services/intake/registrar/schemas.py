"""Request and response models of the registrar (reception desk) API.

Unlike a partner feed, the desk can fix a bad identifier on the spot, so an ID number that
fails its checksum or a phone that is neither a mobile nor a landline is refused (422) on its
field instead of being kept as an unverified flag.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.api.params import Moment
from shared.crypto import is_valid_id_number, is_valid_mobile, normalize_id_number, normalize_phone
from shared.reference import categories, regions

MAX_PETITIONERS = 500


def check_phone(v: str) -> str:
    """A mobile (normalised) or a landline with its area code (kept as typed)."""
    if is_valid_mobile(v):
        return normalize_phone(v)
    digits = "".join(ch for ch in v if ch.isdigit())
    if v.startswith("0") and 10 <= len(digits) <= 12 and set(v) <= set("0123456789- "):
        return v
    raise ValueError("invalid_phone|电话号码格式不正确|invalid phone number")


def check_id_number(v: str) -> str:
    if not is_valid_id_number(v):
        raise ValueError("invalid_id_number|身份证号码校验不通过|invalid ID number")
    return normalize_id_number(v)


def check_category(v: str | None) -> str | None:
    if v is None or v == "":
        return None
    cat = categories.get(v) or categories.match_label(v)
    if cat is None:
        raise ValueError("unknown_category|诉求类别不存在|unknown category")
    return cat.code


def check_region(v: str) -> str:
    if not regions.valid_region_code(v):
        raise ValueError("unknown_region|行政区划代码无效|unknown region code")
    return v


class PetitionerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=100)
    id_number: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=500)
    representative: bool = Field(
        default=False, strict=True, description="推选的代表 (collective visits)"
    )

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        return check_id_number(v) if v else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return check_phone(v) if v else None


class RegistrationIn(BaseModel):
    """A letter or a visit as registered at the desk."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "petitioners": [
                        {
                            "name": "张三",
                            "id_number": "11010519491231002X",
                            "phone": "13800138000",
                            "representative": True,
                        }
                    ],
                    "people_count": 1,
                    "title": "小区门口餐饮店油烟扰民",
                    "content": "某小区门口的餐饮店每天排放油烟，请求处理。",
                    "category": "环境保护",
                    "region_code": "440306",
                }
            ]
        },
    )

    petitioners: list[PetitionerIn] = Field(default_factory=list, max_length=MAX_PETITIONERS)
    people_count: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        strict=True,
        description="how many came or signed; default: petitioners",
    )
    title: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=50_000)
    category: str | None = Field(default=None, max_length=200, description="code or label")
    region_code: str = Field(min_length=6, max_length=12)
    address: str | None = Field(default=None, max_length=500)
    received_at: Moment | None = Field(default=None, description="default: now")
    anonymous: bool = Field(default=False, strict=True)
    accusation: bool = Field(default=False, strict=True, description="检举控告: confidential")

    @field_validator("category")
    @classmethod
    def _category(cls, v: str | None) -> str | None:
        return check_category(v)

    @field_validator("region_code")
    @classmethod
    def _region(cls, v: str) -> str:
        return check_region(v)

    @field_validator("received_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("timezone_aware|时间须带时区|date-time needs an offset")
        return v


class ReceiptLinks(BaseModel):
    html: str
    pdf: str


class Registered(BaseModel):
    case_id: str
    tracking_no: str
    query_code: str = Field(description="shown once: print the receipt now")
    status: str
    source: str
    channel: str
    people_count: int
    collective: bool
    batch: int | None = Field(default=None, description="批: 1 for a collective visit")
    person_times: int | None = Field(default=None, description="人次: visits only")
    registered_by: str
    receipt: ReceiptLinks


class CorrectionIn(BaseModel):
    """Fields to correct; those absent stay as they are. ``petitioners`` replaces the list."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=200)
    content: str | None = Field(default=None, min_length=1, max_length=50_000)
    category: str | None = Field(default=None, max_length=200)
    region_code: str | None = Field(default=None, min_length=6, max_length=12)
    address: str | None = Field(default=None, max_length=500)
    petitioners: list[PetitionerIn] | None = Field(default=None, max_length=MAX_PETITIONERS)
    people_count: int | None = Field(default=None, ge=1, le=100_000, strict=True)
    reason: str | None = Field(default=None, max_length=1000, description="why (kept in history)")

    @field_validator("category")
    @classmethod
    def _category(cls, v: str | None) -> str | None:
        return check_category(v)

    @field_validator("region_code")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        return check_region(v) if v is not None else None


class Corrected(BaseModel):
    case_id: str
    tracking_no: str
    revision: int
    changed: list[str]


class PersonPetition(BaseModel):
    tracking_no: str
    received_at: datetime
    title: str
    status: str
    source: str
    channel: str
    accusation: bool
    representative: bool


class PersonQuery(BaseModel):
    """Whom to look up: one identifier, in the body so that it never reaches a URL, an access
    log or a proxy."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"id_number": "440306198001011234", "limit": 20}]},
    )

    id_number: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=100, strict=True)


class PersonPetitions(BaseModel):
    person: dict[str, str] = Field(description="the identifier searched for, masked")
    items: list[PersonPetition]
    next_cursor: str | None = None
