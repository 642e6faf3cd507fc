"""Request and response bodies a router for notices uses (unknown fields refused).

Issuing takes ``{"kind": ..., "context": {...}}``; the context's shape depends on the kind
and is checked by ``service.issue`` (errors name ``context.<field>``); the kinds' listing
carries each context's JSON schema. The 文号, tracking number and dates are never sent: the
service fills them in.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.casework.notice import kinds
from services.casework.notice.examples import EXAMPLES
from services.casework.notice.replies import ReplyTemplate
from services.casework.notice.service import Delivery, NoticeRecord
from shared.api.params import AwareMoment


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NoticeIssueIn(_In):
    """``POST /cases/{case_id}/notices``: pass ``kind`` and ``context`` to ``service.issue``,
    which validates the context against the kind's fields (``kinds.<Kind>Fields``; their
    JSON schemas are in ``NoticeKindRead.context_schema``), so an error names the field as
    ``context.<path>`` whatever the kind."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"kind": k, "context": EXAMPLES[k]} for k in ("accept", "reply")]
        },
    )
    kind: kinds.NoticeKind
    context: dict[str, Any] = Field(description="the kind's fields (see GET notice kinds)")


class DeliveryIn(_In):
    """``POST /notices/{notice_id}/delivery`` (送达)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"method": "in_person", "outcome": "signed", "at": "2026-11-24T10:00:00+08:00"}
            ]
        }
    )

    method: Literal["in_person", "post", "electronic"] = Field(
        description="直接送达 / 邮寄送达 / 电子送达"
    )
    outcome: Literal["signed", "refused", "sent"] = Field(
        description="签收 / 拒收 / 已寄出或已发送 (in person: signed or refused; "
        "electronic: sent or signed)"
    )
    at: AwareMoment = Field(description="when it was delivered (or sent)")


class DeliveryRead(BaseModel):
    method: str
    outcome: str
    at: datetime
    recorded_by: str

    @classmethod
    def of(cls, d: Delivery) -> DeliveryRead:
        return cls(method=d.method, outcome=d.outcome, at=d.at, recorded_by=d.recorded_by)


class NoticeRead(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    title: str
    number: str = Field(description="文号")
    template_version: str = Field(description='e.g. "accept/v1"')
    issued_at: datetime
    issued_by: str
    docx_sha256: str
    pdf_sha256: str
    delivery: DeliveryRead | None = Field(description="null until the delivery is recorded")

    @classmethod
    def of(cls, n: NoticeRecord) -> NoticeRead:
        return cls(
            id=n.id,
            case_id=n.case_id,
            kind=n.kind,
            title=n.title,
            number=n.number,
            template_version=n.template_version,
            issued_at=n.issued_at,
            issued_by=n.issued_by,
            docx_sha256=n.docx_sha256,
            pdf_sha256=n.pdf_sha256,
            delivery=None if n.delivery is None else DeliveryRead.of(n.delivery),
        )


class NoticeList(BaseModel):
    items: list[NoticeRead]


class NoticeKindRead(BaseModel):
    """What a client shows when a handler picks a notice to issue."""

    code: str
    title: str
    articles: list[int] = Field(description="articles of the 信访工作条例 (2022) it rests on")
    template_version: str
    context_schema: dict[str, Any] = Field(description="JSON schema of the kind's context")

    @classmethod
    def of(cls, spec: kinds.KindSpec) -> NoticeKindRead:
        return cls(
            code=spec.code,
            title=spec.title,
            articles=list(spec.articles),
            template_version=f"{spec.code}/{spec.version}",
            context_schema=spec.fields.model_json_schema(),
        )


class PlaceholderRead(BaseModel):
    name: str
    label: str


class ReplyTemplateRead(BaseModel):
    code: str
    category_code: str | None = Field(description="the top-level category; null: generic")
    title: str
    text: str = Field(description="Chinese paragraph with {placeholders}")
    placeholders: list[PlaceholderRead]

    @classmethod
    def of(cls, t: ReplyTemplate) -> ReplyTemplateRead:
        return cls(
            code=t.code,
            category_code=t.category_code,
            title=t.title,
            text=t.text,
            placeholders=[PlaceholderRead(name=n, label=label) for n, label in t.placeholders],
        )
