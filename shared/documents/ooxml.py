"""Office Open XML packages (.docx) as reproducible bytes.

A .docx is a zip; python-docx stamps each member with the time of saving, so the same
document saved twice differs. :func:`reproducible` rewrites the members in their order with
one fixed timestamp: a checked-in template rebuilt from its script is byte-identical, and a
document rendered twice from the same context is the same stored object.
"""

from __future__ import annotations

import io
import zipfile

FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def reproducible(package: bytes) -> bytes:
    """``package`` with every member's timestamp fixed (content and order unchanged)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
