"""The system checks that stop a deployment with a misplaced vault or a missing key."""

from __future__ import annotations

import json

import pytest
from django.core import checks
from django.test import override_settings

from inuk.vault.checks import vault_database_is_separate, vault_key_is_usable
from inuk.vault.keys import generate

pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")

SQLITE = "django.db.backends.sqlite3"
POSTGRES = "django.db.backends.postgresql"


def sqlite(tmp_path, stats="inuk.sqlite3", vault="vault.sqlite3") -> dict:
    return {
        "default": {"ENGINE": SQLITE, "NAME": str(tmp_path / stats)},
        "vault": {"ENGINE": SQLITE, "NAME": str(tmp_path / vault)},
    }


def postgres(stats_user="inuk", vault_user="inuk_vault", vault_name="inuk_vault") -> dict:
    return {
        "default": {"ENGINE": POSTGRES, "NAME": "inuk", "USER": stats_user, "HOST": "db"},
        "vault": {"ENGINE": POSTGRES, "NAME": vault_name, "USER": vault_user, "HOST": "db"},
    }


def ids(messages: list[checks.CheckMessage]) -> list[str]:
    return [message.id for message in messages]


def test_the_checks_are_registered():
    registered = checks.registry.registry.get_checks()
    assert vault_database_is_separate in registered
    assert vault_key_is_usable in registered


def test_separate_sqlite_files_pass(tmp_path):
    with override_settings(DATABASES=sqlite(tmp_path)):
        assert vault_database_is_separate(None) == []


def test_the_vault_in_the_statistics_sqlite_file_is_an_error(tmp_path):
    with override_settings(DATABASES=sqlite(tmp_path, vault="inuk.sqlite3")):
        assert ids(vault_database_is_separate(None)) == ["inuk.E002"]


def test_the_same_sqlite_file_by_another_path_is_an_error(tmp_path):
    (tmp_path / "sub").mkdir()
    with override_settings(DATABASES=sqlite(tmp_path, vault="sub/../inuk.sqlite3")):
        assert ids(vault_database_is_separate(None)) == ["inuk.E002"]


def test_the_vault_in_the_statistics_postgresql_database_is_an_error():
    with override_settings(DATABASES=postgres(vault_name="inuk")):
        [error] = vault_database_is_separate(None)
    assert error.id == "inuk.E002"
    assert "INUK_VAULT_DATABASE_URL" in error.hint


def test_no_vault_database_is_an_error(tmp_path):
    with override_settings(DATABASES={"default": sqlite(tmp_path)["default"]}):
        assert ids(vault_database_is_separate(None)) == ["inuk.E001"]


def test_separate_postgresql_databases_and_roles_pass():
    with override_settings(DATABASES=postgres()):
        assert vault_database_is_separate(None) == []


def test_the_same_postgresql_role_for_both_is_a_warning():
    with override_settings(DATABASES=postgres(vault_user="inuk")):
        assert ids(vault_database_is_separate(None)) == ["inuk.W002"]


def test_postgresql_without_a_vault_key_is_an_error_with_a_hint(tmp_path):
    with override_settings(DATABASES=postgres(), INUK_VAULT_KEY=None, DATA_DIR=tmp_path):
        [error] = vault_key_is_usable(None)
    assert error.id == "inuk.E003"
    assert "INUK_VAULT_KEY" in error.msg
    assert "INUK_VAULT_KEY_FILE" in error.hint


def test_one_postgresql_database_is_enough_to_require_a_vault_key(tmp_path):
    databases = {**sqlite(tmp_path), "default": postgres()["default"]}
    with override_settings(DATABASES=databases, INUK_VAULT_KEY=None, DATA_DIR=tmp_path):
        assert ids(vault_key_is_usable(None)) == ["inuk.E003"]


def test_postgresql_with_a_vault_key_passes(tmp_path):
    with override_settings(DATABASES=postgres(), INUK_VAULT_KEY=generate(), DATA_DIR=tmp_path):
        assert vault_key_is_usable(None) == []


def test_the_embedded_default_needs_no_vault_key(tmp_path):
    with override_settings(DATABASES=sqlite(tmp_path), INUK_VAULT_KEY=None, DATA_DIR=tmp_path):
        assert vault_key_is_usable(None) == []
    assert not (tmp_path / "vault-keys.json").exists()  # a check creates nothing


@pytest.mark.parametrize("databases", ["sqlite", "postgres"])
def test_a_malformed_vault_key_is_always_an_error_that_hides_the_key(tmp_path, databases):
    secret = "c2VjcmV0LWJ1dC10b28tc2hvcnQ="
    malformed = json.dumps({"lookup": secret, "keys": {"1": secret}, "current": 1})
    chosen = sqlite(tmp_path) if databases == "sqlite" else postgres()
    with override_settings(DATABASES=chosen, INUK_VAULT_KEY=malformed, DATA_DIR=tmp_path):
        [error] = vault_key_is_usable(None)
    assert error.id == "inuk.E003"
    assert "malformed" in error.msg
    assert secret not in error.msg
    assert secret not in (error.hint or "")


def test_a_malformed_embedded_key_file_is_an_error(tmp_path):
    (tmp_path / "vault-keys.json").write_text("{not json")
    with override_settings(DATABASES=sqlite(tmp_path), INUK_VAULT_KEY=None, DATA_DIR=tmp_path):
        assert ids(vault_key_is_usable(None)) == ["inuk.E003"]


def test_an_embedded_key_file_others_can_read_is_a_warning(tmp_path):
    path = tmp_path / "vault-keys.json"
    path.write_text(generate())
    path.chmod(0o644)
    with override_settings(DATABASES=sqlite(tmp_path), INUK_VAULT_KEY=None, DATA_DIR=tmp_path):
        assert ids(vault_key_is_usable(None)) == ["inuk.W003"]
        path.chmod(0o600)
        assert vault_key_is_usable(None) == []
