"""``minsheng analytics train-router`` and ``minsheng analytics route``: the routing suggestion
from the command line. ``add_train_router`` / ``add_route`` take the ``analytics`` group's
sub-parsers and are listed in ``minsheng.analytics_cli.COMMANDS``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_train_router(asub: Any) -> None:
    tr = asub.add_parser("train-router", help="train the routing classifier and save it")
    tr.add_argument(
        "--data",
        type=Path,
        help="labelled CSV (columns text, label); default: ../shared/data/teddy2020/"
        "messages_labeled.csv, else the built-in examples",
    )
    tr.add_argument(
        "--output", type=Path, help="model file (default: <data_dir>/models/router-<version>)"
    )
    tr.add_argument(
        "--cv-folds", type=int, default=5, help="stratified folds to score it first (0: skip)"
    )
    tr.set_defaults(func=cmd_train_router)


def add_route(asub: Any) -> None:
    ro = asub.add_parser("route", help="add label and confidence to every row of a CSV")
    ro.add_argument("--input", type=Path, required=True, help="CSV with a `text` column")
    ro.add_argument("--output", type=Path, required=True)
    ro.add_argument("--model", type=Path, help="model file (default: the newest saved)")
    ro.add_argument("--no-progress", action="store_true")
    ro.set_defaults(func=cmd_route)


def cmd_train_router(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from services.analytics.routing import train
    from services.analytics.routing.model import pipeline
    from services.analytics.routing.service import models_dir

    try:
        data = train.read_labeled_csv(args.data) if args.data else train.default_dataset()
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        print(f"cannot train: {exc}", file=sys.stderr)
        return 2
    print(f"training on {data.source}: {len(data.texts)} messages, {len(set(data.labels))} labels")
    cv = None
    if args.cv_folds and args.cv_folds > 1:
        min_df = train.min_df_for(len(data.texts))
        groups = train.near_duplicate_groups(data.texts)
        in_groups, n_groups = train.grouped_count(groups)
        print(f"near-duplicates kept in one fold: {in_groups} messages in {n_groups} groups")
        with tqdm(total=args.cv_folds, unit="fold", desc="cross-validation") as bar:
            cv = train.cross_validate(
                lambda: pipeline(min_df=min_df),
                data.texts,
                data.labels,
                folds=args.cv_folds,
                groups=groups,
                progress=lambda _: bar.update(1),
            )
        print(f"cross-validated macro-F1: {cv.mean:.4f} ± {cv.std:.4f} ({cv.folds} folds)")
    model = train.fit(data, cv=cv)
    path = model.save_as(args.output) if args.output else model.save(models_dir())
    print(f"saved {path} (version {model.info.version})")
    return 0


def cmd_route(args: argparse.Namespace) -> int:
    from services.analytics.routing import service
    from services.analytics.routing.apply import route_csv
    from services.analytics.routing.model import load

    if not args.input.exists():
        print(f"no such file: {args.input}", file=sys.stderr)
        return 2
    model = load(args.model) if args.model else service.get_model()
    try:
        report = route_csv(model, args.input, args.output, progress=not args.no_progress)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(
        f"routed {report.routed} of {report.rows} rows with model {model.info.version} "
        f"→ {args.output}"
    )
    if report.replaced_columns:
        print(f"note: input columns {', '.join(report.replaced_columns)} were overwritten")
    if report.blank_lines:
        shown = ", ".join(str(n) for n in report.blank_lines[:20])
        more = "…" if len(report.blank_lines) > 20 else ""
        print(
            f"{len(report.blank_lines)} row(s) without text (lines {shown}{more}): "
            "empty label, confidence 0"
        )
    return 0
