"""The notices (告知书, 意见书, 协议书) the statutory flow produces (domain §2), each with its
title, its legal basis in the 信访工作条例 (2022) and the context fields its template needs.

The 转送/交办 notice of the domain's list is two kinds here, ``transfer`` and ``assign``:
they differ in title, wording (an assigned matter's result is reported back to the office,
Art. 22) and number series, and a stored notice must name its title from its kind alone.

A context has two parts. The caller's fields (``<Kind>Fields``: extra fields refused, so a
typo or a missing field is a clear error naming the field) carry already-decided display
values: the petitioner's name as it is to be printed, never anything to be looked up.
The system fields (:class:`SystemFields`: 文号, tracking number, dates) are filled in by
``service.issue``; :func:`validate_context` checks both together for the renderer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from shared.api.errors import ApiError, ErrorItem, validation_items

NoticeKind = Literal[
    "accept",
    "not_accept",
    "not_reaccept",
    "transfer",
    "assign",
    "extension",
    "reply",
    "review",
    "reexam",
    "mediation",
]

REGULATION = "《信访工作条例》"


# ---- field types -------------------------------------------------------------------------


def _one_line(value: str) -> str:
    if any(ord(c) < 32 or c == "\x7f" for c in value):
        raise ValueError("invalid_text|不能包含换行或控制字符|no line breaks or control characters")
    return value


def _paragraph(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if any((ord(c) < 32 and c != "\n") or c == "\x7f" for c in value):
        raise ValueError("invalid_text|不能包含控制字符|no control characters")
    return value


Line = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_one_line),
]
Phrase = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_paragraph),
]
Para = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    AfterValidator(_paragraph),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class NoticeFields(_Model):
    """What every notice prints besides its own content."""

    issuer: Line = Field(description="发文机关 (the body that issues and seals the notice)")
    petitioner: Line = Field(description="信访人, as it is to be printed (already decided)")
    matter: Phrase = Field(description="信访事项: a short statement of the matter")

    def extras(self) -> dict[str, Any]:
        """Wording derived from the fields (labels, ordinals) for the template."""
        return {}


class SystemFields(_Model):
    """Filled in by ``service.issue``, never by the caller."""

    number: Line = Field(description="文号")
    tracking_no: Line = Field(description="信访编号")
    received_on: date = Field(description="the day the petition was received")
    issued_on: date = Field(description="成文日期 (Asia/Shanghai)")


SYSTEM_FIELDS: frozenset[str] = frozenset(SystemFields.model_fields)

CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals, as articles and list items are numbered: 22 -> 二十二."""
    if not 0 < n < 100:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")
    return head + (CN_DIGITS[ones] if ones else "")


def cn_date(d: date) -> str:
    """成文日期 in Arabic numerals (GB/T 9704-2012): 2026年3月1日."""
    return f"{d.year}年{d.month}月{d.day}日"


# ---- the kinds' own fields -----------------------------------------------------------------

HANDLING_PATH_TEXT = {
    "suggestion": "对您提出的建议意见，本机关将认真研究论证，"
    "对科学合理、具有现实可行性的予以采纳或者部分采纳，并予以回复。",
    "claim": "本机关将听取您陈述的事实和理由，进行调查核实，依法作出处理并出具信访处理意见书。",
    "accusation": "对您反映的检举控告事项，本机关将依规依纪依法处理，"
    "并对您的个人信息和反映的内容严格保密。",
}


class AcceptFields(NoticeFields):
    """受理告知书 (Art. 23; the 60-day clock of Art. 34)."""

    handling_unit: Line = Field(description="承办单位")
    accepted_on: date = Field(description="受理日期")
    due_on: date = Field(description="办结期限 (60 days from acceptance unless policy is stricter)")
    handling_path: Literal["suggestion", "accusation", "claim"] = Field(
        description="建议意见类 / 检举控告类 / 申诉求决类 (Art. 29–33)"
    )
    contact: Line | None = Field(None, description="联系方式 of the handling unit (optional)")

    @model_validator(mode="after")
    def _dates(self) -> AcceptFields:
        if self.due_on <= self.accepted_on:
            raise ValueError(
                "due_before_accept|办结期限须晚于受理日期|due_on must follow accepted_on"
            )
        return self

    def extras(self) -> dict[str, Any]:
        return {"path_text": HANDLING_PATH_TEXT[self.handling_path]}


NOT_ACCEPT_REASONS = {
    "pending_elsewhere": "该信访事项已由有权处理的机关、单位受理并正在办理中",
    "outside_competence": "该信访事项不属于本机关、单位的职权范围",
}


class NotAcceptFields(NoticeFields):
    """不予受理告知书: already pending with the competent body (Art. 19), or outside our
    competence (Art. 23); always says where to go instead."""

    reason_code: Literal["pending_elsewhere", "outside_competence"]
    reason: Para = Field(description="the facts behind the decision")
    go_to: Para = Field(description="where and how the petitioner can raise the matter instead")

    def extras(self) -> dict[str, Any]:
        return {"reason_lead": NOT_ACCEPT_REASONS[self.reason_code]}


