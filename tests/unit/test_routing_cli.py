"""`minsheng analytics train-router` and `route` as a user runs them (subprocesses), on tiny
invented CSVs."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from services.analytics.routing.fallback import rows

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MINSHENG_DATA_DIR": str(data_dir), "MINSHENG_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "minsheng.cli", "analytics", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_input(path: Path) -> None:
    # A BOM, as Excel writes it; one row without text; extra columns to keep.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "note"])
        w.writerow(["a1", "小区物业乱收费，电梯坏了一个月没人修", "x"])
        w.writerow(["a2", "", "空的"])
        w.writerow(["a3", "工厂夜里偷排废水，河水发黑发臭，鱼都死了", "y, with comma"])
        w.writerow(["a4", "公交车经常甩站，司机态度差", ""])


def test_train_then_route_round_trip(tmp_path: Path) -> None:
    training = tmp_path / "train.csv"
    with training.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows())
    model = tmp_path / "router.joblib"
    done = run(
        "train-router",
        "--data",
        str(training),
        "--output",
        str(model),
        "--cv-folds",
        "3",
        data_dir=tmp_path / "data",
    )
    assert done.returncode == 0, done.stderr
    assert "cross-validated macro-F1" in done.stdout
    sidecar = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["messages"] == len(rows()) and sidecar["cv"]["folds"] == 3

    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write_input(source)
    done = run(
        "route",
        "--input",
        str(source),
        "--output",
        str(target),
        "--model",
        str(model),
        data_dir=tmp_path / "data",
    )
    assert done.returncode == 0, done.stderr
    assert "routed 3 of 4 rows" in done.stdout
    assert "1 row(s) without text (lines 3)" in done.stdout
    with target.open(encoding="utf-8", newline="") as f:
        out = list(csv.DictReader(f))
    assert list(out[0]) == ["id", "text", "note", "label", "confidence"]
    assert [r["id"] for r in out] == ["a1", "a2", "a3", "a4"]
    assert out[2]["note"] == "y, with comma"
    assert out[1]["label"] == "" and float(out[1]["confidence"]) == 0.0
    assert [out[i]["label"] for i in (0, 2, 3)] == ["城乡建设", "环境保护", "交通运输"]
    assert all(0.0 < float(out[i]["confidence"]) <= 1.0 for i in (0, 2, 3))


def test_route_without_a_saved_model_uses_the_fallback(tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write_input(source)
    done = run("route", "--input", str(source), "--output", str(target), data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "trained_from_fallback" in done.stdout + done.stderr
    assert target.exists()


def test_route_refuses_a_file_without_text(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,body\n1,hello\n", encoding="utf-8")
    done = run(
        "route", "--input", str(source), "--output", str(tmp_path / "o.csv"), data_dir=tmp_path
    )
    assert done.returncode == 2
    assert "no `text` column" in done.stderr
