"""Builds the versioned notice templates ``<kind>/<version>.docx`` (docxtpl Jinja tags).

The wording of every version lives here, so the checked-in .docx files are reproducible:
``python -m services.casework.notice.templates.build`` rewrites them byte for byte
(``--check`` only compares). A template version, once issued, is never edited: new wording
is a new version (``v2``) beside the old one, and ``kinds.KindSpec.version`` moves to it.
An office may also replace a new version's .docx with one edited in Word, keeping the tags
and the paragraph style names below, which the PDF layout follows.

Paragraph styles (the PDF renderer maps them by name): NoticeIssuer, NoticeNumber (with the
red rule under it), NoticeTitle, NoticeSalutation, NoticeBody, NoticeHeading, NoticeBasis,
NoticeSignature, NoticeDate, NoticeSeal. A paragraph holding only ``{%p … %}`` is a
docxtpl control paragraph and disappears when rendered.
"""

from __future__ import annotations

import argparse
import io
import sys
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from shared.documents.ooxml import reproducible

HERE = Path(__file__).resolve().parent
RED = RGBColor(0xC0, 0x00, 0x00)

Body = list[tuple[str, str]]

# ---- the wording -------------------------------------------------------------------------

HEAD: Body = [
    ("NoticeIssuer", "{{ issuer }}"),
    ("NoticeNumber", "{{ number }}"),
    ("NoticeTitle", "{{ title }}"),
]
TO = ("NoticeSalutation", "{{ petitioner }}：")
RECEIVED = (
    "NoticeBody",
    "您于{{ received_on }}提出的信访事项（信访编号：{{ tracking_no }}；事项：{{ matter }}）"
    "已收悉。",
)
HEREBY = ("NoticeBody", "特此告知。")
TAIL: Body = [
    ("NoticeBasis", "{{ legal_basis }}"),
    ("NoticeSignature", "{{ issuer }}"),
    ("NoticeDate", "{{ issued_on }}"),
    ("NoticeSeal", "（盖章）"),
]


def _transfer(verb: str, after: str) -> Body:
    return [
        TO,
        RECEIVED,
        (
            "NoticeBody",
            "按照“属地管理、分级负责，谁主管、谁负责”的原则，本机关已于{{ sent_on }}将您的"
            f"信访事项{verb}{{{{ to_unit }}}}办理。",
        ),
        (
            "NoticeBody",
            "{{ to_unit }}应当自收到之日起15日内书面告知您是否受理；"
            "您可以直接向其了解办理情况。" + after,
        ),
        HEREBY,
    ]


