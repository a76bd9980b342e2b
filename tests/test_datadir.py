"""The data directory is its owner's only, and keeps no upload a stopped process left."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from inuk import datadir
from tests.intake.workers import worker_environment


@pytest.mark.slow  # `inuk` run as a process
def test_a_new_data_directory_and_its_databases_are_readable_by_their_owner_only(tmp_path):
    root = tmp_path / "inuk-data"
    env = {k: v for k, v in worker_environment().items() if not k.startswith("INUK_")}
    env.update(INUK_DATA_DIR=str(root))
    opened = (
        "import django; django.setup(); from django.db import connections; "
        "[connections[alias].ensure_connection() for alias in ('default', 'vault')]"
    )
    subprocess.run(
        [sys.executable, "-c", opened],
        env={**env, "DJANGO_SETTINGS_MODULE": "inuk.settings"},
        check=True,
        preexec_fn=lambda: os.umask(0o022),  # the usual umask: new files readable by all
        timeout=60,
    )

    assert (root / "inuk.sqlite3").exists() and (root / "vault.sqlite3").exists()
    assert list(datadir.exposed(root)) == []
    assert (root.stat().st_mode & 0o777, (root / "uploads").stat().st_mode & 0o777) == (
        0o700,
        0o700,
    )


def test_the_system_check_names_a_file_others_can_read(tmp_path):
    leaked = Path(settings.DATA_DIR) / "copy-of-vault.sqlite3"
    leaked.write_bytes(b"")
    try:
        leaked.chmod(0o644)
        [warning] = datadir.data_directory_is_private(None)
        assert warning.id == "inuk.W004"
        assert str(leaked) in warning.msg

        leaked.chmod(0o600)
        assert all(str(leaked) not in w.msg for w in datadir.data_directory_is_private(None))
    finally:
        leaked.unlink()


def test_the_sweep_removes_uploads_left_behind_and_keeps_those_in_progress():
    uploads = Path(settings.FILE_UPLOAD_TEMP_DIR)
    left = uploads / "tmpleft.upload.xml"
    arriving = uploads / "tmparriving.upload.xml"
    for path in (left, arriving):
        path.write_bytes(b"<Leverans>")
    hours_ago = time.time() - 2 * datadir.LEFTOVER_SECONDS
    os.utime(left, (hours_ago, hours_ago))
    try:
        assert datadir.sweep() == 1
        assert not left.exists()
        assert arriving.exists()
    finally:
        arriving.unlink(missing_ok=True)
        left.unlink(missing_ok=True)
