"""Key rotation: a new key version, every stored value moved onto it, nothing lost."""

from __future__ import annotations

import io
import json
import os

import pytest
from django.db import transaction

from inuk.vault import files
from inuk.vault.files import open_file, store
from inuk.vault.keys import DecryptionError, Keyring, KeyringError, add_version, keyring
from inuk.vault.models import FileChunk, Identity
from inuk.vault.pseudonymize import find, link, pseudonymize, reidentify
from inuk.vault.rotation import reencrypt, rotate, versions_in_use
from tests.conftest import many_personnummer

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

FILE = b"<Leverans>" + os.urandom(1000).hex().encode() + b"</Leverans>"


def fill_vault(monkeypatch) -> tuple[dict[str, str], str]:
    monkeypatch.setattr("inuk.vault.files.CHUNK_BYTES", 64)
    numbers = many_personnummer(30, seed=21)
    pseudonyms = pseudonymize(numbers)
    [corrected] = many_personnummer(1, seed=22)
    link(numbers[0], corrected)
    store(7, io.BytesIO(FILE))
    return pseudonyms, corrected


def assert_everything_readable(pseudonyms: dict[str, str], corrected: str) -> None:
    for number, pseudonym in pseudonyms.items():
        assert find(number) == pseudonym
        assert number in reidentify(pseudonym)
    assert reidentify(pseudonyms[min(pseudonyms)])[-1] == corrected
    with open_file(7) as stream:
        assert stream.read() == FILE


def test_rotate_on_the_embedded_default_keeps_every_number_and_file_readable(embedded, monkeypatch):
    pseudonyms, corrected = fill_vault(monkeypatch)
    assert versions_in_use() == {1: 31 + FileChunk.objects.count()}

    done = rotate()

    assert done.version == 2
    assert done.identities == 31
    assert done.file_pieces == FileChunk.objects.count() > 1
    assert versions_in_use() == {2: 31 + FileChunk.objects.count()}
    stored = json.loads((embedded / "vault-keys.json").read_text())
    assert stored["current"] == 2
    assert set(stored["keys"]) == {"1", "2"}
    assert_everything_readable(pseudonyms, corrected)


def test_after_rotation_new_values_use_the_new_key_and_pseudonyms_stay(embedded, monkeypatch):
    pseudonyms, _ = fill_vault(monkeypatch)
    rotate()
    [newcomer] = many_personnummer(1, seed=23)
    again = pseudonymize([*pseudonyms, newcomer])
    assert {n: again[n] for n in pseudonyms} == pseudonyms
    assert Identity.objects.get(pseudonym=again[newcomer]).key_version == 2


def test_reencrypt_moves_values_to_the_current_version_so_the_old_key_can_go(
    keyring_text, settings, monkeypatch
):
    pseudonyms, corrected = fill_vault(monkeypatch)
    settings.INUK_VAULT_KEY = add_version(keyring_text)
    assert_everything_readable(pseudonyms, corrected)  # old values read with the old key

    done = reencrypt()

    assert (done.version, done.identities) == (2, 31)
    assert versions_in_use() == {2: 31 + FileChunk.objects.count()}
    ring = Keyring.parse(settings.INUK_VAULT_KEY)
    settings.INUK_VAULT_KEY = Keyring(ring.lookup_key, {2: ring.keys[2]}, 2).to_text()
    assert_everything_readable(pseudonyms, corrected)


def test_reencrypt_moves_pieces_waiting_in_staging_too(keyring_text, settings, monkeypatch):
    fill_vault(monkeypatch)
    content = b"<Leverans>replacement</Leverans>"
    files._write(5, files._staging(5), io.BytesIO(content))  # a replace cut short
    settings.INUK_VAULT_KEY = add_version(keyring_text)

    reencrypt()

    assert versions_in_use() == {2: 31 + FileChunk.objects.count()}
    with transaction.atomic(using="vault"):  # swapped in, they read under the new key
        FileChunk.objects.filter(delivery_id=5).delete()
        FileChunk.objects.filter(delivery_id=-5).update(delivery_id=5)
    with files.open_file(5) as stream:
        assert stream.read() == content


def test_reencrypt_again_has_nothing_to_do(keyring_text, settings, monkeypatch):
    fill_vault(monkeypatch)
    settings.INUK_VAULT_KEY = add_version(keyring_text)
    reencrypt()
    again = reencrypt()
    assert (again.identities, again.file_pieces) == (0, 0)


def test_rotate_refuses_a_configured_keyring_it_cannot_rewrite(keyring_text):
    with pytest.raises(KeyringError, match="add-key"):
        rotate()
    assert keyring().current == 1


def test_reencrypt_stops_at_a_tampered_value(keyring_text, settings, monkeypatch):
    fill_vault(monkeypatch)
    victim = Identity.objects.order_by("id").first()
    Identity.objects.filter(pk=victim.pk).update(pseudonym="f" * 32)
    settings.INUK_VAULT_KEY = add_version(keyring_text)
    with pytest.raises(DecryptionError, match=f"row {victim.pk}"):
        reencrypt(batch_size=5)
    assert not Identity.objects.filter(pk=victim.pk, key_version=2).exists()
