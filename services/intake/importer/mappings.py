"""How each source's rows become a :class:`NormalizedPetition`.

A mapping is a typed plug-in registered by name (``teddy2020``, ``fuzhou``, ``nyc311``); it
turns one row (column name → text) into ``(external id, petition)`` or raises
:class:`RowError` naming the column at fault. Secondary fields that fail a check are cleared
or kept and flagged (:class:`QualityFlag`), as partner channels do; only what makes a petition
meaningless (no id, no text, no date) rejects the row.

Imported history carries no phone numbers: a back-fill must never text citizens.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from services.intake.petition.normalized import (
    Channel,
    Location,
    NormalizedPetition,
    Person,
    QualityFlag,
    Source,
)
from shared.clock import SHANGHAI, Clock, system_clock
from shared.dates import parse_datetime
from shared.reference import categories, regions

TITLE_MAX = 200
CONTENT_MAX = 50_000
DERIVED_TITLE = 30  # characters of the text used as a title when a row has none


class RowError(Exception):
    """A row that cannot become a petition: reported per row, never fatal to the import."""

    def __init__(self, field: str, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.external_id: str | None = None  # filled in when the row's id was readable


class Mapping(Protocol):
    name: str
    system: str  # the external_ref system, e.g. "import:teddy2020"

    def to_petition(self, row: dict[str, str], *, row_no: int) -> tuple[str, NormalizedPetition]:
        """(external id, petition), or :class:`RowError`."""
        ...


@dataclass(frozen=True)
class Options:
    default_region: str = "440306"  # sources without our region codes land in this district
    clock: Clock = system_clock  # the time given to rows that carry none


# --- helpers shared by the mappings ------------------------------------------------------


def _text(row: dict[str, str], column: str) -> str:
    # PostgreSQL text cannot hold NUL; stray ones come from broken exports
    return (row.get(column) or "").replace("\x00", "").strip()


def _required(row: dict[str, str], column: str) -> str:
    value = _text(row, column)
    if not value:
        raise RowError(column, "required", f"{column}不能为空", f"{column} is empty")
    return value


def _when(row: dict[str, str], column: str, tz: tzinfo) -> datetime:
    try:
        return parse_datetime(_required(row, column), default_tz=tz)
    except ValueError:
        raise RowError(column, "invalid_datetime", "时间格式不正确", "invalid date-time") from None


def _optional_when(
    row: dict[str, str], column: str, tz: tzinfo, flags: list[QualityFlag]
) -> datetime | None:
    value = _text(row, column)
    if not value:
        return None
    try:
        return parse_datetime(value, default_tz=tz)
    except ValueError:
        flags.append(QualityFlag(field=column, code="invalid_datetime"))
        return None


def _count(row: dict[str, str], column: str, flags: list[QualityFlag]) -> int | None:
    value = _text(row, column)
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):
        flags.append(QualityFlag(field=column, code="invalid_number"))
        return None
    return int(value)


def _title(value: str, content: str, column: str, flags: list[QualityFlag]) -> str:
    if not value:
        flags.append(QualityFlag(field=column, code="title_derived"))
        value = " ".join(content.split())[:DERIVED_TITLE]
    if len(value) > TITLE_MAX:
        flags.append(QualityFlag(field=column, code="title_truncated"))
        value = value[: TITLE_MAX - 1] + "…"
    return value


def _content(value: str, column: str, flags: list[QualityFlag]) -> str:
    if len(value) > CONTENT_MAX:
        flags.append(QualityFlag(field=column, code="content_truncated"))
        value = value[: CONTENT_MAX - 1] + "…"
    return value


@lru_cache(maxsize=4096)
def _category(label: str | None) -> str | None:
    """Our category for a source's label (few distinct labels per file: looked up once)."""
    found = categories.match_label(label) if label else None
    return found.code if found else None


def _region(options: Options, flags: list[QualityFlag]) -> str:
    flags.append(QualityFlag(field="region_code", code="region_defaulted"))
    return options.default_region