V1: dict[str, Body] = {
    "accept": [
        TO,
        RECEIVED,
        (
            "NoticeBody",
            "经审查，该信访事项属于{{ handling_unit }}的职权范围，本机关于{{ accepted_on }}"
            "决定予以受理。{{ path_text }}",
        ),
        (
            "NoticeBody",
            "该信访事项将于{{ due_on }}前办结，并书面答复您；情况复杂的，经本机关负责人批准，"
            "可以适当延长办理期限，但延长期限不超过30日，并告知您延期理由。",
        ),
        ("{%p if contact %}", ""),
        ("NoticeBody", "联系方式：{{ contact }}"),
        ("{%p endif %}", ""),
        HEREBY,
    ],
    "not_accept": [
        TO,
        RECEIVED,
        ("NoticeBody", "经审查，{{ reason_lead }}。具体情况如下：{{ reason }}"),
        ("NoticeBody", "本机关决定不予受理。您可以按照以下途径提出：{{ go_to }}"),
        HEREBY,
    ],
    "not_reaccept": [
        TO,
        RECEIVED,
        (
            "NoticeBody",
            "经审查，您反映的事项已由{{ reexam_body }}于{{ reexam_on }}作出复核意见"
            "（{{ reexam_number }}），您仍以同一事实和理由提出投诉请求。",
        ),
        (
            "NoticeBody",
            "信访人对复核意见不服，仍然以同一事实和理由提出投诉请求的，各级党委和政府信访部门"
            "和其他机关、单位不再受理。本机关对该信访事项不再受理。",
        ),
        HEREBY,
    ],
    "transfer": _transfer("转送", ""),
    "assign": _transfer("交办", "本机关将督促其在规定期限内办结，并报告办理结果。"),
    "extension": [
        TO,
        (
            "NoticeBody",
            "您于{{ received_on }}提出的信访事项（信访编号：{{ tracking_no }}；事项：{{ matter }}）"
            "正在办理中，原定办结期限为{{ original_due_on }}。",
        ),
        (
            "NoticeBody",
            "因情况复杂，经本机关负责人批准，该信访事项的办理期限延长{{ extra_days }}日，"
            "延长至{{ new_due_on }}。",
        ),
        ("NoticeBody", "延期理由：{{ reason }}"),
        ("NoticeBody", "本机关将在延长期限内办结，并书面答复您。"),
        HEREBY,
    ],
    "reply": [
        TO,
        (
            "NoticeBody",
            "您于{{ received_on }}提出的信访事项（信访编号：{{ tracking_no }}；事项：{{ matter }}）"
            "收悉。本机关听取了您陈述的事实和理由，并进行了调查核实。现就您的投诉请求提出处理"
            "意见如下：",
        ),
        ("{%p for c in claims %}", ""),
        ("NoticeHeading", "{{ c.ordinal }}、关于“{{ c.claim }}”的请求"),
        ("NoticeBody", "经调查核实：{{ c.facts }}"),
        ("NoticeBody", "依据：{{ c.basis }}"),
        ("NoticeBody", "处理意见：{{ c.decision_label }}。{{ c.opinion }}"),
        ("{%p endfor %}", ""),
        (
            "NoticeBody",
            "如不服本处理意见，可自收到本意见书之日起30日内向{{ review_body }}请求复查。",
        ),
    ],
    "review": [
        TO,
        (
            "NoticeBody",
            "您不服{{ original_body }}作出的信访处理意见（{{ original_number }}），"
            "于{{ requested_on }}向本机关请求复查（信访编号：{{ tracking_no }}；"
            "事项：{{ matter }}）。本机关依法进行了复查，现提出复查意见如下：",
        ),
        ("NoticeBody", "经复查查明：{{ findings }}"),
        ("NoticeBody", "复查意见：{{ decision_label }}。{{ opinion }}"),
        (
            "NoticeBody",
            "如不服本复查意见，可自收到本意见书之日起30日内向{{ reexam_body }}请求复核。",
        ),
    ],
    "reexam": [
        TO,
        (
            "NoticeBody",
            "您不服{{ review_body }}作出的复查意见（{{ review_number }}），"
            "于{{ requested_on }}向本机关请求复核（信访编号：{{ tracking_no }}；"
            "事项：{{ matter }}）。本机关依法进行了复核，现提出复核意见如下：",
        ),
        ("{%p if hearing_on %}", ""),
        (
            "NoticeBody",
            "本机关于{{ hearing_on }}就该信访事项举行了听证，听证所需时间不计算在复核期限内。",
        ),
        ("{%p endif %}", ""),
        ("NoticeBody", "经复核查明：{{ findings }}"),
        ("NoticeBody", "复核意见：{{ decision_label }}。{{ opinion }}"),
        (
            "NoticeBody",
            "本复核意见为该信访事项的最终处理意见。信访人对复核意见不服，仍然以同一事实和理由"
            "提出投诉请求的，各级党委和政府信访部门和其他机关、单位不再受理。",
        ),
    ],
    "mediation": [
        ("NoticeSalutation", "当事人："),
        ("{%p for p in parties %}", ""),
        ("NoticeBody", "{{ p.role }}：{{ p.name }}"),
        ("{%p endfor %}", ""),
        (
            "NoticeSalutation",
            "信访事项：{{ matter }}（信访编号：{{ tracking_no }}；信访人：{{ petitioner }}）",
        ),
        ("NoticeSalutation", "争议事项："),
        ("NoticeBody", "{{ dispute }}"),
        (
            "NoticeBody",
            "经{{ mediator }}主持调解，各方当事人在自愿、平等的基础上，就上述争议达成如下协议：",
        ),
        ("{%p for t in terms %}", ""),
        ("NoticeBody", "{{ t.ordinal }}、{{ t.text }}"),
        ("{%p endfor %}", ""),
        ("NoticeSalutation", "履行安排："),
        ("{%p for s in schedule %}", ""),
        (
            "NoticeBody",
            "（{{ loop.index }}）{{ s.obligor }}：{{ s.action }}（履行期限：{{ s.due_on }}）",
        ),
        ("{%p endfor %}", ""),
        (
            "NoticeBody",
            "本协议经各方当事人签字（盖章）后生效，各方当事人应当按照约定期限全面履行，"
            "{{ mediator }}跟踪协议的履行情况。本协议一式{{ copies }}份，各方当事人各执一份，"
            "{{ mediator }}留存一份。",
        ),
        ("{%p for p in parties %}", ""),
        ("NoticeSignature", "{{ p.role }}（签字）：____________"),
        ("{%p endfor %}", ""),
    ],
}

