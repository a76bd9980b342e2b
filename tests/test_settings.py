"""Configuration: every variable documented, bad values refused at start."""

import os
import re
import subprocess
import sys
from pathlib import Path

from inuk.conf import VARIABLES

DOCS = Path(__file__).resolve().parent.parent / "docs" / "operations.md"


def test_every_environment_variable_is_documented():
    documented = set(re.findall(r"`(INUK_[A-Z_]+)`", DOCS.read_text(encoding="utf-8")))
    assert set(VARIABLES) <= documented, set(VARIABLES) - documented


def test_the_documentation_names_no_variable_the_service_does_not_read():
    documented = set(re.findall(r"^\| `(INUK_[A-Z_]+)`", DOCS.read_text(encoding="utf-8"), re.M))
    assert documented <= set(VARIABLES), documented - set(VARIABLES)


def _settings_with(tmp_path, **env):
    environment = {**os.environ, "INUK_DATA_DIR": str(tmp_path), **env}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-c", "import inuk.settings"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_boolean_stops_the_service_naming_the_variable(tmp_path):
    result = _settings_with(tmp_path, INUK_DEBUG="maybe")
    assert result.returncode != 0
    assert "INUK_DEBUG must be true or false" in result.stderr


def test_a_bad_number_stops_the_service_naming_the_variable(tmp_path):
    result = _settings_with(tmp_path, INUK_MAX_DELIVERY_BYTES="lots")
    assert result.returncode != 0
    assert "INUK_MAX_DELIVERY_BYTES must be a whole number" in result.stderr


def test_a_due_day_not_in_every_month_is_refused(tmp_path):
    result = _settings_with(tmp_path, INUK_DELIVERY_DUE_DAY="30")
    assert result.returncode != 0
    assert "INUK_DELIVERY_DUE_DAY must be at most 28" in result.stderr


def test_an_unsupported_database_is_refused(tmp_path):
    result = _settings_with(tmp_path, INUK_DATABASE_URL="mysql://localhost/inuk")
    assert result.returncode != 0
    assert "only sqlite:// and postgres://" in result.stderr


def test_the_defaults_need_no_configuration(tmp_path):
    result = _settings_with(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret-key").exists()
