"""Rows of a ``.csv`` or ``.xlsx`` file as ``(row number, {column: text})``, streamed.

Row numbers count records the way a spreadsheet does: the header is row 1, the first data row
is row 2 (a CSV record with line breaks inside quotes is still one row). Blank rows are
skipped but keep their numbers. CSV is UTF-8 with or without a BOM, else GB18030 (the
encoding Chinese office software writes); xlsx is the first sheet, header in its first row.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Generator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

Row = dict[str, str]
Rows = Generator[tuple[int, Row], None, None]
_CHUNK = 1 << 20
_FIELD_LIMIT = 16 << 20  # one field may hold a long letter; the csv default is 128 KiB


def read_rows(path: Path) -> Rows:
    """A generator: close it (``contextlib.closing``) to release an xlsx file early."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    raise ValueError(f"{path.name}: only .csv and .xlsx files can be imported")


def csv_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file decodes as UTF-8, else ``gb18030``."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _csv_rows(path: Path) -> Rows:
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    with path.open(encoding=csv_encoding(path), newline="") as fh:
        reader = csv.reader(fh)
        header = _header(next(reader, []))
        for row_no, values in enumerate(reader, start=2):
            row = _row(header, values)
            if row is not None:
                yield row_no, row


def _xlsx_rows(path: Path) -> Rows:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        header = _header([_cell(v) for v in next(cells, ())])
        for row_no, values in enumerate(cells, start=2):
            row = _row(header, [_cell(v) for v in values])
            if row is not None:
                yield row_no, row
    finally:
        book.close()


def _header(names: list[str]) -> list[str]:
    return [name.replace("\ufeff", "").strip() for name in names]


def _row(header: list[str], values: list[str]) -> Row | None:
    if not any(v.strip() for v in values):
        return None
    row = {name: value for name, value in zip(header, values, strict=False) if name}
    for name in header[len(values) :]:  # a short record: the missing cells are empty
        if name:
            row[name] = ""
    return row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps every number as a float: 188006.0 is an id
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)
