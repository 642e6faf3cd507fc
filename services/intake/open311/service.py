"""Open311 over Minsheng's data: the service list from our category tree, requests mapped to a
:class:`NormalizedPetition`, and the privacy rules of the reads (integrations §4).

Privacy, as implemented:

* accusations (检举控告, ``accusation = true``) never appear in any read, nor does any petition
  classified under the ``accusation`` handling path (纪检监察); those categories are not offered
  as services and are refused on POST;
* a request is shown in *full* only to a caller whose valid ``api_key`` filed it
  (``registered_by = "open311:" + keyed hash of the key``);
* everyone else — no key, an invalid key, another key — gets the *public form*: the fields of
  :data:`PUBLIC_FIELDS` only (service, status, dates, agency, the district's full name as the
  address). Never the description, status notes, media, coordinates, street address or
  anything about the person.

Region of a new request: ``attribute[region_code]``; else a district named in
``address_string``; else the district whose centroid is nearest to ``lat``/``long`` when the
point lies in the city's bounding box (:data:`DISTRICT_CENTROIDS`, an approximation: district
boundaries are not round); else the configured default (``open311_default_region``). The last
two are quality-flagged.

Fields of a request from the public tracking view (``intake.public_milestone``, projected from
casework's milestones), read in the same statement as the requests:

* ``expected_datetime`` is the current deadline: the one the tracking view shows (the
  ``due_at`` of the case's latest public milestone by its event sequence), null while no
  clock the petitioner is told about runs (not yet registered, replied, closed …) — never a
  partner's own deadline;
* ``agency_responsible`` is the unit the case was last assigned or transferred to (交办/转送,
  改派), else — before any assignment — the category's department in the district.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import false, or_, select, true
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.models import petition, public_milestone
from services.intake.open311.render import bad_request, not_found, w3c
from services.intake.open311.schemas import MAX_RESULTS, RequestForm, RequestQuery
from services.intake.petition.normalized import (
    Channel,
    Location,
    NormalizedPetition,
    Person,
    QualityFlag,
    Source,
    clean_person,
)
from services.intake.petition.service import take_in
from shared.clock import Clock
from shared.reference import categories, regions
from shared.reference import version as reference_version
from shared.reference.categories import Category
from shared.security import Keys
from shared.settings import Settings

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
PREFIX = "/open311/v2"
KEY_KIND = "open311_key"
REGISTERED_BY_PREFIX = "open311:"
TITLE_CHARS = 30  # characters of the description in the petition's title
CLOSED_STATUSES = frozenset({"closed", "withdrawn", "not_accepted", "diverted"})
SERVICE_NOTICE = (
    "您的诉求已收到，信访工作机构将在15日内告知是否受理。"
    " / Received; you will be told within 15 days whether it is accepted."
)

# Approximate centroids (WGS84) of the districts, for the nearest-centroid guess from lat/long.
DISTRICT_CENTROIDS: dict[str, tuple[float, float]] = {
    "440303": (22.57, 114.14),  # 罗湖区
    "440304": (22.54, 114.05),  # 福田区
    "440305": (22.55, 113.93),  # 南山区
    "440306": (22.67, 113.86),  # 宝安区
    "440307": (22.68, 114.20),  # 龙岗区
    "440308": (22.59, 114.26),  # 盐田区
    "440309": (22.68, 114.03),  # 龙华区
    "440310": (22.70, 114.35),  # 坪山区
    "440311": (22.76, 113.92),  # 光明区
}
# The city's bounding box: a point outside it is not placed in any district.
CITY_BOUNDS = ((22.40, 113.70), (22.90, 114.65))

PUBLIC_FIELDS = (
    "service_request_id",
    "status",
    "service_name",
    "service_code",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
)


# --- services ------------------------------------------------------------------------------


def offered(category: Category | None) -> bool:
    """Categories offered as Open311 services: every node with a service code, except the
    confidential accusation path."""
    return (
        category is not None
        and category.open311_service_code is not None
        and category.handling_path != "accusation"
    )


def service_list() -> list[dict[str, Any]]:
    out = []
    for node in categories.all_categories():
        if not offered(node):
            continue
        top = categories.get(node.top_code)
        out.append(
            {
                "service_code": node.open311_service_code,
                "service_name": node.name,
                "description": f"{node.full_name}（主管部门：{node.duty.name}）",
                "metadata": True,  # every service has the optional region_code attribute
                "type": "realtime",
                "keywords": ", ".join(dict.fromkeys((*node.path, node.duty.name))),
                "group": top.name if top else node.name,
            }
        )
    return out


def service_definition(service_code: str) -> dict[str, Any] | None:
    node = categories.by_service_code(service_code)
    if not offered(node):
        return None
    return {
        "service_code": service_code,
        "attributes": [
            {
                "variable": True,
                "code": "region_code",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "行政区代码 / district code (GB/T 2260)",
                "order": 1,
                "description": "问题所在的区（不填则按位置判断） / District of the issue "
                "(from the location when omitted)",
                "values": [{"key": d.code, "name": d.name} for d in regions.districts()],
            }
        ],
    }


def discovery(settings: Settings) -> dict[str, Any]:
    changeset = reference_version()
    return {
        "changeset": changeset,
        "contact": "深圳市信访局 Minsheng 平台 / Minsheng petition platform of the city "
        "petition bureau",
        "key_service": "API key 由信访局平台管理员发放 / API keys are issued by the platform's "
        "administrators at the petition bureau",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": settings.public_url().rstrip("/") + PREFIX,
                "changeset": changeset,
                "type": "production" if settings.env == "prod" else "test",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }


# --- keys ----------------------------------------------------------------------------------


def valid_key(api_key: str | None, settings: Settings) -> str | None:
    """The key when it is one of ``open311_api_keys``, else None (compared in constant time)."""
    if not api_key:
        return None
    found = None
    for key in (k.strip() for k in settings.open311_api_keys.split(",")):
        if key and hmac.compare_digest(key.encode(), api_key.encode()):
            found = key
    return found


def filer_of(api_key: str, keys: Keys) -> str:
    return REGISTERED_BY_PREFIX + keys.hash.digest(KEY_KIND, api_key)


# --- POST ----------------------------------------------------------------------------------


def region_for(form: RequestForm, default_region: str) -> tuple[str, QualityFlag | None]:
    if form.region_code is not None:
        if (
            not regions.valid_region_code(form.region_code)
            or regions.district_of(form.region_code) is None
        ):
            raise bad_request(
                "attribute[region_code] 不是本市的区、街道或社区代码",
                "attribute[region_code] is not a district, street or community of the city",
            )
        return form.region_code, None
    if form.address_string:
        for district in regions.districts():
            if district.name in form.address_string:
                return district.code, None
    if form.lat is not None and form.long is not None:
        nearest = nearest_district(form.lat, form.long)
        if nearest is not None:
            return nearest, QualityFlag(field="region_code", code="estimated_from_location")
    return default_region, QualityFlag(field="region_code", code="default_region")


def nearest_district(lat: float, lng: float) -> str | None:
    (lat0, lng0), (lat1, lng1) = CITY_BOUNDS
    if not (lat0 <= lat <= lat1 and lng0 <= lng <= lng1):
        return None
    scale = math.cos(math.radians(lat))
    return min(
        DISTRICT_CENTROIDS,
        key=lambda c: (
            (DISTRICT_CENTROIDS[c][0] - lat) ** 2 + ((DISTRICT_CENTROIDS[c][1] - lng) * scale) ** 2
        ),
    )


def _person_name(first: str | None, last: str | None) -> str | None:
    if not first and not last:
        return None
    cjk = any("\u4e00" <= ch <= "\u9fff" for ch in f"{first or ''}{last or ''}")
    return f"{last or ''}{first or ''}" if cjk else f"{first or ''} {last or ''}".strip()


def to_normalized(
    form: RequestForm,
    *,
    raw: dict[str, Any],
    filer: str,
    received_at: datetime,
    default_region: str,
) -> NormalizedPetition:
    node = categories.by_service_code(form.service_code)
    if not offered(node):
        # GeoReport v2: "404 - service_code … not found"
        raise not_found(
            f"未知的服务代码 service_code：{form.service_code}",
            f"unknown service_code: {form.service_code}",
        )
    assert node is not None
    region, region_flag = region_for(form, default_region)
    flags: list[QualityFlag] = [region_flag] if region_flag else []
    people: list[Person] = []
    name = _person_name(form.first_name, form.last_name)
    if name or form.phone or form.email:
        person = clean_person(
            name=name, phone=form.phone, id_number=None, address=None, path="requester", flags=flags
        )
        if form.email:  # a contact, never an identity: kept with the person, not linked on
            person = person.model_copy(
                update={"unverified": {**person.unverified, "email": form.email}}
            )
            if not form.email_valid:
                flags.append(QualityFlag(field="requester.email", code="invalid_email"))
        people.append(person)
    snippet = " ".join(form.description.split())[:TITLE_CHARS]
    return NormalizedPetition(
        source=Source.CITIZEN,
        channel=Channel.APP if form.device_id else Channel.WEB,
        petitioners=people,
        title=f"{node.name}：{snippet}"[:200],
        content=form.description,
        source_category=f"open311:{form.service_code}",
        category_code=node.code,
        region_code=region,
        address=form.address_string,
        location=Location(lat=form.lat, lng=form.long)
        if form.lat is not None and form.long is not None
        else None,
        received_at=received_at,
        quality_flags=flags,
        registered_by=filer,
        raw=raw,
    )


async def create(
    db: AsyncConnection,
    *,
    form: RequestForm,
    raw: dict[str, Any],
    api_key: str,
    keys: Keys,
    clock: Clock,
    settings: Settings,
) -> list[dict[str, Any]]:
    normalized = to_normalized(
        form,
        raw=raw,
        filer=filer_of(api_key, keys),
        received_at=clock.now(),
        default_region=settings.open311_default_region,
    )
    created = await take_in(db, petition=normalized, keys=keys, clock=clock)
    return [
        {
            "service_request_id": created.tracking_no,
            "service_notice": SERVICE_NOTICE,
            "account_id": None,
        }
    ]


# --- GET -----------------------------------------------------------------------------------

_latest = (
    select(
        public_milestone.c.message.label("notes"),
        public_milestone.c.occurred_at.label("noted_at"),
    )
    .where(public_milestone.c.case_id == petition.c.case_id)
    .order_by(public_milestone.c.occurred_at.desc(), public_milestone.c.seq.desc())
    .limit(1)
    .lateral("latest")
)

# The current deadline, exactly as the tracking view computes it (petition.service.track: the
# last of repository.milestones, in the case's event sequence): the latest public milestone's
# ``due_at``, null when no clock runs. One primary-key probe per request, in the same
# statement as the requests.
_current = (
    select(public_milestone.c.due_at.label("expected_at"))
    .where(public_milestone.c.case_id == petition.c.case_id)
    .order_by(public_milestone.c.seq.desc())
    .limit(1)
    .lateral("current")
)

# The unit handling the case: that of its latest assignment or transfer milestone.
_handling = (
    select(public_milestone.c.lead_unit_name.label("unit_name"))
    .where(
        public_milestone.c.case_id == petition.c.case_id,
        public_milestone.c.lead_unit_name.is_not(None),
    )
    .order_by(public_milestone.c.seq.desc())
    .limit(1)
    .lateral("handling")
)

_COLUMNS = (
    petition.c.case_id,
    petition.c.tracking_no,
    petition.c.status,
    petition.c.category_code,
    petition.c.region_code,
    petition.c.content,
    petition.c.received_at,
    petition.c.updated_at,
    petition.c.address_enc,
    petition.c.lat,
    petition.c.lng,
    petition.c.registered_by,
    petition.c.raw_enc,
    _latest.c.notes,
    _latest.c.noted_at,
    _current.c.expected_at,
    _handling.c.unit_name,
)


# Categories of the accusation path: confidential even on a petition not flagged as one.
_CONFIDENTIAL = sorted(
    c.code for c in categories.all_categories() if c.handling_path == "accusation"
)


def _base() -> Any:
    return (
        select(*_COLUMNS)
        .select_from(
            petition.outerjoin(_latest, true())
            .outerjoin(_current, true())
            .outerjoin(_handling, true())
        )
        .where(
            petition.c.accusation.is_(False),
            or_(petition.c.category_code.is_(None), petition.c.category_code.not_in(_CONFIDENTIAL)),
        )
    )


async def find_one(db: AsyncConnection, tracking_no: str) -> Row[Any] | None:
    return (await db.execute(_base().where(petition.c.tracking_no == tracking_no))).first()


async def find_many(db: AsyncConnection, query: RequestQuery) -> list[Row[Any]]:
    stmt = _base()
    if query.ids:
        stmt = stmt.where(petition.c.tracking_no.in_(query.ids))
    else:
        stmt = stmt.where(
            petition.c.received_at >= query.start, petition.c.received_at <= query.end
        )
        if query.service_codes:
            codes = [
                n.code
                for n in (categories.by_service_code(c) for c in query.service_codes)
                if offered(n) and n is not None
            ]
            stmt = stmt.where(petition.c.category_code.in_(codes) if codes else false())
        if query.statuses and set(query.statuses) != {"open", "closed"}:
            closed = petition.c.status.in_(sorted(CLOSED_STATUSES))
            stmt = stmt.where(closed if query.statuses == ("closed",) else ~closed)
    stmt = stmt.order_by(petition.c.received_at.desc(), petition.c.tracking_no).limit(MAX_RESULTS)
    return list((await db.execute(stmt)).all())


def open311_status(status: str) -> str:
    return "closed" if status in CLOSED_STATUSES else "open"


def _district_address(region_code: str) -> str | None:
    district = regions.district_of(region_code)
    return regions.full_name(district.code) if district else None


def _agency(node: Category | None, region_code: str, unit_name: str | None) -> str | None:
    """The unit the case was assigned to, else the category's department in the district."""
    if unit_name:
        return unit_name
    if node is None:
        return None
    district = regions.district_of(region_code)
    return f"{district.name if district else ''}{node.duty.name}"


