"""Text as people write it: without the C0 control characters (other than tab and line breaks)
and DEL that copy-paste and partners' systems let through. They show as nothing, and XML 1.0 —
the .xlsx tables, Open311's XML — cannot hold them at all."""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(text: str) -> str:
    """``text`` without C0 controls other than ``\\t``, ``\\n``, ``\\r``, and without DEL."""
    return _UNPRINTABLE.sub("", text) if _UNPRINTABLE.search(text) else text