class NotReacceptFields(NoticeFields):
    """不再受理告知书: the same facts and reasons after 复核 (Art. 36)."""

    reexam_body: Line = Field(description="the body that re-examined (复核机关)")
    reexam_number: Line = Field(description="文号 of the 复核意见书")
    reexam_on: date = Field(description="date of the 复核意见")


class TransferFields(NoticeFields):
    """转送 / 交办告知书 (Art. 22; the receiving body's 15 days of Art. 23)."""

    to_unit: Line = Field(description="the body the matter was sent to")
    sent_on: date = Field(description="转送 / 交办 date")


class ExtensionFields(NoticeFields):
    """延期告知书: at most 30 more days, approved by the body's head, reason told (Art. 34)."""

    extra_days: int = Field(ge=1, le=30, description="延长天数 (≤ 30)")
    original_due_on: date
    new_due_on: date
    reason: Para = Field(description="延期理由")

    @model_validator(mode="after")
    def _dates(self) -> ExtensionFields:
        if self.new_due_on <= self.original_due_on:
            raise ValueError(
                "due_not_extended|新的办结期限须晚于原期限|new_due_on must follow original_due_on"
            )
        return self


CLAIM_DECISIONS = {"support": "支持", "explain": "解释说明", "reject": "不予支持"}


class ClaimDecision(_Model):
    """One 投诉请求 and what was decided on it (Art. 32)."""

    claim: Phrase = Field(description="投诉请求")
    facts: Para = Field(description="查明的事实")
    basis: Para = Field(description="法律法规政策依据")
    decision: Literal["support", "explain", "reject"] = Field(
        description="支持 / 解释说明 / 不予支持"
    )
    opinion: Para = Field(description="处理意见 (what will be done, or the explanation)")


class ReplyFields(NoticeFields):
    """信访处理意见书 (Art. 31–32) with the 复查 remedy (Art. 35)."""

    claims: list[ClaimDecision] = Field(min_length=1, max_length=20)
    review_body: Line = Field(description="the body above that reviews (复查) on request")

    def extras(self) -> dict[str, Any]:
        return {
            "claims": [
                {
                    **_dates_as_text(c.model_dump()),
                    "ordinal": cn_number(i),
                    "decision_label": CLAIM_DECISIONS[c.decision],
                }
                for i, c in enumerate(self.claims, 1)
            ]
        }


REVIEW_DECISIONS = {
    "uphold": "维持原处理意见",
    "revise": "变更原处理意见",
    "revoke": "撤销原处理意见",
}


class ReviewFields(NoticeFields):
    """复查意见书 (Art. 35) with the 复核 remedy (Art. 36)."""

    requested_on: date = Field(description="复查请求收到日期")
    original_body: Line = Field(description="the body whose 处理意见 is reviewed")
    original_number: Line = Field(description="文号 of the 信访处理意见书")
    findings: Para = Field(description="复查查明的事实")
    decision: Literal["uphold", "revise", "revoke"]
    opinion: Para = Field(description="复查意见")
    reexam_body: Line = Field(description="the body above that re-examines (复核) on request")

    def extras(self) -> dict[str, Any]:
        return {"decision_label": REVIEW_DECISIONS[self.decision]}


class ReexamFields(NoticeFields):
    """复核意见书 (Art. 36): final; a hearing's time is not counted in the 30 days."""

    requested_on: date = Field(description="复核请求收到日期")
    review_body: Line = Field(description="the body whose 复查意见 is re-examined")
    review_number: Line = Field(description="文号 of the 复查意见书")
    findings: Para = Field(description="复核查明的事实")
    decision: Literal["uphold", "revise", "revoke"]
    opinion: Para = Field(description="复核意见")
    hearing_on: date | None = Field(None, description="听证日期, when a hearing was held")

    def extras(self) -> dict[str, Any]:
        return {"decision_label": REVIEW_DECISIONS[self.decision].replace("处理意见", "复查意见")}


class Party(_Model):
    role: Line = Field(description="e.g. 甲方（信访人）")
    name: Line = Field(description="as it is to be printed")


class Fulfilment(_Model):
    obligor: Line = Field(description="who performs")
    action: Para = Field(description="what is performed")
    due_on: date = Field(description="履行期限")


class MediationFields(NoticeFields):
    """调解协议书 (Art. 33): the parties, the agreed terms and the fulfilment schedule."""

    parties: list[Party] = Field(min_length=2, max_length=10)
    mediator: Line = Field(description="the body that presided over the mediation")
    dispute: Para = Field(description="争议事项")
    terms: list[Para] = Field(min_length=1, max_length=30)
    schedule: list[Fulfilment] = Field(min_length=1, max_length=30)
    copies: int | None = Field(None, ge=2, le=20, description="一式几份 (default: parties + 1)")

    def extras(self) -> dict[str, Any]:
        return {
            "terms": [{"ordinal": cn_number(i), "text": t} for i, t in enumerate(self.terms, 1)],
            "copies": self.copies or len(self.parties) + 1,
        }


