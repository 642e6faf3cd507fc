"""Every operation of the merged OpenAPI document, driven by schemathesis from the document
alone against the whole running system (`minsheng run` with demo data), as an anonymous caller
as the partners (requests signed by ``fuzz_hooks``) and as staff of several roles: no answer is
a server error, every answer — success or refusal — matches the status codes, headers, content
types and body schemas the document declares (so a refusal is in the documented error shape),
and a request that breaks the document's schema is refused.

The seed is fixed so that CI is repeatable; `MINSHENG_FUZZ_SEED=<n>` explores other inputs and
`MINSHENG_FUZZ_EXAMPLES=<n>` more of them (schemathesis prints how to replay any failure)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from minsheng.demo_load import DEMO_PASSWORD
from tests.livesystem import LiveSystem

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
ROOT = Path(__file__).resolve().parents[2]  # the hooks module is imported from here
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    )
)
# logging out or refreshing ends the token the run uses; TOTP enrolment changes how it signs in
SKIP = r"auth/(logout|refresh|totp)"
# what needs no staff token (citizens, partners, Open311) is driven by the anonymous run only
PUBLIC = r"^/(open311/|readyz|api/v1/(petitions|citizen/auth|hotline/|exchange/|notify/evaluations/link))"
ROLES = ("ba.officer1", "ba.registrar1", "sz.analyst", "admin")


@pytest.fixture(scope="module")
def tokens(live_system: LiveSystem) -> dict[str, str]:
    """The demo system's staff signed in before any run: a run that learns a username from an
    answer (``/auth/me``, the staff list) tries it at ``/auth/login`` with made-up passwords
    and so locks that account, as it should."""
    env = dict(os.environ)
    env.update(
        {
            "MINSHENG_DATABASE_URL": live_system.pg.url(),
            "MINSHENG_REDIS_URL": live_system.redis.url(),
            "MINSHENG_DATA_DIR": str(live_system.data_dir),
            "MINSHENG_ENV": "test",
        }
    )
    subprocess.run(
        [sys.executable, "-m", "minsheng.cli", "demo", "load", "--count", "40"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return {who: _token(live_system.base_url, who) for who in ROLES}


def _token(base: str, username: str) -> str:
    body = json.dumps({"username": username, "password": DEMO_PASSWORD}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/auth/login", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=20) as answer:
        return str(json.load(answer)["access_token"])


def _fuzz(
    base: str, headers: list[str], skip: str, partner_log: Path | None = None
) -> subprocess.CompletedProcess[str]:
    seed = os.environ.get("MINSHENG_FUZZ_SEED", "20261207")
    examples = os.environ.get("MINSHENG_FUZZ_EXAMPLES", "6")
    command = [str(SCHEMATHESIS), "run", f"{base}/openapi.json", "--checks", CHECKS]
    command += ["--max-examples", examples, "--seed", seed, "--workers", "1"]
    command += ["--phases", "examples,coverage,fuzzing", "--request-timeout", "60"]
    command += ["--exclude-path-regex", skip, "--no-color", "--generation-database", "none"]
    for header in headers:
        command += ["-H", header]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_hooks"}
    if partner_log is not None:
        env["MINSHENG_FUZZ_PARTNER_LOG"] = str(partner_log)
    return subprocess.run(command, capture_output=True, text=True, timeout=900, env=env, cwd=ROOT)


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
def test_every_operation_answers_as_documented(
    live_system: LiveSystem, tokens: dict[str, str], who: str, tmp_path: Path
) -> None:
    partner_log = tmp_path / "partner-statuses"
    if who == "anonymous":
        run = _fuzz(live_system.base_url, [], SKIP, partner_log)
        statuses = partner_log.read_text().split()
        # the signed requests reached validation and storage, not only the signature check
        assert {"200", "201", "422"} & set(statuses), statuses[:50]
    else:
        bearer = f"Authorization: Bearer {tokens[who]}"
        run = _fuzz(live_system.base_url, [bearer], f"{SKIP}|{PUBLIC}")
    summary = run.stdout[run.stdout.find("SUMMARY") :]
    assert "Tested:" in summary, run.stdout[-3000:] + run.stderr[-2000:]  # it really ran
    assert run.returncode == 0, run.stdout[-12000:]