VERSIONS: dict[str, dict[str, Body]] = {"v1": V1}

# ---- the look ------------------------------------------------------------------------------

# (east-asian font, size pt, bold, colour, alignment, first-line indent pt, before, after)
STYLES: dict[str, tuple[str, float, bool, RGBColor | None, int, float, float, float]] = {
    "NoticeIssuer": ("宋体", 22, True, RED, WD_ALIGN_PARAGRAPH.CENTER, 0, 0, 6),
    "NoticeNumber": ("仿宋", 16, False, None, WD_ALIGN_PARAGRAPH.CENTER, 0, 0, 18),
    "NoticeTitle": ("宋体", 22, True, None, WD_ALIGN_PARAGRAPH.CENTER, 0, 12, 18),
    "NoticeSalutation": ("仿宋", 16, False, None, WD_ALIGN_PARAGRAPH.LEFT, 0, 0, 0),
    "NoticeBody": ("仿宋", 16, False, None, WD_ALIGN_PARAGRAPH.JUSTIFY, 32, 0, 0),
    "NoticeHeading": ("黑体", 16, False, None, WD_ALIGN_PARAGRAPH.LEFT, 32, 0, 0),
    "NoticeBasis": ("仿宋", 16, False, None, WD_ALIGN_PARAGRAPH.JUSTIFY, 32, 12, 0),
    "NoticeSignature": ("仿宋", 16, False, None, WD_ALIGN_PARAGRAPH.RIGHT, 0, 24, 0),
    "NoticeDate": ("仿宋", 16, False, None, WD_ALIGN_PARAGRAPH.RIGHT, 0, 0, 0),
    "NoticeSeal": ("仿宋", 16, False, None, WD_ALIGN_PARAGRAPH.RIGHT, 0, 0, 0),
}
FIXED = datetime(2026, 1, 1)  # core properties: no build time inside the template


def _styles(doc: DocxDocument) -> None:
    styles = doc.styles
    for name, (font, size, bold, colour, align, indent, before, after) in STYLES.items():
        st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = styles["Normal"]
        st.font.name = "Times New Roman"
        st.font.size = Pt(size)
        st.font.bold = bold
        if colour is not None:
            st.font.color.rgb = colour
        st.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        pf = st.paragraph_format
        pf.alignment = align
        pf.first_line_indent = Pt(indent)
        pf.space_before = Pt(before)
        pf.space_after = Pt(after)
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(max(28.0, size * 1.3))
    # the red rule under the 文号 (GB/T 9704 版头分隔线)
    ppr = styles["NoticeNumber"].element.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (
        ("w:val", "single"),
        ("w:sz", "12"),
        ("w:space", "6"),
        ("w:color", "C00000"),
    ):
        bottom.set(qn(key), value)
    border.append(bottom)
    ppr.append(border)


def build(version: str, kind: str) -> bytes:
    """The template's bytes (reproducible)."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    _styles(doc)
    props = doc.core_properties
    props.title = "{{ title }}"
    props.author = props.last_modified_by = "Minsheng"
    props.created = props.modified = FIXED
    props.revision = 1
    props.comments = f"{kind}/{version}"
    body = VERSIONS[version][kind]
    for style, text in [*HEAD, *body, *TAIL]:
        if style.startswith("{%p"):
            doc.add_paragraph(style)
        else:
            doc.add_paragraph(text, style=style)
    out = io.BytesIO()
    doc.save(out)
    return reproducible(out.getvalue())


def path(version: str, kind: str) -> Path:
    return HERE / kind / f"{version}.docx"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a change")
    args = parser.parse_args(argv)
    stale = []
    for version, kinds in VERSIONS.items():
        for kind in kinds:
            data, target = build(version, kind), path(version, kind)
            if target.exists() and target.read_bytes() == data:
                continue
            stale.append(f"{kind}/{version}")
            if not args.check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
    if stale:
        print(("stale: " if args.check else "written: ") + ", ".join(stale))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
