"""Rendering a notice: the kind's versioned DOCX template filled by docxtpl, then the same
document laid out as an official notice in PDF (``shared.documents.pdf``: reportlab, CID
font ``STSong-Light``).

The PDF is made from the rendered DOCX's paragraphs, styled by their paragraph style
names, so the wording lives in one place (the template) and both files always say the same.
Pure and CPU-bound (tens of milliseconds): async callers use ``asyncio.to_thread``. The
context holds personal data (names as printed): nothing here logs it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from docx import Document
from docxtpl import DocxTemplate
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, HRFlowable, Paragraph, Spacer

from services.casework.notice import kinds
from shared.api.errors import ApiError
from shared.documents import pdf
from shared.documents.ooxml import reproducible

TEMPLATES = Path(__file__).resolve().parent / "templates"
RED = "#C00000"


@dataclass(frozen=True)
class Rendered:
    docx: bytes
    pdf: bytes
    template_version: str  # "<kind>/<version>", e.g. "accept/v1"


def render(kind: str, context: Mapping[str, Any], *, version: str | None = None) -> Rendered:
    """Fill the kind's template (the version in force unless ``version`` is given) with a
    complete context (the caller's fields and ``kinds.SYSTEM_FIELDS``); 422 ``ApiError``
    naming the field when the context is incomplete or wrong."""
    ctx = kinds.validate_context(kind, context)
    version = version or ctx.spec.version
    template = _template(kind, version)
    view = ctx.view()
    doc = DocxTemplate(io.BytesIO(template))
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)
    doc.render(view, jinja_env=env, autoescape=True)
    out = io.BytesIO()
    doc.save(out)
    docx = reproducible(out.getvalue())
    return Rendered(
        docx=docx,
        pdf=pdf_from_docx(docx, title=view["title"]),
        template_version=f"{kind}/{version}",
    )


@cache
def _template(kind: str, version: str) -> bytes:
    path = TEMPLATES / kind / f"{version}.docx"
    if not version.isalnum() or not path.is_file():
        raise ApiError(
            422,
            "unknown_template_version",
            "模板版本不存在",
            f"no template {kind}/{version}",
            "version",
        )
    return path.read_bytes()


# ---- PDF ----------------------------------------------------------------------------------


@cache
def _styles() -> dict[str, ParagraphStyle]:
    body = {"size": 15, "leading": 27}
    return {
        "NoticeIssuer": pdf.style("issuer", 22, 30, alignment=TA_CENTER, textColor=RED),
        "NoticeNumber": pdf.style("number", 14, 22, alignment=TA_CENTER, spaceBefore=4),
        "NoticeTitle": pdf.style(
            "title", 20, 30, alignment=TA_CENTER, spaceBefore=10, spaceAfter=14
        ),
        "NoticeSalutation": pdf.style("salutation", body["size"], body["leading"]),
        "NoticeBody": pdf.style(
            "body", body["size"], body["leading"], alignment=TA_JUSTIFY, firstLineIndent=30
        ),
        "NoticeHeading": pdf.style(
            "heading", body["size"], body["leading"], alignment=TA_LEFT, firstLineIndent=30
        ),
        "NoticeBasis": pdf.style(
            "basis",
            body["size"],
            body["leading"],
            firstLineIndent=30,
            spaceBefore=10,
            keepWithNext=1,
        ),
        "NoticeSignature": pdf.style(
            "signature",
            body["size"],
            body["leading"],
            alignment=TA_RIGHT,
            rightIndent=30,
            spaceBefore=20,
            keepWithNext=1,
        ),
        "NoticeDate": pdf.style(
            "date",
            body["size"],
            body["leading"],
            alignment=TA_RIGHT,
            rightIndent=30,
            keepWithNext=1,
        ),
        "NoticeSeal": pdf.style(
            "seal", body["size"], body["leading"], alignment=TA_RIGHT, rightIndent=30
        ),
    }


def _page_number(canvas: Canvas, doc: Any) -> None:
    canvas.saveState()
    canvas.setFont(pdf.cjk_font(), 12)
    canvas.drawCentredString(105 * mm, 18 * mm, f"— {doc.page} —")
    canvas.restoreState()


def pdf_from_docx(docx: bytes, *, title: str) -> bytes:
    """Lay out a rendered notice (A4, GB/T 9704 margins): the issuing body in red over a red
    rule, the 文号, the title, the text, the legal basis, the signature, date and seal."""
    styles = _styles()
    story: list[Flowable] = []
    for para in Document(io.BytesIO(docx)).paragraphs:
        name = para.style.name if para.style is not None else "NoticeBody"
        text = para.text.strip()
        if not text:
            story.append(Spacer(1, 4 * mm))
            continue
        story.append(Paragraph(pdf.escape(text), styles.get(name, styles["NoticeBody"])))
        if name == "NoticeNumber":
            story.append(
                HRFlowable(width="100%", thickness=1.5, color=RED, spaceBefore=2, spaceAfter=8)
            )
    return pdf.build(story, title=title, margins_mm=(30, 26, 30, 28), on_page=_page_number)
