"""Rotating the look-up (HMAC) key: every row moves to the new key, pseudonyms never change.

And both rotations survive being killed midway (``kill -9``) and resumed: every
personnummer stays readable and every look-up keeps working throughout.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from inuk.audit.models import Entry
from inuk.vault.files import store
from inuk.vault.keys import Keyring, KeyringError, add_lookup_key, add_version
from inuk.vault.models import Identity
from inuk.vault.pseudonymize import find, link, pseudonymize, reidentify
from inuk.vault.rotation import (
    rehash,
    rotate_lookup,
    under_previous_lookups,
    versions_in_use,
)
from tests.conftest import many_personnummer
from tests.intake.workers import worker_environment
from tests.vault.test_rotation import FILE, assert_everything_readable, fill_vault


def lookups() -> set[bytes]:
    return {bytes(lookup) for lookup in Identity.objects.values_list("lookup", flat=True)}


@pytest.mark.django_db(databases=["default", "vault"])
class TestRehash:
    def test_rehash_moves_every_row_to_the_new_key_and_pseudonyms_stay(
        self, keyring_text, settings, monkeypatch
    ):
        pseudonyms, corrected = fill_vault(monkeypatch)
        before = lookups()
        settings.INUK_VAULT_KEY = add_lookup_key(keyring_text)
        assert_everything_readable(pseudonyms, corrected)  # found under the previous key
        assert under_previous_lookups() == 31

        done = rehash(batch_size=7)

        assert (done.moved, done.current) == (31, 0)
        assert under_previous_lookups() == 0
        assert lookups().isdisjoint(before)
        ring = Keyring.parse(settings.INUK_VAULT_KEY)
        settings.INUK_VAULT_KEY = ring.without_previous_lookups().to_text()
        assert_everything_readable(pseudonyms, corrected)

    def test_during_a_rehash_a_known_person_keeps_its_pseudonym_and_is_not_duplicated(
        self, keyring_text, settings, monkeypatch
    ):
        pseudonyms, _ = fill_vault(monkeypatch)
        settings.INUK_VAULT_KEY = add_lookup_key(keyring_text)
        [newcomer] = many_personnummer(1, seed=23)

        again = pseudonymize([*pseudonyms, newcomer])

        assert {n: again[n] for n in pseudonyms} == pseudonyms
        assert Identity.objects.count() == 32
        [first, *_] = sorted(pseudonyms)
        [other] = many_personnummer(1, seed=24)
        assert link(first, other) == pseudonyms[first]
        assert rehash().moved == 31  # the newcomer and the link came under the new key

    def test_the_old_key_cannot_be_dropped_while_rows_are_under_it(
        self, keyring_text, settings, monkeypatch
    ):
        from django.core.management import CommandError, call_command

        fill_vault(monkeypatch)
        settings.INUK_VAULT_KEY = add_lookup_key(keyring_text)
        with pytest.raises(CommandError, match="rehash"):
            call_command("vault", "drop-previous-lookups", stdout=io.StringIO())

        call_command("vault", "rehash", stdout=io.StringIO())
        out = io.StringIO()
        call_command("vault", "drop-previous-lookups", stdout=out)
        assert "previous_lookups" not in json.loads(out.getvalue())
        assert Entry.objects.filter(event="vault.key_rotated", details__key="lookup").exists()

    def test_rotate_lookup_on_the_embedded_default_does_it_all(self, embedded, monkeypatch):
        pseudonyms, corrected = fill_vault(monkeypatch)
        before = json.loads((embedded / "vault-keys.json").read_text())

        done = rotate_lookup()

        after = json.loads((embedded / "vault-keys.json").read_text())
        assert done.moved == 31
        assert after["lookup"] != before["lookup"]
        assert "previous_lookups" not in after
        assert after["keys"] == before["keys"]
        assert_everything_readable(pseudonyms, corrected)

    def test_rotate_lookup_refuses_a_configured_keyring(self, keyring_text):
        with pytest.raises(KeyringError, match="add-lookup-key"):
            rotate_lookup()


# --- killed midway ---------------------------------------------------------------------


def run_vault(*args: str, keyring: str) -> subprocess.Popen:
    env = {**worker_environment(), "INUK_VAULT_KEY": keyring}
    env.pop("INUK_VAULT_KEY_FILE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "inuk", "vault", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_midway(process: subprocess.Popen, progress, total: int) -> int:
    """SIGKILL ``process`` once ``progress()`` is past 0; returns the progress at the kill."""
    deadline = time.monotonic() + 120
    while progress() == 0:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    done = progress()
    assert 0 < done < total, "the run finished before it could be interrupted"
    return done


def moved_rows(ring: Keyring) -> int:
    return Identity.objects.count() - under_previous_lookups(ring)


PEOPLE = 3000


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases=["default", "vault"])
def test_a_rehash_killed_midway_and_resumed_loses_nothing(keyring_text, settings):
    numbers = many_personnummer(PEOPLE, seed=31)
    pseudonyms = pseudonymize(numbers)
    settings.INUK_VAULT_KEY = add_lookup_key(keyring_text)
    ring = Keyring.parse(settings.INUK_VAULT_KEY)

    process = run_vault("rehash", "--batch-size", "5", keyring=settings.INUK_VAULT_KEY)
    kill_midway(process, lambda: moved_rows(ring), PEOPLE)

    # Half moved: every number still found and read back, under either key.
    for number in numbers[:: PEOPLE // 50]:
        assert find(number) == pseudonyms[number]
        assert reidentify(pseudonyms[number]) == [number]
    assert pseudonymize(numbers) == pseudonyms

    done = rehash()

    assert done.moved + done.current == PEOPLE and done.current > 0
    settings.INUK_VAULT_KEY = ring.without_previous_lookups().to_text()
    assert pseudonymize(numbers) == pseudonyms
    assert all(reidentify(pseudonyms[n]) == [n] for n in numbers)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases=["default", "vault"])
def test_a_reencryption_killed_midway_and_resumed_loses_nothing(keyring_text, settings):
    numbers = many_personnummer(PEOPLE, seed=32)
    pseudonyms = pseudonymize(numbers)
    store(7, io.BytesIO(FILE))
    settings.INUK_VAULT_KEY = add_version(keyring_text)

    process = run_vault("reencrypt", "--batch-size", "5", keyring=settings.INUK_VAULT_KEY)
    kill_midway(process, lambda: versions_in_use().get(2, 0), PEOPLE)

    assert pseudonymize(numbers) == pseudonyms
    from inuk.vault.rotation import reencrypt

    reencrypt()

    assert set(versions_in_use()) == {2}
    ring = Keyring.parse(settings.INUK_VAULT_KEY)
    settings.INUK_VAULT_KEY = Keyring(ring.lookup_key, {2: ring.keys[2]}, 2).to_text()
    assert pseudonymize(numbers) == pseudonyms
    assert all(reidentify(pseudonyms[n]) == [n] for n in numbers)
