"""Backup and restore with the commands of docs/operations.md, run as written: the restored
service has the same receipts, state, statistics, kept files and a verifying audit chain."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deployment import cluster, files

pytestmark = [
    pytest.mark.slow,  # two pairs of databases, dumped and restored: tens of seconds
    pytest.mark.skipif(cluster.postgres_url() is None, reason="the backup is of PostgreSQL"),
]

OPERATIONS = cluster.ROOT / "docs" / "operations.md"
#: The rollups, and which municipalities have delivered for which months.
STATISTICS = ("stats_rollup", "stats_length", "stats_coverage")


def commands(marker: str) -> str:
    """The shell block that follows ``<!-- marker -->`` in docs/operations.md."""
    text = OPERATIONS.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker} -->\n```sh\n(.*?)```", text, re.DOTALL)
    assert found, f"no {marker} block in {OPERATIONS}"
    return found.group(1)


def run(block: str, env: dict[str, str]) -> None:
    path = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", block],
        env={**env, "PATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def statistics(dbs: cluster.Databases) -> dict[str, list[tuple]]:
    return {
        table: sorted(cluster.query(dbs.default, f"SELECT * FROM {table}")) for table in STATISTICS
    }


def test_a_backup_restored_into_fresh_databases_is_the_same_service(tmp_path):
    planned = files.plan(6, persons=5, per_person=3)
    directory = files.write(planned, tmp_path / "files")
    backup = {"BACKUP": str(tmp_path / "backup"), "KEYS": str(tmp_path / "keys")}

    with cluster.databases("backup") as dbs, cluster.databases("restored") as restored:
        env = cluster.environment(tmp_path / "data", dbs.urls)
        cluster.inside(env, "provision", *[item.kommunkod for item in planned])
        cluster.inside(env, "ingest", str(directory))
        before = cluster.contents(dbs)
        before_stats = statistics(dbs)
        before_files = cluster.inside(env, "files")
        assert before["ledger"] and any(before_stats.values()) and before_files

        run(commands("backup"), {**env, **backup})

        # Another machine: fresh databases, an empty data directory, the key file's place.
        data = tmp_path / "restored-data"
        there = {
            **env,
            **restored.urls,
            "INUK_DATA_DIR": str(data),
            "INUK_VAULT_KEY_FILE": str(data / "vault-keys.json"),
        }
        run(commands("restore"), {**there, **backup})  # ends with inuk audit verify

        assert cluster.contents(restored) == before
        assert statistics(restored) == before_stats
        assert cluster.inside(there, "files") == before_files
        assert before_files == {checksum: checksum for checksum in before_files}
        # The same pseudonyms, not just the same persons.
        pseudonyms = "SELECT pseudonym FROM ledger_person ORDER BY 1"
        assert cluster.query(restored.default, pseudonyms) == cluster.query(dbs.default, pseudonyms)
        verified = cluster.inuk(there, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
