"""Request and response bodies a router for notices uses (unknown fields refused).

Issuing takes ``{"kind": ..., "context": {...}}``: the ``kind`` selects the context's shape
(a discriminated union, so the OpenAPI document shows every kind's fields and an error
names ``context.<field>``). The 文号, tracking number and dates are never sent: the
service fills them in.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.casework.notice import kinds
from services.casework.notice.examples import EXAMPLES
from services.casework.notice.replies import ReplyTemplate
from services.casework.notice.service import Delivery, NoticeRecord


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _example(kind: str) -> ConfigDict:
    return ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"kind": kind, "context": EXAMPLES[kind]}]},
    )


class IssueAccept(_In):
    model_config = _example("accept")
    kind: Literal["accept"]
    context: kinds.AcceptFields


class IssueNotAccept(_In):
    model_config = _example("not_accept")
    kind: Literal["not_accept"]
    context: kinds.NotAcceptFields


class IssueNotReaccept(_In):
    model_config = _example("not_reaccept")
    kind: Literal["not_reaccept"]
    context: kinds.NotReacceptFields


class IssueTransfer(_In):
    model_config = _example("transfer")
    kind: Literal["transfer"]
    context: kinds.TransferFields


class IssueAssign(_In):
    model_config = _example("assign")
    kind: Literal["assign"]
    context: kinds.TransferFields


class IssueExtension(_In):
    model_config = _example("extension")
    kind: Literal["extension"]
    context: kinds.ExtensionFields


class IssueReply(_In):
    model_config = _example("reply")
    kind: Literal["reply"]
    context: kinds.ReplyFields


class IssueReview(_In):
    model_config = _example("review")
    kind: Literal["review"]
    context: kinds.ReviewFields


class IssueReexam(_In):
    model_config = _example("reexam")
    kind: Literal["reexam"]
    context: kinds.ReexamFields


class IssueMediation(_In):
    model_config = _example("mediation")
    kind: Literal["mediation"]
    context: kinds.MediationFields


NoticeIssueIn = Annotated[
    IssueAccept
    | IssueNotAccept
    | IssueNotReaccept
    | IssueTransfer
    | IssueAssign
    | IssueExtension
    | IssueReply
    | IssueReview
    | IssueReexam
    | IssueMediation,
    Field(discriminator="kind"),
]
"""``POST /cases/{case_id}/notices``: pass ``body.kind`` and ``body.context.model_dump()``
to ``service.issue``."""


class DeliveryIn(_In):
    """``POST /notices/{notice_id}/delivery`` (送达)."""

    method: Literal["in_person", "post", "electronic"] = Field(
        description="直接送达 / 邮寄送达 / 电子送达"
    )
    outcome: Literal["signed", "refused", "sent"] = Field(
        description="签收 / 拒收 / 已寄出或已发送 (in person: signed or refused; "
        "electronic: sent or signed)"
    )
    at: AwareDatetime = Field(description="when it was delivered (or sent)")


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

    @classmethod
    def of(cls, spec: kinds.KindSpec) -> NoticeKindRead:
        return cls(
            code=spec.code,
            title=spec.title,
            articles=list(spec.articles),
            template_version=f"{spec.code}/{spec.version}",
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
