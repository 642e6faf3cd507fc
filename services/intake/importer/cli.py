"""``minsheng import <file.csv|xlsx> --mapping <name>``: back-fill history from a file."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from services.intake.importer.mappings import MAPPINGS
from services.intake.importer.service import run_import
from shared.settings import get_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a .csv (UTF-8 or GB18030) or .xlsx file")
    parser.add_argument("--mapping", required=True, choices=sorted(MAPPINGS))
    parser.add_argument(
        "--report",
        type=Path,
        help="the per-row error report (default: <file>.import-errors.csv beside the file); "
        "its .checkpoint lets an interrupted run continue",
    )
    parser.add_argument(
        "--default-region",
        default="440306",
        help="district for rows without one of our region codes (default 440306)",
    )
    parser.add_argument("--limit", type=int, help="import at most N rows in this run")
    parser.add_argument("--batch-size", type=int, default=1000, help="rows per transaction")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(
            run_import(
                get_settings(),
                args.file,
                args.mapping,
                report_path=args.report,
                progress=not args.no_progress,
                batch_size=args.batch_size,
                default_region=args.default_region,
                limit=args.limit,
            )
        )
    except (ValueError, OSError) as exc:  # unknown region, unreadable file, report not writable
        print(f"import failed: {exc}", file=sys.stderr)
        return 2
    resumed = f" (continued after row {result.resumed_after})" if result.resumed_after else ""
    print(
        f"{args.file.name}{resumed}: {result.rows_in} rows, {result.imported} imported, "
        f"{result.repeated} repeated ({result.enriched} with new content kept as copies), "
        f"{result.rejected} rejected, {result.seconds:.1f} s, {result.rows_per_s:.0f} rows/s"
    )
    if result.rejected:
        print(f"rejected rows: {result.report_path}")
    if not result.finished:
        print("stopped at --limit: run the same command again to continue")
    return 0
