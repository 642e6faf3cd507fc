"""How the importer cuts a file into transactions (``_batches``)."""

from __future__ import annotations

from collections.abc import Iterator

from services.intake.importer.reader import Row
from services.intake.importer.service import _batches


def rows(n: int, read: list[int] | None = None) -> Iterator[tuple[int, Row]]:
    for row_no in range(2, n + 2):
        if read is not None:
            read.append(row_no)
        yield row_no, {"n": str(row_no)}


def sizes(n: int, *, size: int = 1000, after: int = 0, limit: int | None = None) -> list[int]:
    return [len(b) for b in _batches(rows(n), after, size, limit)]


def test_every_row_once_in_order_in_batches_of_at_most_the_size() -> None:
    assert sizes(2500) == [1000, 1000, 500]
    assert sizes(0) == []
    got = [row_no for batch in _batches(rows(3210), 0, 1000, None) for row_no, _ in batch]
    assert got == list(range(2, 3212))


def test_resume_point_and_limit() -> None:
    first = next(_batches(rows(10), 5, 2, None))
    assert [row_no for row_no, _ in first] == [6, 7]
    read: list[int] = []
    taken = [r for b in _batches(rows(5000, read), 0, 1000, 600) for r, _ in b]
    assert taken == list(range(2, 602))
    assert read == taken  # never a row beyond the limit: the caller asks whether one is left
    assert sizes(10, limit=0) == []