def present(row: Row[Any], *, filer: str | None, keys: Keys) -> dict[str, Any]:
    """One request: in full for the key that filed it, else the public form."""
    node = categories.get(row.category_code) if row.category_code else None
    code = node.open311_service_code if node is not None and offered(node) else None
    stamps = [t for t in (row.received_at, row.updated_at, row.noted_at) if t is not None]
    full: dict[str, Any] = {
        "service_request_id": row.tracking_no,
        "status": open311_status(row.status),
        "status_notes": row.notes,
        "service_name": node.name if code and node else None,
        "service_code": code,
        "description": row.content,
        "agency_responsible": _agency(node, row.region_code, row.unit_name),
        "service_notice": SERVICE_NOTICE,
        "requested_datetime": w3c(row.received_at),
        "updated_datetime": w3c(max(stamps)),
        "expected_datetime": w3c(row.expected_at),
        "address": _district_address(row.region_code),
        "address_id": None,
        "zipcode": None,
        "lat": row.lat,
        "long": row.lng,
        "media_url": None,
    }
    owner = (
        filer is not None
        and row.registered_by is not None
        and hmac.compare_digest(row.registered_by, filer)
    )
    if not owner:
        return {k: full[k] for k in PUBLIC_FIELDS}
    street = keys.ring.decrypt_text(row.address_enc) if row.address_enc else None
    if street:
        full["address"] = f"{street}，{full['address']}" if full["address"] else street
    if row.raw_enc:
        raw = orjson.loads(keys.ring.decrypt_text(row.raw_enc) or "null") or {}
        full["media_url"] = raw.get("media_url") or None
    return full


def present_all(rows: Iterable[Row[Any]], *, filer: str | None, keys: Keys) -> list[dict[str, Any]]:
    return [present(r, filer=filer, keys=keys) for r in rows]


def reader(api_key: str | None, settings: Settings, keys: Keys) -> str | None:
    """The ``registered_by`` mark of a valid key, None for no key or an invalid one."""
    key = valid_key(api_key, settings)
    return filer_of(key, keys) if key else None
