"""Running an import: rows → mapping → ``take_in_many``, a batch per transaction, resumable.

Each batch is one transaction: the batch's external ids are locked and looked up in one
query each, the new rows are stored together by ``petition.service.take_in_many`` (each with
``ExternalRef(mapping.system, external_id)``), known ones are repeats (importing a file twice
changes nothing). A repeat whose content differs from what we stored (the same Teddy message
in another file, with its likes or its reply) keeps the first version on the petition and
records the new one once in ``external_copy``, as the provincial exchange does.

After each commit the rejected rows go to the report and the last committed row number to
``<report>.checkpoint``; a re-run of the same file and mapping continues after it, and the
external ids make any overlap harmless. A finished run removes its checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from tqdm import tqdm

from services.intake.importer import repository as repo
from services.intake.importer.mappings import Mapping, Options, RowError, mapping_for
from services.intake.importer.reader import Row, read_rows
from services.intake.petition import service as petition_service
from services.intake.petition.normalized import NormalizedPetition
from shared import heap
from shared.clock import Clock, system_clock
from shared.db import Database
from shared.security import Keys, keys_for
from shared.settings import Settings

REPORT_COLUMNS = ("row_no", "external_id", "field", "code", "message_zh", "message_en")


@dataclass(frozen=True)
class ImportResult:
    rows_in: int  # rows read in this run (after a checkpoint, if it resumed)
    imported: int  # new petitions
    repeated: int  # external ids already known (or repeated within the file)
    rejected: int  # rows in the report
    seconds: float
    rows_per_s: float
    report_path: Path
    enriched: int = 0  # repeats with other content: the version kept in external_copy
    resumed_after: int = 0  # the checkpoint's row number; 0 for a fresh run
    finished: bool = True  # False when ``limit`` stopped it before the end of the file


@dataclass
class _Batch:
    rows: int = 0
    last_row_no: int = 0
    imported: int = 0
    repeated: int = 0
    enriched: int = 0
    rejects: list[tuple[int, str | None, RowError]] = field(default_factory=list)


class _NoBar:
    """What ``run_import`` calls on its progress bar, doing nothing."""

    def set_postfix(self, **_: Any) -> None:
        pass

    def update(self, _: int) -> None:
        pass

    def close(self) -> None:
        pass


def default_report_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.import-errors.csv")


def checkpoint_path(report: Path) -> Path:
    return report.with_name(report.name + ".checkpoint")


async def run_import(
    settings: Settings,
    path: Path | str,
    mapping_name: str,
    *,
    report_path: Path | str | None = None,
    progress: bool = True,
    batch_size: int = 1000,
    default_region: str = "440306",
    limit: int | None = None,
    clock: Clock = system_clock,
) -> ImportResult:
    """Import ``path`` with the mapping called ``mapping_name``; rejected rows are reported in
    ``report_path`` (default: beside the input)."""
    path = Path(path)
    mapping = mapping_for(mapping_name, Options(default_region=default_region, clock=clock))
    report = Path(report_path) if report_path else default_report_path(path)
    checkpoint = checkpoint_path(report)
    stat = path.stat()
    identity = {
        "input": str(path.resolve()),
        "mapping": mapping.name,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
    }
    resumed_after = _resume_point(checkpoint, identity)
    keys = keys_for(settings)
    database = Database(settings, pool_size=2)  # one storing a batch, one reading ahead
    started = time.perf_counter()
    totals = {"rows_in": 0, "imported": 0, "repeated": 0, "enriched": 0, "rejected": 0}
    finished = True
    new_report = not resumed_after or not report.exists() or report.stat().st_size == 0
    # without a progress bar, no tqdm at all: even a disabled one sets up a multiprocessing
    # lock on first use (about 60 ms of CPU)
    bar: tqdm[Any] | _NoBar = (
        tqdm(total=limit, unit="row", desc=path.name) if progress else _NoBar()
    )
    try:
        with (
            heap.rare_collections(),
            report.open("w" if new_report else "a", encoding="utf-8-sig", newline="") as out,
            contextlib.closing(read_rows(path)) as rows,
        ):
            writer = csv.writer(out)
            if new_report:
                writer.writerow(REPORT_COLUMNS)

            def record(batch: _Batch) -> None:
                """After a batch committed: its rejects to the report, then the checkpoint."""
                writer.writerows(
                    (row_no, ext or "", e.field, e.code, e.message_zh, e.message_en)
                    for row_no, ext, e in batch.rejects
                )
                out.flush()
                _save_checkpoint(checkpoint, {**identity, "row_no": batch.last_row_no})
                totals["rows_in"] += batch.rows
                totals["imported"] += batch.imported
                totals["repeated"] += batch.repeated
                totals["enriched"] += batch.enriched
                totals["rejected"] += len(batch.rejects)
                bar.set_postfix(new=totals["imported"], rejected=totals["rejected"], refresh=False)
                bar.update(batch.rows)

            # A pipeline of two: the next batch is mapped and its new rows prepared while the
            # database stores the one before. Batches still commit one after another, in file
            # order; a batch's report rows and checkpoint are written once it committed, while
            # the next one is being stored (a checkpoint is never ahead of what committed).
            storing: asyncio.Task[_Batch] | None = None
            unrecorded = False  # a batch's report rows could not be written: record no later one
            try:
                for batch_rows in _batches(rows, resumed_after, batch_size, limit):
                    mapped = await _map_batch(
                        database if storing is not None else None, mapping, batch_rows, keys=keys
                    )
                    done = None
                    if storing is not None:
                        done, storing = await storing, None
                    storing = asyncio.create_task(
                        _store_batch(database, mapping, mapped, keys=keys, clock=clock)
                    )
                    if done is not None:
                        unrecorded = True
                        record(done)
                        unrecorded = False
                if storing is not None:
                    done, storing = await storing, None
                    record(done)
            finally:
                if storing is not None:  # the file, a mapping or the report failed: finish
                    done = await storing  # what was sent
                    if not unrecorded:
                        record(done)
            if limit is not None and totals["rows_in"] >= limit:
                finished = next(rows, None) is None
        if finished:
            checkpoint.unlink(missing_ok=True)
    finally:
        bar.close()
        await database.dispose()
    seconds = time.perf_counter() - started
    return ImportResult(
        rows_in=totals["rows_in"],
        imported=totals["imported"],
        repeated=totals["repeated"],
        rejected=totals["rejected"],
        seconds=seconds,
        rows_per_s=totals["rows_in"] / seconds if seconds > 0 else 0.0,
        report_path=report,
        enriched=totals["enriched"],
        resumed_after=resumed_after,
        finished=finished,
    )


def _batches(
    rows: Iterator[tuple[int, Row]], after: int, size: int, limit: int | None
) -> Iterator[list[tuple[int, Row]]]:
    if limit is not None and limit <= 0:
        return
    batch: list[tuple[int, Row]] = []
    taken = 0
    for row_no, row in rows:
        if row_no <= after:
            continue
        batch.append((row_no, row))
        taken += 1
        if limit is not None and taken >= limit:
            break  # without reading a row beyond the limit: the caller asks if one is left
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class _Mapped:
    """A batch's rows, mapped; the new-looking ones prepared ahead."""

    rows: list[tuple[int, Row]]
    rejects: list[tuple[int, str | None, RowError]]
    petitions: list[tuple[str, NormalizedPetition, Row]]
    prepared: dict[str, petition_service.Prepared]  # ahead, by external id (first occurrence)


