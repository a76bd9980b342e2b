"""The WSGI application is ready before its first request."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_the_application_loads_every_view_before_its_first_request(tmp_path):
    probe = (
        "import sys, inuk.wsgi; "
        "print('inuk.api.api' in sys.modules, 'inuk.stats.views' in sys.modules)"
    )
    env = {
        **os.environ,
        "INUK_DATA_DIR": str(tmp_path),
        "INUK_DATABASE_URL": "",
        "INUK_VAULT_DATABASE_URL": "",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
