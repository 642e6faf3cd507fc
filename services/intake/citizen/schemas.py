"""Citizen sign-in by one-time SMS code."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.crypto import is_valid_mobile, normalize_phone


def _phone(v: str) -> str:
    if not is_valid_mobile(v):
        raise ValueError("invalid_phone|手机号码格式不正确|invalid mobile number")
    return normalize_phone(v)


class CodeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"phone": "13800138000"}]}
    )
    phone: str = Field(min_length=5, max_length=20)

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, v: str) -> str:
        return _phone(v)


class CodeIssued(BaseModel):
    request_id: str
    expires_in: int = Field(description="seconds the code stays valid")


class CodeVerify(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=5, max_length=20)
    code: str = Field(pattern=r"^\d{6}$")

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, v: str) -> str:
        return _phone(v)


class CitizenToken(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