def _build(**fields: Any) -> NormalizedPetition:
    try:
        return NormalizedPetition(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "row"
        raise RowError(
            field, first["type"], f"{field}不符合要求", f"{field}: {first['msg']}"
        ) from None


def _identified(external_id: str, build: Callable[[], NormalizedPetition]) -> NormalizedPetition:
    try:
        return build()
    except RowError as err:
        err.external_id = external_id
        raise


# --- teddy2020: a provincial 问政 message board -----------------------------------------


class Teddy2020:
    """Every file of the 2020 Teddy Cup set: ``messages_fullcolumns``, ``hotspot_messages``,
    ``replied_messages`` (留言编号 …) and ``messages_labeled`` (only ``text`` and ``label``).

    Messages to leaders on a government online board: ``Source.MAYOR_MAILBOX`` (the 市长信箱
    family), ``Channel.ONLINE``. The files share some 留言编号: that is one petition, seen
    again (the importer keeps the first version and records the other as a copy).
    """

    name = "teddy2020"
    system = "import:teddy2020"

    def __init__(self, options: Options) -> None:
        self.options = options

    def to_petition(self, row: dict[str, str], *, row_no: int) -> tuple[str, NormalizedPetition]:
        if "留言编号" in row:
            external_id = _required(row, "留言编号")
            return external_id, _identified(external_id, lambda: self._message(row))
        # messages_labeled.csv has no ids: the body's hash is a stable one (a relabelled row
        # is the same message)
        body = unicodedata.normalize("NFC", _text(row, "text"))
        if not body:
            raise RowError("text", "required", "text不能为空", "text is empty")
        external_id = "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]
        return external_id, _identified(external_id, lambda: self._labeled(row, body))

    def _message(self, row: dict[str, str]) -> NormalizedPetition:
        flags: list[QualityFlag] = []
        received_at = _when(row, "留言时间", SHANGHAI)
        content = _content(_required(row, "留言详情"), "留言详情", flags)
        user = _text(row, "留言用户")
        label = _text(row, "一级标签") or None
        return _build(
            source=Source.MAYOR_MAILBOX,
            channel=Channel.ONLINE,
            external_ids={"teddy2020_message_no": _text(row, "留言编号")},
            petitioners=[Person(external_ref=f"teddy2020:{user}")] if user else [],
            title=_title(_text(row, "留言主题"), content, "留言主题", flags),
            content=content,
            source_category=label,
            category_code=_category(label),
            region_code=_region(self.options, flags),
            received_at=received_at,
            public_attention=_count(row, "点赞数", flags),
            quality_flags=flags,
            raw=row,
        )

    def _labeled(self, row: dict[str, str], body: str) -> NormalizedPetition:
        flags: list[QualityFlag] = [QualityFlag(field="received_at", code="received_at_missing")]
        content = _content(body, "text", flags)
        label = _text(row, "label") or None
        return _build(
            source=Source.MAYOR_MAILBOX,
            channel=Channel.ONLINE,
            title=_title("", content, "title", flags),
            content=content,
            source_category=label,
            category_code=_category(label),
            region_code=_region(self.options, flags),
            received_at=self.options.clock.now(),  # unknown: the day it reached us
            quality_flags=flags,
            raw=row,
        )


# --- fuzhou: complaints about the inner rivers, through Fuzhou's 12345 platform ----------

_FUZHOU_CHANNELS = {
    "网站": Channel.WEB,
    "电话": Channel.PHONE,
    "app": Channel.APP,
    "e福州app": Channel.APP,
    "12345app": Channel.APP,
    "微信": Channel.WECHAT,
    "短信": Channel.SMS,
    "邮件": Channel.EMAIL,
}
# what people typed into the name column to stay anonymous
_FUZHOU_ANONYMOUS = {"", "1", "匿名", "匿名者", "无"}


class Fuzhou:
    """``river_complaints.csv``. The name column (匿名) holds ``1`` for anonymous, ``0`` for a
    named but unrecorded petitioner, or the name the person gave (personal data: kept only as
    the petitioner's encrypted name). 举报 rows are accusations, confidential from the start.
    性质 is the source's label; 河流 the place; 转处理次数 and 回复 stay in the raw record."""

    name = "fuzhou"
    system = "import:fuzhou"

    def __init__(self, options: Options) -> None:
        self.options = options

    def to_petition(self, row: dict[str, str], *, row_no: int) -> tuple[str, NormalizedPetition]:
        external_id = _required(row, "id")
        return external_id, _identified(external_id, lambda: self._petition(row))

    def _petition(self, row: dict[str, str]) -> NormalizedPetition:
        flags: list[QualityFlag] = []
        received_at = _when(row, "时间", SHANGHAI)
        content = _content(_required(row, "投诉件内容"), "投诉件内容", flags)
        kind = _text(row, "性质") or None
        source = _text(row, "信息来源")
        channel = _FUZHOU_CHANNELS.get(source) or _FUZHOU_CHANNELS.get(source.lower())
        if channel is None:  # qq, 微博 … : online, the exact one kept in the raw record
            flags.append(QualityFlag(field="信息来源", code="channel_approximated"))
            channel = Channel.ONLINE
        who = _text(row, "匿名")
        anonymous = who in _FUZHOU_ANONYMOUS
        people = [] if anonymous or who == "0" else [Person(name=who[:100])]
        river = _text(row, "河流")
        return _build(
            source=Source.HOTLINE,
            channel=channel,
            external_ids={"fuzhou_id": _text(row, "id")},
            petitioners=people,
            title=_title(_text(row, "标题"), content, "标题", flags),
            content=content,
            source_category=kind,
            category_code=_category(kind),
            region_code=_region(self.options, flags),
            address=river if river and river != "无" else None,
            received_at=received_at,
            anonymous=anonymous,
            accusation=kind == "举报",
            quality_flags=flags,
            raw=row,
        )


# --- nyc311: NYC Open Data 311 service requests ------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")
_NYC_CHANNELS = {
    "PHONE": Channel.PHONE,
    "ONLINE": Channel.WEB,
    "MOBILE": Channel.APP,
}


class Nyc311:
    """NYC 311 requests (a city hotline: ``Source.HOTLINE``). Times are New York local;
    Due Date is the source's deadline; a request closed before it was created is imported
    with a flag, not refused. Closed Date, Status and the resolution stay in the raw record."""

    name = "nyc311"
    system = "import:nyc311"

    def __init__(self, options: Options) -> None:
        self.options = options

    def to_petition(self, row: dict[str, str], *, row_no: int) -> tuple[str, NormalizedPetition]:
        external_id = _required(row, "Unique Key")
        return external_id, _identified(external_id, lambda: self._petition(row))

    def _petition(self, row: dict[str, str]) -> NormalizedPetition:
        flags: list[QualityFlag] = []
        created = _when(row, "Created Date", NEW_YORK)
        closed = _optional_when(row, "Closed Date", NEW_YORK, flags)
        if closed is not None and closed < created:
            flags.append(QualityFlag(field="Closed Date", code="closed_before_created"))
        due = _optional_when(row, "Due Date", NEW_YORK, flags)
        complaint = _required(row, "Complaint Type")
        descriptor = _text(row, "Descriptor")
        borough = _text(row, "Borough")
        borough = "" if borough.lower() == "unspecified" else borough
        lines = [
            f"{label}: {value}"
            for label, value in (
                ("Complaint Type", complaint),
                ("Descriptor", descriptor),
                ("Agency", _text(row, "Agency Name") or _text(row, "Agency")),
                ("Borough", borough),
            )
            if value
        ]
        channel = _NYC_CHANNELS.get(_text(row, "Open Data Channel Type").upper())
        if channel is None:  # UNKNOWN, OTHER: the city's own system handed it over
            flags.append(QualityFlag(field="Open Data Channel Type", code="channel_unknown"))
            channel = Channel.PLATFORM
        return _build(
            source=Source.HOTLINE,
            channel=channel,
            external_ids={"nyc311_unique_key": _text(row, "Unique Key")},
            title=_title(
                f"{complaint}: {descriptor}" if descriptor else complaint,
                "",
                "Complaint Type",
                flags,
            ),
            content=_content("\n".join(lines), "Descriptor", flags),
            source_category=complaint,
            category_code=_category(complaint),
            region_code=_region(self.options, flags),
            address=borough or None,
            location=_location(row, flags),
            received_at=created,
            source_deadline=due,
            quality_flags=flags,
            raw=row,
        )


def _location(row: dict[str, str], flags: list[QualityFlag]) -> Location | None:
    lat, lng = _text(row, "Latitude"), _text(row, "Longitude")
    if not lat and not lng:
        return None
    try:
        return Location(lat=float(lat), lng=float(lng))
    except (ValueError, ValidationError):
        flags.append(QualityFlag(field="Latitude", code="invalid_location"))
        return None


MAPPINGS: dict[str, Callable[[Options], Mapping]] = {
    Teddy2020.name: Teddy2020,
    Fuzhou.name: Fuzhou,
    Nyc311.name: Nyc311,
}


def mapping_for(name: str, options: Options | None = None) -> Mapping:
    """The mapping called ``name``; ``ValueError`` for an unknown name or default region."""
    options = options or Options()
    if name not in MAPPINGS:
        raise ValueError(f"unknown mapping {name!r}; known: {', '.join(sorted(MAPPINGS))}")
    if not regions.valid_region_code(options.default_region):
        raise ValueError(f"unknown region code {options.default_region!r}")
    return MAPPINGS[name](options)
