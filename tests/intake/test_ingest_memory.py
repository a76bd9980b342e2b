"""Ingesting a hostile delivery stays within SPEC's memory bound for ingest.

``inuk ingest`` runs in a fresh process on a fresh data directory (SQLite),
as an administrator runs it, and its peak memory is read from the kernel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from inuk.format import hostile

pytestmark = pytest.mark.slow

#: SPEC's bound for an ingest.
INGEST_MB = 300


def inuk(env: dict, *args: str) -> subprocess.CompletedProcess:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent (pytest).
    script = textwrap.dedent(f"""
        import re, sys
        from inuk.cli import main
        try:
            main({list(args)!r})
        except SystemExit as exit:
            code = exit.code or 0
        else:
            code = 0
        status = open("/proc/self/status").read()
        peak_kib = int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1))
        print("peak", code, peak_kib // 1024, file=sys.stderr)
    """)
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """A fresh data directory with Upplands Väsby's agreement in force."""
    folder = tmp_path_factory.mktemp("service")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INUK_", "DJANGO_"))}
    env["INUK_DATA_DIR"] = str(folder / "data")
    result = inuk(
        env,
        "agreement",
        "add",
        "--org",
        hostile.ORGNR,
        "--signed-af",
        "2020-01-01",
        "--signed-municipality",
        "2020-01-01",
    )
    assert "peak 0" in result.stderr, result.stderr[-2000:]
    return env, folder


@pytest.mark.parametrize("kind", ["xml-unknown", "xml-person", "csv-row", "json-person"])
def test_ingesting_a_hostile_file_stays_within_the_bound(service, kind):
    env, folder = service
    path = folder / f"{kind}.{kind.split('-')[0]}"
    with open(path, "wb") as out:
        hostile.write(kind, out, 40_000_000)

    result = inuk(env, "ingest", str(path), "--org", hostile.ORGNR, "--json")
    code, peak_mb = result.stderr.rsplit("peak", 1)[-1].split()
    receipt = json.loads(result.stdout)

    assert int(code) in (0, 1, 2), result.stderr[-2000:]  # 2: refused
    assert receipt["status"] == ("applied" if kind == "xml-unknown" else "refused")
    assert int(peak_mb) < INGEST_MB
