"""The provincial petition platform's side of the exchange (integrations §3), as it sends it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.api.openapi import null_is_empty
from shared.api.params import Moment
from shared.reference import regions


class ProvincePetitioner(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(default=None, max_length=100)
    # secondary identifiers: a malformed one (of any length) is flagged, never refused (§3)
    id_number: str | None = None
    phone: str | None = None
    address: str | None = Field(default=None, max_length=500)


class ProvinceAttachment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=255)
    url: str | None = Field(default=None, max_length=2000)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")


class ProvincialPetition(BaseModel):
    """A petition transferred (转送) or assigned (交办) to our jurisdiction."""

    model_config = ConfigDict(extra="ignore")

    province_case_no: str = Field(min_length=1, max_length=64)
    handling: Literal["transfer", "assign"]
    form: Literal["letter", "visit", "online", "phone"]
    petitioners: list[ProvincePetitioner] = Field(
        default_factory=list, max_length=1000, json_schema_extra=null_is_empty
    )
    people_count: int = Field(default=1, ge=1, le=100_000, strict=True)
    title: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=50_000)
    category: str | None = Field(default=None, max_length=200)
    region_code: str = Field(min_length=6, max_length=12)
    transferred_at: Moment
    deadline: Moment | None = None
    prior_case_nos: list[str] = Field(
        default_factory=list, max_length=100, json_schema_extra=null_is_empty
    )
    accusation: bool = Field(default=False, strict=True)
    attachments: list[ProvinceAttachment] = Field(
        default_factory=list, max_length=50, json_schema_extra=null_is_empty
    )

    @field_validator("transferred_at", "deadline")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("timezone_aware|时间须带时区|date-time needs an offset")
        return v

    @field_validator("region_code")
    @classmethod
    def _region(cls, v: str) -> str:
        if not regions.valid_region_code(v):
            raise ValueError("unknown_region|行政区划代码无效或不在本辖区|unknown region code")
        return v

    @field_validator("petitioners", "prior_case_nos", "attachments", mode="before")
    @classmethod
    def _empty(cls, v: object) -> object:
        return [] if v is None else v  # optional lists: null is none


class ExchangeAnswer(BaseModel):
    case_id: str
    tracking_no: str
    status: str
