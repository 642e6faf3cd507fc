"""Notices render from their versioned templates to DOCX and PDF with the legal content."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import docx
import pypdf
import pytest

from services.casework.notice import kinds
from services.casework.notice.examples import EXAMPLES, SYSTEM_EXAMPLE
from services.casework.notice.render import render
from services.casework.notice.templates import build
from shared.api.errors import ApiError

CODES = {"handling_path", "reason_code", "decision"}  # printed as wording, not as the code
# these notices answer a later request (复查, 复核) or record an agreement: they date that
NOT_SHOWN = {"review": {"received_on"}, "reexam": {"received_on"}, "mediation": {"received_on"}}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def displayed(value: Any, key: str = "") -> list[str]:
    """The texts a context value must show up as in the notice."""
    if key in CODES or value is None:
        return []
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in displayed(v, k)]
    if isinstance(value, list):
        return [t for v in value for t in displayed(v, key)]
    if isinstance(value, str) and ISO.match(value):
        return [kinds.cn_date(date.fromisoformat(value))]
    return [str(value)]


def docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


def pdf_text(reader: pypdf.PdfReader) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def context(kind: str, **changes: Any) -> dict[str, Any]:
    number = kinds.KINDS[kind].number(2026, 7)
    return {**EXAMPLES[kind], **SYSTEM_EXAMPLE, "number": number, **changes}


def test_every_kind_has_an_example_and_a_template() -> None:
    assert set(EXAMPLES) == set(kinds.KINDS)
    assert len(kinds.KINDS) == 10  # the domain's nine, with 转送 and 交办 apart
    assert len({s.number_prefix for s in kinds.KINDS.values()}) == len(kinds.KINDS)
    for spec in kinds.KINDS.values():
        assert build.path(spec.version, spec.code).is_file()


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_docx_has_title_number_basis_and_values(kind: str) -> None:
    ctx = context(kind)
    out = render(kind, ctx)
    spec = kinds.KINDS[kind]
    assert out.template_version == f"{kind}/{spec.version}"
    text = docx_text(out.docx)
    fields = kinds.validate_fields(spec, EXAMPLES[kind])
    assert spec.title in text
    assert ctx["number"] in text
    assert spec.legal_basis(fields) in text
    assert "《信访工作条例》" in spec.legal_basis(fields)
    for article in spec.articles_for(fields):
        assert f"第{kinds.cn_number(article)}条" in text
    hidden = {"number", *NOT_SHOWN.get(kind, ())}
    for value in displayed({k: v for k, v in ctx.items() if k not in hidden}):
        assert value in text, value
    assert "（盖章）" in text
    assert "{{" not in text and "{%" not in text


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_pdf_uses_stsong_and_reads_back(kind: str) -> None:
    ctx = context(kind)
    out = render(kind, ctx)
    assert out.pdf.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(out.pdf))
    assert 1 <= len(reader.pages) <= 3
    fonts: set[str] = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        fonts |= {str(f.get_object()["/BaseFont"]) for f in resources["/Font"].values()}
    assert "/STSong-Light" in fonts
    text = pdf_text(reader)
    spec = kinds.KINDS[kind]
    assert spec.title in text
    assert ctx["number"] in text
    assert ctx["issuer"] in text
    assert "（盖章）" in text


def test_the_documents_follow_the_context() -> None:
    a = render("accept", context("accept", petitioner="王五", due_on="2026-04-30"))
    b = render("accept", context("accept", petitioner="赵六", due_on="2026-05-20"))
    assert "王五" in docx_text(a.docx) and "赵六" not in docx_text(a.docx)
    assert "2026年5月20日" in docx_text(b.docx) and "2026年4月30日" not in docx_text(b.docx)
    assert "赵六" in pdf_text(pypdf.PdfReader(io.BytesIO(b.pdf)))
    assert a.pdf != b.pdf


def test_rendering_is_reproducible() -> None:
    ctx = context("reply")
    first, second = render("reply", ctx), render("reply", ctx)
    assert first.docx == second.docx and first.pdf == second.pdf


def test_markup_in_values_prints_as_typed() -> None:
    name = '<w:t>张&"三"</w:t>'
    out = render("transfer", context("transfer", petitioner=name))
    assert f"{name}：" in docx_text(out.docx)
    assert re.sub(r"\s+", "", name) in pdf_text(pypdf.PdfReader(io.BytesIO(out.pdf)))


def test_line_breaks_in_long_text_survive() -> None:
    out = render("not_accept", context("not_accept", reason="第一行。\n第二行。"))
    assert "第一行。\n第二行。" in docx_text(out.docx)


def test_optional_paragraphs() -> None:
    with_contact = docx_text(render("accept", context("accept")).docx)
    without = docx_text(render("accept", context("accept", contact=None)).docx)
    assert "联系方式：0755-00000000" in with_contact and "联系方式" not in without
    heard = docx_text(render("reexam", context("reexam")).docx)
    unheard = docx_text(render("reexam", context("reexam", hearing_on=None)).docx)
    assert "举行了听证" in heard and "举行了听证" not in unheard


def test_wording_by_choice() -> None:
    assign = docx_text(render("assign", context("assign")).docx)
    transfer = docx_text(render("transfer", context("transfer")).docx)
    assert "交办" in assign and "报告办理结果" in assign
    assert "转送" in transfer and "报告办理结果" not in transfer
    pending = context("not_accept", reason_code="pending_elsewhere")
    text = docx_text(render("not_accept", pending).docx)
    assert "正在办理中" in text and "第十九条" in text and "第二十三条" not in text
    reply = docx_text(render("reply", context("reply")).docx)
    assert "处理意见：支持。" in reply and "处理意见：不予支持。" in reply
    assert "30日内向深圳市宝安区人民政府请求复查" in reply
    assert "一、关于" in reply and "二、关于" in reply


def _error(kind: str, ctx: dict[str, Any]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        render(kind, ctx)
    assert caught.value.status == 422
    return caught.value


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("not_accept", "go_to"),
        ("extension", "reason"),
        ("mediation", "schedule"),
        ("accept", "issuer"),
        ("reply", "review_body"),
    ],
)
def test_missing_field_is_named(kind: str, field: str) -> None:
    ctx = context(kind)
    del ctx[field]
    err = _error(kind, ctx)
    assert [(i.field, i.code) for i in err.items] == [(f"context.{field}", "required")]


def test_missing_nested_and_system_fields_are_named() -> None:
    ctx = context("reply")
    ctx["claims"] = [dict(ctx["claims"][0]), dict(ctx["claims"][1])]
    del ctx["claims"][1]["facts"]
    del ctx["number"]
    err = _error("reply", ctx)
    assert {(i.field, i.code) for i in err.items} == {
        ("context.claims[1].facts", "required"),
        ("context.number", "required"),
    }


def test_unknown_and_invalid_values_are_refused() -> None:
    err = _error("accept", context("accept", handler_phone="13800000000"))
    assert [(i.field, i.code) for i in err.items] == [("context.handler_phone", "unknown_field")]
    err = _error("extension", context("extension", extra_days=31))
    assert err.items[0].field == "context.extra_days" and err.items[0].code == "too_large"
    err = _error("extension", context("extension", new_due_on="2026-05-01"))
    assert err.items[0].code == "due_not_extended"
    err = _error("accept", context("accept", handling_unit="宝安区\n住建局"))
    assert err.items[0].field == "context.handling_unit" and err.items[0].code == "invalid_text"
    err = _error("reply", context("reply", claims=[]))
    assert err.items[0].field == "context.claims"


def test_unknown_kind_and_version() -> None:
    with pytest.raises(ApiError) as caught:
        render("praise", context("accept"))
    assert caught.value.items[0].code == "unknown_notice_kind"
    with pytest.raises(ApiError) as caught:
        render("accept", context("accept"), version="v9")
    assert caught.value.items[0].code == "unknown_template_version"


def test_system_fields_are_not_the_callers() -> None:
    spec = kinds.get("accept")
    with pytest.raises(ApiError) as caught:
        kinds.validate_fields(spec, {**EXAMPLES["accept"], "number": "信受〔2026〕第000001号"})
    assert caught.value.items[0].field == "context.number"
    assert caught.value.items[0].code == "system_field"


def test_numbers_and_articles() -> None:
    assert [kinds.cn_number(n) for n in (1, 10, 19, 22, 36, 99)] == [
        "一",
        "十",
        "十九",
        "二十二",
        "三十六",
        "九十九",
    ]
    assert kinds.KINDS["accept"].number(2026, 123) == "信受〔2026〕第000123号"
    assert kinds.KINDS["extension"].articles == (34,)
    assert kinds.KINDS["reexam"].articles == (36,)


def test_templates_are_reproducible_from_the_script() -> None:
    for version, bodies in build.VERSIONS.items():
        for kind in bodies:
            assert build.build(version, kind) == build.path(version, kind).read_bytes(), kind
