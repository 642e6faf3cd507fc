"""What every benchmark shares: the machine description, the commit, and writing results."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")

# wrk (C, Debian package `wrk`): a load generator that leaves the two cores to the server
# and PostgreSQL, as clients on other machines would; None when it is not installed
WRK = shutil.which("wrk")
_WRK_LINE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(out: str, seconds: float) -> dict[str, Any]:
    """Requests, errors, rate and the 50th / 99th latency percentiles of wrk's ``--latency``
    report."""
    got: dict[str, Any] = {"errors": 0}
    for line in out.splitlines():
        if m := _WRK_LINE.match(line):
            got[f"p{m.group(1)}_ms"] = round(float(m.group(2)) * _UNIT_MS[m.group(3)], 2)
        elif m := re.match(r"^\s*(\d+) requests in", line):
            got["requests"] = int(m.group(1))
        elif m := re.match(r"^\s*Non-2xx or 3xx responses: (\d+)", line):
            got["errors"] += int(m.group(1))
        elif m := re.match(r"^\s*Socket errors: (.*)", line):
            got["errors"] += sum(int(x) for x in re.findall(r"\d+", m.group(1)))
    got["per_s"] = round(got["requests"] / seconds, 1)
    return got


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
