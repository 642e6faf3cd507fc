"""PDF with Chinese text and nothing outside PyPI: reportlab's built-in CID font
``STSong-Light`` (Adobe-GB1, so no font file is shipped or embedded), paragraph styles that
wrap CJK text, and a builder that returns the bytes.

Every caller's text goes through :func:`escape` first: reportlab paragraphs are a small XML
dialect, and a petitioner's "<" or "&" must print as typed.

Building is CPU-bound (tens of milliseconds): async callers run it in a worker thread.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate

FONT = "STSong-Light"
_register_lock = threading.Lock()

PageHook = Callable[[Canvas, Any], None]


def cjk_font() -> str:
    """The registered CID font's name (registered once per process, thread-safe)."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        with _register_lock:
            if FONT not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def escape(text: str) -> str:
    """Text as a reportlab paragraph shows it literally; line breaks kept."""
    return _xml_escape(text).replace("\n", "<br/>")


def style(name: str, size: float, leading: float | None = None, **kw: Any) -> ParagraphStyle:
    """A paragraph style in the CJK font that wraps between any two Chinese characters."""
    return ParagraphStyle(
        name,
        fontName=cjk_font(),
        fontSize=size,
        leading=leading if leading is not None else size * 1.5,
        wordWrap="CJK",
        **kw,
    )


def build(
    story: Sequence[Flowable],
    *,
    title: str,
    pagesize: tuple[float, float] = A4,
    margins_mm: tuple[float, float, float, float] = (12, 12, 12, 12),
    on_page: PageHook | None = None,
) -> bytes:
    """Lay out ``story`` and return the PDF. ``margins_mm`` is (top, right, bottom, left).

    The output is invariant (no creation time, a fixed document id), so the same input gives
    the same bytes: stored content-addressed, a re-render is the same object.
    """
    top, right, bottom, left = margins_mm
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=pagesize,
        topMargin=top * mm,
        rightMargin=right * mm,
        bottomMargin=bottom * mm,
        leftMargin=left * mm,
        title=title,
        invariant=1,
    )
    if on_page is None:
        doc.build(list(story))
    else:
        doc.build(list(story), onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()