_YIELD_EVERY = 64  # rows between two looks at the event loop, so the batch being stored moves


async def _map_batch(
    database: Database | None, mapping: Mapping, rows: list[tuple[int, Row]], *, keys: Keys
) -> _Mapped:
    """Map the rows; with ``database`` (while the batch before is being stored), also prepare
    the rows that look new. Which ones do is only a hint, read without locks: the batch's own
    transaction decides, and prepares whatever the hint missed."""
    batch = _Mapped(rows, [], [], {})
    for n, (row_no, row) in enumerate(rows, start=1):
        if n % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
        try:
            external_id, petition = mapping.to_petition(row, row_no=row_no)
        except RowError as err:
            batch.rejects.append((row_no, err.external_id, err))
            continue
        batch.petitions.append((external_id, _without_phones(petition), row))
    if database is None or not batch.petitions:
        return batch
    async with database.transaction("intake") as db:
        known = await repo.known_ids(
            db, system=mapping.system, ids=[e for e, _, _ in batch.petitions]
        )
    first: dict[str, NormalizedPetition] = {}
    for external_id, petition, _ in batch.petitions:
        if external_id not in known:
            first.setdefault(external_id, petition)
    items = [
        petition_service.Intake(p, petition_service.ExternalRef(mapping.system, external_id))
        for external_id, p in first.items()
    ]
    for at in range(0, len(items), _YIELD_EVERY):
        await asyncio.sleep(0)
        for item in petition_service.prepare_many(items[at : at + _YIELD_EVERY], keys=keys):
            assert item.external is not None
            batch.prepared[item.external.external_id] = item
    return batch


