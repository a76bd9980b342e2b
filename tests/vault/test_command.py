"""``inuk vault``: a new keyring, a new key version, rotation and status from the command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from inuk.vault.files import store
from inuk.vault.keys import Keyring
from inuk.vault.pseudonymize import pseudonymize
from tests.conftest import many_personnummer

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("vault", *args, stdout=out)
    return out.getvalue()


def test_new_keyring_prints_a_keyring_that_reads_back():
    ring = Keyring.parse(run("new-keyring"))
    assert ring.current == 1


def test_add_key_prints_the_keyring_in_use_with_a_new_current_version(keyring_text):
    ring = Keyring.parse(run("add-key"))
    assert ring.current == 2
    assert ring.keys[1] == Keyring.parse(keyring_text).keys[1]


def test_status_counts_the_values_under_each_key_version(keyring_text):
    pseudonymize(many_personnummer(3))
    store(7, io.BytesIO(b"file"))
    out = run("status")
    assert "current key version: 1" in out
    assert "values under version 1: 4" in out


def test_reencrypt_reports_what_it_moved(keyring_text, settings):
    pseudonymize(many_personnummer(3))
    settings.INUK_VAULT_KEY = run("add-key")
    assert "re-encrypted 3 personnummer and 0 file pieces with key version 2" in run("reencrypt")


def test_rotate_with_a_configured_keyring_is_refused_with_the_steps_to_take(keyring_text):
    with pytest.raises(CommandError, match="add-key"):
        run("rotate")


def test_rotate_on_the_embedded_default_rotates(embedded):
    pseudonymize(many_personnummer(2))
    assert "with key version 2" in run("rotate")
    assert "current key version: 2" in run("status")
