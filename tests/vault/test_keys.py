"""The vault's keyring: its text format, the embedded key file, and what it refuses."""

from __future__ import annotations

import base64
import json
import logging
import stat
import threading

import pytest
from django.test import override_settings

from inuk.vault import keys
from inuk.vault.keys import DecryptionError, Keyring, KeyringError, add_version, generate, keyring

POSTGRES = {
    "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "inuk", "USER": "inuk"},
    "vault": {"ENGINE": "django.db.backends.postgresql", "NAME": "vault", "USER": "vault"},
}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_a_generated_keyring_reads_back_with_32_byte_keys():
    ring = Keyring.parse(generate())
    assert ring.current == 1
    assert len(ring.lookup_key) == 32
    assert list(ring.keys) == [1]
    assert len(ring.keys[1]) == 32
    assert Keyring.parse(ring.to_text()).keys == ring.keys


def test_two_generated_keyrings_share_no_key():
    first, second = Keyring.parse(generate()), Keyring.parse(generate())
    assert first.lookup_key != second.lookup_key
    assert first.keys[1] != second.keys[1]


def test_adding_a_version_keeps_the_old_keys_and_makes_the_new_one_current():
    text = generate()
    ring = Keyring.parse(add_version(text))
    assert ring.current == 2
    assert ring.keys[1] == Keyring.parse(text).keys[1]
    assert ring.lookup_key == Keyring.parse(text).lookup_key
    assert ring.keys[2] != ring.keys[1]


def test_a_value_encrypted_under_an_old_version_still_decrypts_after_adding_one():
    old = Keyring.parse(generate())
    version, blob = old.encrypt(b"secret", b"place")
    new = old.with_new_version()
    assert new.decrypt(blob, b"place", version) == b"secret"
    assert new.encrypt(b"secret", b"place")[0] == 2


def test_a_value_decrypts_only_in_its_own_context_and_version():
    ring = Keyring.parse(add_version(generate()))
    version, blob = ring.encrypt(b"secret", b"place")
    with pytest.raises(DecryptionError):
        ring.decrypt(blob, b"another place", version)
    with pytest.raises(DecryptionError):
        ring.decrypt(blob, b"place", 1)
    with pytest.raises(DecryptionError):
        ring.decrypt(blob[:-1] + bytes([blob[-1] ^ 1]), b"place", version)


def test_each_encryption_uses_a_fresh_nonce():
    ring = Keyring.parse(generate())
    blobs = {ring.encrypt(b"199001012389", b"place")[1] for _ in range(100)}
    assert len(blobs) == 100
    assert len({blob[:12] for blob in blobs}) == 100


def test_the_lookup_is_keyed():
    first, second = Keyring.parse(generate()), Keyring.parse(generate())
    assert first.lookup("199001012389") == first.lookup("199001012389")
    assert first.lookup("199001012389") != second.lookup("199001012389")
    assert len(first.lookup("199001012389")) == 32


def test_the_repr_of_a_keyring_shows_no_key():
    ring = Keyring.parse(generate())
    shown = repr(ring)
    for key in (ring.lookup_key, *ring.keys.values()):
        assert _b64(key) not in shown
        assert repr(key) not in shown


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        json.dumps({"lookup": _b64(b"l" * 32), "keys": {"1": _b64(b"k" * 32)}}),
        json.dumps({"lookup": _b64(b"l" * 32), "keys": {"1": _b64(b"k" * 32)}, "current": 2}),
        json.dumps({"lookup": _b64(b"l" * 16), "keys": {"1": _b64(b"k" * 32)}, "current": 1}),
        json.dumps({"lookup": _b64(b"l" * 32), "keys": {"1": _b64(b"k" * 31)}, "current": 1}),
        json.dumps({"lookup": _b64(b"l" * 32), "keys": {"1": "not base64!"}, "current": 1}),
        json.dumps({"lookup": _b64(b"l" * 32), "keys": {"one": _b64(b"k" * 32)}, "current": 1}),
        json.dumps({"lookup": _b64(b"l" * 32), "keys": {"0": _b64(b"k" * 32)}, "current": 0}),
        json.dumps({"lookup": _b64(b"l" * 32), "keys": {}, "current": 1}),
        json.dumps({"lookup": _b64(b"l" * 32), "keys": {"1": _b64(b"k" * 32)}, "current": "1"}),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "no-current",
        "current-missing",
        "short-lookup",
        "short-key",
        "bad-base64",
        "version-not-a-number",
        "version-zero",
        "no-keys",
        "current-not-a-number",
    ],
)
def test_a_malformed_keyring_is_refused(text):
    with pytest.raises(KeyringError):
        Keyring.parse(text)


def test_the_refusal_of_a_malformed_keyring_does_not_show_the_keys():
    lookup = _b64(b"L" * 32)
    text = json.dumps({"lookup": lookup, "keys": {"1": _b64(b"K" * 31)}, "current": 1})
    with pytest.raises(KeyringError) as refused:
        Keyring.parse(text)
    assert lookup not in str(refused.value)
    assert _b64(b"K" * 31) not in str(refused.value)


def test_the_configured_keyring_is_used(keyring_text):
    assert keyring().lookup_key == Keyring.parse(keyring_text).lookup_key


def test_the_embedded_default_creates_a_private_key_file_and_warns(embedded, caplog):
    with caplog.at_level(logging.WARNING, logger="inuk.vault.keys"):
        ring = keyring()
    path = embedded / "vault-keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Keyring.parse(path.read_text()).lookup_key == ring.lookup_key
    warning = " ".join(record.getMessage() for record in caplog.records)
    assert "Keep it safe" in warning
    assert "INUK_VAULT_KEY" in warning
    assert _b64(ring.lookup_key) not in warning


def test_the_embedded_key_file_is_created_once(embedded, caplog):
    first = keyring()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="inuk.vault.keys"):
        second = keyring()
    assert second.lookup_key == first.lookup_key
    assert caplog.records == []


def test_no_key_file_is_created_when_a_keyring_is_configured(keyring_text, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    keyring()
    assert not (tmp_path / "vault-keys.json").exists()


def test_a_malformed_key_file_is_refused_not_replaced(embedded):
    (embedded / "vault-keys.json").write_text("{}")
    with pytest.raises(KeyringError):
        keyring()
    assert (embedded / "vault-keys.json").read_text() == "{}"


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_without_a_keyring_a_postgresql_deployment_is_refused(tmp_path):
    with (
        override_settings(INUK_VAULT_KEY=None, DATA_DIR=tmp_path, DATABASES=POSTGRES),
        pytest.raises(KeyringError, match="INUK_VAULT_KEY"),
    ):
        keys.keyring()
    assert not (tmp_path / "vault-keys.json").exists()


def test_first_uses_at_the_same_time_share_one_embedded_key_file(embedded):
    start = threading.Barrier(8)
    rings: list[Keyring] = []

    def first_use() -> None:
        start.wait(timeout=30)
        rings.append(keyring())

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(rings) == 8
    assert len({ring.lookup_key for ring in rings}) == 1
    assert [path.name for path in embedded.iterdir()] == ["vault-keys.json"]