async def _store_batch(
    database: Database, mapping: Mapping, mapped: _Mapped, *, keys: Keys, clock: Clock
) -> _Batch:
    """One transaction: lock and look up the batch's ids, store the new ones (prepared ahead
    or now), keep other versions of known ones as copies."""
    batch = _Batch(rejects=mapped.rejects, rows=len(mapped.rows), last_row_no=mapped.rows[-1][0])
    if not mapped.petitions:
        return batch
    async with database.transaction("intake") as db:
        ids = [external_id for external_id, _, _ in mapped.petitions]
        await repo.lock_ids(db, system=mapping.system, ids=ids)
        stored = {
            external_id: None
            if raw_enc is None
            else orjson.loads(keys.ring.decrypt_text(raw_enc) or "null")
            for external_id, raw_enc in (
                await repo.known(db, system=mapping.system, ids=ids)
            ).items()
        }
        copies: list[dict[str, Any]] = []
        new: list[petition_service.Prepared | petition_service.Intake] = []
        for external_id, petition, row in mapped.petitions:
            if external_id in stored:
                batch.repeated += 1
                if stored[external_id] != row:
                    copies.append(_copy(external_id, row, keys))
                continue
            new.append(
                mapped.prepared.get(external_id)
                or petition_service.Intake(
                    petition, petition_service.ExternalRef(mapping.system, external_id)
                )
            )
            stored[external_id] = row
        # what was not prepared ahead is prepared now, in place: list order is kept
        ready = iter(
            petition_service.prepare_many(
                [x for x in new if isinstance(x, petition_service.Intake)], keys=keys
            )
        )
        prepared = [next(ready) if isinstance(x, petition_service.Intake) else x for x in new]
        await petition_service.store_many(db, prepared=prepared, keys=keys, clock=clock)
        batch.imported = len(prepared)
        batch.enriched = await repo.keep_copies(
            db, system=mapping.system, received_at=clock.now(), copies=copies
        )
    return batch


def _without_phones(petition: NormalizedPetition) -> NormalizedPetition:
    """A back-fill must not text anyone: whatever a mapping does, no phone is stored."""
    if not any(p.phone for p in petition.petitioners):
        return petition
    return petition.model_copy(
        update={"petitioners": [p.model_copy(update={"phone": None}) for p in petition.petitioners]}
    )


def _copy(external_id: str, row: Row, keys: Keys) -> dict[str, Any]:
    body = orjson.dumps(row, option=orjson.OPT_SORT_KEYS)
    return {
        "external_id": external_id,
        "raw_hash": hashlib.sha256(body).hexdigest(),
        "raw_enc": keys.ring.encrypt_text(body.decode()),
    }


def _resume_point(checkpoint: Path, identity: dict[str, Any]) -> int:
    """The row to continue after: 0 without a checkpoint, or one of another file or mapping."""
    try:
        saved = json.loads(checkpoint.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return 0
    if any(saved.get(k) != v for k, v in identity.items()):
        return 0
    return int(saved.get("row_no") or 0)


def _save_checkpoint(checkpoint: Path, state: dict[str, Any]) -> None:
    tmp = checkpoint.with_name(checkpoint.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(state, ensure_ascii=False))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, checkpoint)  # a crash leaves the old checkpoint or the new, never half
