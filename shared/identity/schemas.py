"""Request and response bodies of the auth and admin endpoints (pydantic v2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.identity.service import OrgUnit, StaffAccount

OrgUnitKind = Literal[
    "petition_office", "department", "street", "community", "discipline", "government"
]


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Schema):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)
    totp_code: str | None = Field(default=None, max_length=16)


class StaffRead(Schema):
    id: uuid.UUID
    username: str
    display_name: str
    org_unit_id: str
    roles: list[str]
    totp_enabled: bool
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, account: StaffAccount) -> StaffRead:
        return cls(
            id=account.id,
            username=account.username,
            display_name=account.display_name,
            org_unit_id=account.org_unit_id,
            roles=sorted(account.roles),
            totp_enabled=account.totp_enabled,
            active=account.active,
            created_at=account.created_at,
        )


class TokenResponse(Schema):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type
    expires_in: int
    session_id: uuid.UUID


class LoginResponse(TokenResponse):
    staff: StaffRead


class OrgUnitRead(Schema):
    id: str
    name: str
    kind: str
    parent_id: str | None
    path: str
    region_codes: list[str]
    duties: list[str]
    created_at: datetime

    @classmethod
    def of(cls, unit: OrgUnit) -> OrgUnitRead:
        return cls(
            id=unit.id,
            name=unit.name,
            kind=unit.kind,
            parent_id=unit.parent_id,
            path=unit.path,
            region_codes=list(unit.region_codes),
            duties=list(unit.duties),
            created_at=unit.created_at,
        )


class MeRead(Schema):
    kind: Literal["staff", "citizen", "partner"]
    subject: str
    roles: list[str]
    org_unit_id: str | None
    org_path: str | None
    region_codes: list[str]
    session_id: str | None
    can_unmask: bool
    staff: StaffRead | None = None
    org_unit: OrgUnitRead | None = None


class TotpEnrollResponse(Schema):
    secret: str
    provisioning_uri: str


class TotpConfirmRequest(Schema):
    code: str = Field(min_length=1, max_length=16)


class TotpStatus(Schema):
    totp_enabled: bool


class OrgUnitCreate(Schema):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=200)
    kind: OrgUnitKind
    # Root units come from the seed / CLI, never from the API.
    parent_id: str = Field(min_length=1, max_length=64)
    region_codes: list[str] = Field(default_factory=list, max_length=200)
    duties: list[str] = Field(default_factory=list, max_length=200)


class StaffCreate(Schema):
    username: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=100)
    org_unit_id: str = Field(min_length=1, max_length=64)
    roles: list[str] = Field(default_factory=list, max_length=20)
    password: str = Field(min_length=1, max_length=1024)


class StaffList(Schema):
    items: list[StaffRead]
    limit: int
    offset: int
