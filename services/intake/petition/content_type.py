"""Does an attachment's content match the type it was declared as? A citizen's upload is
untrusted: a program renamed ``photo.jpg`` and sent as ``image/jpeg`` must not be stored as a
photo that staff later open. Binary formats are recognised by their signatures (``filetype``,
no external dependencies); plain text must be text (UTF-8 or GB 18030, no NUL bytes, no
binary signature)."""

from __future__ import annotations

import filetype

# what ``filetype`` may answer for a file of each declared type
_SAME: dict[str, frozenset[str]] = {
    "image/jpeg": frozenset({"image/jpeg"}),
    "image/png": frozenset({"image/png"}),
    "image/gif": frozenset({"image/gif"}),
    "image/webp": frozenset({"image/webp"}),
    "application/pdf": frozenset({"application/pdf"}),
    "audio/mpeg": frozenset({"audio/mpeg"}),
    "audio/amr": frozenset({"audio/amr"}),
    "video/mp4": frozenset({"video/mp4", "video/quicktime", "video/x-m4v"}),
    "application/msword": frozenset({"application/msword", "application/x-ole-storage"}),
    # a .docx is a zip: recognised as Word when its first entries say so, else as a zip
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": frozenset(
        {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/zip",
        }
    ),
}


def matches(media_type: str, data: bytes) -> bool:
    """True when ``data`` looks like a file of ``media_type`` (one of the accepted types)."""
    guessed = filetype.guess_mime(data)
    if media_type == "text/plain":
        return guessed is None and b"\x00" not in data and _is_text(data)
    return guessed is not None and guessed in _SAME.get(media_type, frozenset({media_type}))


def _is_text(data: bytes) -> bool:
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False
