"""What every benchmark shares: the machine description, the commit, and writing results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")


def machine() -> dict[str, Any]:
    import psutil

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": os.getloadavg(),
    }


def commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except Exception:
        return "unknown"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def write(name: str, result: dict[str, Any], markdown: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    data = {"benchmark": name, "date": stamp, "commit": commit(), "machine": machine(), **result}
    (RESULTS / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    header = (
        f"# Benchmark `{name}`\n\n- date: {stamp}\n- commit: {data['commit']}\n"
        f"- machine: {data['machine']['cores']} cores, {data['machine']['memory_gb']} GiB, "
        f"{data['machine']['platform']}, Python {data['machine']['python']}\n"
        f"- load average at start: {data['machine']['load_average_at_start']}\n\n"
    )
    path = RESULTS / f"{name}.md"
    path.write_text(header + markdown + "\n")
    return path
