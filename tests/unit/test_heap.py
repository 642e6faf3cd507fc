"""The collector's pace for servers (shared.heap)."""

from __future__ import annotations

import gc

import pytest

from shared import heap


def test_rare_collections_sets_the_heap_aside_and_restores_the_pace() -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, *before[1:])
    frozen = gc.get_freeze_count()
    try:
        with heap.rare_collections():
            assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
            assert gc.get_freeze_count() > frozen
        assert gc.get_threshold() == (700, *before[1:])
        assert (gc.get_freeze_count() > 0) == (frozen > 0)  # a settled heap stays aside
    finally:
        gc.set_threshold(*before)


def test_settle_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    before = gc.get_threshold()
    monkeypatch.setattr(heap, "_settled", False)
    try:
        heap.settle()
        assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        heap.settle()  # the second call does nothing
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