# ---- the catalogue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KindSpec:
    """One kind of notice: what it is called, why it exists, what it needs, how it is numbered."""

    code: str
    title: str
    articles: tuple[int, ...]
    fields: type[NoticeFields]
    number_prefix: str  # 文号 = prefix〔year〕第000123号, a series per kind and year
    version: str = "v1"  # the template in force for new notices

    def articles_for(self, fields: NoticeFields) -> tuple[int, ...]:
        if isinstance(fields, NotAcceptFields):
            return (19,) if fields.reason_code == "pending_elsewhere" else (23,)
        return self.articles

    def legal_basis(self, fields: NoticeFields) -> str:
        """The sentence printed as the notice's legal basis."""
        cited = "、".join(f"第{cn_number(a)}条" for a in self.articles_for(fields))
        return f"法律依据：{REGULATION}{cited}。"

    def number(self, year: int, seq: int) -> str:
        return f"{self.number_prefix}〔{year}〕第{seq:06d}号"


KINDS: dict[str, KindSpec] = {
    s.code: s
    for s in (
        KindSpec("accept", "信访事项受理告知书", (23, 34), AcceptFields, "信受"),
        KindSpec("not_accept", "信访事项不予受理告知书", (19, 23), NotAcceptFields, "信不受"),
        KindSpec("not_reaccept", "信访事项不再受理告知书", (36,), NotReacceptFields, "信不再受"),
        KindSpec("transfer", "信访事项转送告知书", (22, 23), TransferFields, "信转"),
        KindSpec("assign", "信访事项交办告知书", (22, 23), TransferFields, "信交"),
        KindSpec("extension", "信访事项延期办理告知书", (34,), ExtensionFields, "信延"),
        KindSpec("reply", "信访事项处理意见书", (31, 32, 35), ReplyFields, "信处"),
        KindSpec("review", "信访事项复查意见书", (35, 36), ReviewFields, "信复查"),
        KindSpec("reexam", "信访事项复核意见书", (36,), ReexamFields, "信复核"),
        KindSpec("mediation", "调解协议书", (33,), MediationFields, "信调"),
    )
}


def get(kind: str) -> KindSpec:
    spec = KINDS.get(kind)
    if spec is None:
        raise ApiError(
            422, "unknown_notice_kind", "告知书类型不存在", f"unknown notice kind {kind!r}", "kind"
        )
    return spec


def _rejected(exc: ValidationError, prefix: str) -> ApiError:
    items = [
        ErrorItem(f"{prefix}.{i.field}" if i.field != "body" else prefix, i.code, i.message)
        for i in validation_items([dict(e) for e in exc.errors()])
    ]
    return ApiError.of(422, items)


def validate_fields(spec: KindSpec, fields: Mapping[str, Any]) -> NoticeFields:
    """The caller's part of a context; errors name the field as ``context.<path>``."""
    reserved = sorted(SYSTEM_FIELDS & fields.keys())
    if reserved:
        raise ApiError(
            422,
            "system_field",
            "该字段由系统填写",
            "filled in by the system",
            f"context.{reserved[0]}",
        )
    try:
        return spec.fields.model_validate(dict(fields))
    except ValidationError as exc:
        raise _rejected(exc, "context") from None


@dataclass(frozen=True)
class Context:
    """A validated, complete context: the caller's fields and the system's."""

    spec: KindSpec
    fields: NoticeFields
    system: SystemFields

    def view(self) -> dict[str, Any]:
        """What the template sees: every field (dates as 2026年3月1日), the derived wording,
        the title and the legal-basis sentence."""
        out = _dates_as_text({**self.fields.model_dump(), **self.system.model_dump()})
        out.update(self.fields.extras())
        out["title"] = self.spec.title
        out["legal_basis"] = self.spec.legal_basis(self.fields)
        return out


def validate_context(kind: str, context: Mapping[str, Any]) -> Context:
    """A full context (the caller's fields plus :data:`SYSTEM_FIELDS`), as ``render`` takes."""
    spec = get(kind)
    own = {k: v for k, v in context.items() if k not in SYSTEM_FIELDS}
    system = {k: v for k, v in context.items() if k in SYSTEM_FIELDS}
    errors: list[ErrorItem] = []
    fields: NoticeFields | None = None
    sys_fields: SystemFields | None = None
    try:
        fields = validate_fields(spec, own)
    except ApiError as exc:
        errors.extend(exc.items)
    try:
        sys_fields = SystemFields.model_validate(system)
    except ValidationError as exc:
        errors.extend(_rejected(exc, "context").items)
    if errors or fields is None or sys_fields is None:
        raise ApiError.of(422, errors)
    return Context(spec, fields, sys_fields)


def _dates_as_text(value: Any) -> Any:
    if isinstance(value, date):
        return cn_date(value)
    if isinstance(value, dict):
        return {k: _dates_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(v) for v in value]
    return value
