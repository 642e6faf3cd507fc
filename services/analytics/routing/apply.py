"""Bulk routing of a CSV: every input column kept, `label` and `confidence` added.

Streams the file in batches so a large export never sits in memory twice. Rows whose `text` is
blank get an empty label and confidence 0 and are counted (and their line numbers kept) so the
caller can report them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from services.analytics.routing.model import RouterModel

BATCH = 512
ADDED = ("label", "confidence")


@dataclass
class RouteReport:
    rows: int = 0
    routed: int = 0
    blank_lines: list[int] = field(default_factory=list)  # 1-based line numbers in the input
    replaced_columns: list[str] = field(default_factory=list)


def route_csv(
    model: RouterModel, source: Path, target: Path, *, progress: bool = True
) -> RouteReport:
    report = RouteReport()
    with (
        source.open(encoding="utf-8-sig", newline="") as fin,
        target.open("w", encoding="utf-8", newline="") as fout,
    ):
        reader = csv.DictReader(fin)
        columns = list(reader.fieldnames or ())
        if "text" not in columns:
            raise ValueError(f"{source}: no `text` column (columns: {', '.join(columns)})")
        report.replaced_columns = [c for c in ADDED if c in columns]
        out_columns = columns + [c for c in ADDED if c not in columns]
        writer = csv.DictWriter(fout, fieldnames=out_columns, extrasaction="ignore")
        writer.writeheader()
        bar = tqdm(
            total=_count_rows(source) if progress else None,
            disable=not progress,
            unit="msg",
            desc="route",
        )
        for batch in _batches(reader):
            results = model.predict([(row.get("text") or "") for _, row in batch])
            for (line, row), (label, confidence) in zip(batch, results, strict=True):
                report.rows += 1
                if label:
                    report.routed += 1
                else:
                    report.blank_lines.append(line)
                row["label"] = label
                row["confidence"] = f"{confidence:.4f}"
                writer.writerow(row)
            bar.update(len(batch))
        bar.close()
    return report


def _batches(reader: csv.DictReader[str]) -> Iterator[list[tuple[int, dict[str, str]]]]:
    batch: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        batch.append((reader.line_num, row))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _count_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return max(0, sum(1 for _ in csv.reader(f)) - 1)
