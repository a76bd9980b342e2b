"""Configuration: every variable documented, bad values refused at start."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.slow  # the settings read in a Python process of their own
def test_a_bad_boolean_stops_the_service_naming_the_variable(tmp_path):
    result = _settings_with(tmp_path, INUK_DEBUG="maybe")
    assert result.returncode != 0
    assert "INUK_DEBUG must be true or false" in result.stderr


@pytest.mark.slow  # the settings read in a Python process of their own
def test_a_bad_number_stops_the_service_naming_the_variable(tmp_path):
    result = _settings_with(tmp_path, INUK_MAX_DELIVERY_BYTES="lots")
    assert result.returncode != 0
    assert "INUK_MAX_DELIVERY_BYTES must be a whole number" in result.stderr


@pytest.mark.slow  # the settings read in a Python process of their own
def test_a_due_day_not_in_every_month_is_refused(tmp_path):
    result = _settings_with(tmp_path, INUK_DELIVERY_DUE_DAY="30")
    assert result.returncode != 0
    assert "INUK_DELIVERY_DUE_DAY must be at most 28" in result.stderr


@pytest.mark.slow  # the settings read in a Python process of their own
def test_an_unsupported_database_is_refused(tmp_path):
    result = _settings_with(tmp_path, INUK_DATABASE_URL="mysql://localhost/inuk")
    assert result.returncode != 0
    assert "only sqlite:// and postgres://" in result.stderr


@pytest.mark.slow  # the settings read in a Python process of their own
def test_the_defaults_need_no_configuration(tmp_path):
    result = _settings_with(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret-key").exists()


def _setting(tmp_path, name: str, **env) -> str:
    environment = {**os.environ, "INUK_DATA_DIR": str(tmp_path), **env}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", f"import inuk.settings as s; print(getattr(s, {name!r}, None))"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.slow  # the settings read in a Python process of their own
def test_secure_cookies_alone_do_not_make_the_proxys_https_header_believed(tmp_path):
    assert _setting(tmp_path, "SECURE_PROXY_SSL_HEADER", INUK_SECURE_COOKIES="true") == "None"


@pytest.mark.slow  # the settings read in a Python process of their own
def test_the_proxys_https_header_is_named_by_its_own_setting(tmp_path):
    header = _setting(
        tmp_path, "SECURE_PROXY_SSL_HEADER", INUK_PROXY_HTTPS_HEADER="X-Forwarded-Proto"
    )
    assert header == "('HTTP_X_FORWARDED_PROTO', 'https')"


@pytest.mark.slow  # the settings read in a Python process of their own
def test_a_trusted_proxy_that_is_not_an_address_stops_the_service(tmp_path):
    result = _settings_with(tmp_path, INUK_TRUSTED_PROXY="proxy.example.se")
    assert result.returncode != 0
    assert "INUK_TRUSTED_PROXY must list IP addresses or networks" in result.stderr


def _production_environment() -> dict[str, str]:
    """The environment the operations guide gives for production, as it stands there."""
    section = DOCS.read_text(encoding="utf-8").split("## Production", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the operations guide shows the production environment"
    return dict(line.split("=", 1) for line in block[1].splitlines() if line.strip())


@pytest.mark.slow  # the settings read in a Python process of their own
def test_with_the_documented_production_settings_the_deploy_check_reports_nothing(tmp_path):
    from inuk.vault.keys import generate

    production = _production_environment()
    # The key files the platform would mount, made up here.
    secrets = {
        "INUK_VAULT_KEY_FILE": generate(),
        "INUK_AUDIT_KEY_FILE": "audit-" + "k" * 20 + os.urandom(16).hex(),
        "INUK_SECRET_KEY_FILE": os.urandom(40).hex(),
    }
    for name, value in secrets.items():
        assert name in production
        (tmp_path / name).write_text(value, encoding="utf-8")
        production[name] = str(tmp_path / name)
    production["INUK_DATA_DIR"] = str(tmp_path / "data")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("INUK_", "DJANGO_"))}
    result = subprocess.run(
        [sys.executable, "-m", "inuk", "check", "--deploy", "--fail-level", "DEBUG"],
        env={**environment, **production},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "identified no issues" in result.stdout
