"""The one normalised petition every channel maps into (domain §1): citizen web and app, the
12345 hotline, letters and visits at the desk, the provincial platform, the mayor's mailbox,
digital city management, leader-instruction items, items assigned from above, NPC suggestions
and CPPCC proposals, and bulk imports.

Channel adapters (``hotline/``, ``exchange/``, ``open311/``, ``importer/``, the citizen and
registrar routers) build a :class:`NormalizedPetition`; ``service.take_in`` stores it. A
secondary field that fails its check does not block a citizen's request: the adapter clears or
keeps it and adds a :class:`QualityFlag`, and flagged identifiers are never used to link people.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.api.params import INT_MAX
from shared.crypto import is_valid_id_number, is_valid_mobile, normalize_id_number, normalize_phone
from shared.reference.regions import RegionLevel
from shared.text import printable


class Source(StrEnum):
    CITIZEN = "citizen"  # web or app
    HOTLINE = "hotline"  # 12345 work order
    LETTER = "letter"
    VISIT = "visit"
    PROVINCE_TRANSFER = "province_transfer"  # 转送
    PROVINCE_ASSIGN = "province_assign"  # 交办
    MAYOR_MAILBOX = "mayor_mailbox"  # 市长信箱
    DIGITAL_CITY = "digital_city"  # 数字城管
    LEADER_INSTRUCTION = "leader_instruction"  # 领导批示件
    ASSIGNED_FROM_ABOVE = "assigned_from_above"  # 上级交办件
    NPC_SUGGESTION = "npc_suggestion"  # 人大建议
    CPPCC_PROPOSAL = "cppcc_proposal"  # 政协提案
    OTHER_HOTLINE = "other_hotline"  # 12369, 96128 …
    IMPORT = "import"  # back-filled history


class Channel(StrEnum):
    WEB = "web"
    APP = "app"
    WECHAT = "wechat"
    PHONE = "phone"
    SMS = "sms"
    LETTER = "letter"
    VISIT = "visit"
    ONLINE = "online"
    EMAIL = "email"
    PLATFORM = "platform"  # system to system


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    EMERGENCY = "emergency"


def _printable_text(value: Any) -> Any:
    """Control characters dropped from free text, whichever channel it came in by (the raw
    record keeps them): they break every XML output downstream (``shared.text``)."""
    return printable(value) if isinstance(value, str) else value


class QualityFlag(BaseModel):
    """A secondary field that failed a check: kept for the record, not used for identity."""

    model_config = ConfigDict(frozen=True)
    field: str
    code: str


class Person(BaseModel):
    """A petitioner or representative. Identifiers are normalised; an identifier that fails its
    check is dropped from ``phone`` / ``id_number`` and kept in ``unverified`` with a flag."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = None
    id_number: str | None = None
    address: str | None = Field(default=None, max_length=500)
    representative: bool = False
    external_ref: str | None = Field(default=None, max_length=200)  # e.g. a pseudonymous user id
    unverified: dict[str, str] = Field(default_factory=dict)

    _printable = field_validator("name", "address", mode="before")(_printable_text)

    def identifiers(self) -> list[tuple[str, str]]:
        """The verified identifiers, strongest first: used to link the same person."""
        out = []
        if self.id_number:
            out.append(("id_number", self.id_number))
        if self.phone:
            out.append(("phone", self.phone))
        if self.external_ref:
            out.append(("external_ref", self.external_ref))
        return out


# of a malformed identifier, the first characters are kept beside the flag (the encrypted raw
# record keeps the whole value)
UNVERIFIED_KEPT = 64


def clean_person(
    *,
    name: str | None,
    phone: str | None,
    id_number: str | None,
    address: str | None,
    path: str,
    flags: list[QualityFlag],
    representative: bool = False,
    external_ref: str | None = None,
) -> Person:
    """Validate identifiers the way partner data needs: bad ones are flagged, not fatal."""
    unverified: dict[str, str] = {}
    good_phone = None
    if phone:
        if is_valid_mobile(phone) or _is_landline(phone):
            good_phone = normalize_phone(phone) if is_valid_mobile(phone) else phone.strip()
        else:
            unverified["phone"] = phone[:UNVERIFIED_KEPT]
            flags.append(QualityFlag(field=f"{path}.phone", code="invalid_phone"))
    good_id = None
    if id_number:
        if is_valid_id_number(id_number):
            good_id = normalize_id_number(id_number)
        else:
            unverified["id_number"] = id_number[:UNVERIFIED_KEPT]
            flags.append(QualityFlag(field=f"{path}.id_number", code="invalid_id_number"))
    return Person(
        name=(name or "").strip() or None,
        phone=good_phone,
        id_number=good_id,
        address=(address or "").strip() or None,
        representative=representative,
        external_ref=external_ref,
        unverified=unverified,
    )


def _is_landline(value: str) -> bool:
    digits = "".join(ch for ch in value if ch.isdigit())
    return value.strip().startswith("0") and 10 <= len(digits) <= 12


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    url: str | None = Field(default=None, max_length=2000)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    size: int | None = Field(default=None, ge=0)
    media_type: str | None = Field(default=None, max_length=100)

    _printable = field_validator("name", mode="before")(_printable_text)


class NormalizedPetition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Source
    channel: Channel
    external_ids: dict[str, str] = Field(default_factory=dict)  # e.g. {"hotline_order_no": …}
    petitioners: list[Person] = Field(default_factory=list)
    people_count: int = Field(default=1, ge=1, le=100_000)
    title: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=50_000)
    source_category: str | None = Field(default=None, max_length=200)  # the source's own label
    category_code: str | None = None  # ours, when the label maps to the reference tree
    region_code: str
    address: str | None = Field(default=None, max_length=500)
    location: Location | None = None
    urgency: Urgency = Urgency.NORMAL
    received_at: datetime
    attachments: list[Attachment] = Field(default_factory=list)
    anonymous: bool = False
    accusation: bool = False  # 检举控告: confidential from the first moment
    quality_flags: list[QualityFlag] = Field(default_factory=list)
    source_deadline: datetime | None = None
    # likes, where the source has them
    public_attention: int | None = Field(default=None, ge=0, le=INT_MAX)
    registered_by: str | None = None  # the staff member at the desk (首问负责)
    # the administrative level of the desk that registered it (its unit's highest region):
    # set by the registrar path only (never taken from a citizen's or a partner's request);
    # what tells a 去市 visit from one at a district's desk (analytics VISIT_LEVELS)
    received_level: RegionLevel | None = None
    prior_external_ids: list[str] = Field(default_factory=list)  # the source's earlier ids
    raw: dict[str, Any] | None = None  # the partner's record as received; stored encrypted

    _printable = field_validator("title", "content", "source_category", "address", mode="before")(
        _printable_text
    )

    @field_validator("received_at", "source_deadline")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("timezone_aware|时间须带时区|date-time needs an offset")
        return v

    @property
    def collective(self) -> bool:
        """集体访: five or more people came or signed."""
        return self.people_count >= 5

    def representatives(self) -> list[Person]:
        return [p for p in self.petitioners if p.representative]

    def contact_phone(self) -> str | None:
        for p in self.petitioners:
            if p.phone and is_valid_mobile(p.phone):
                return p.phone
        return None
