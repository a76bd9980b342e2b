"""The vault's keyring: one look-up key and versioned encryption keys.

The keys never live in a database. A deployment passes the keyring in
``INUK_VAULT_KEY`` (or a file named by ``INUK_VAULT_KEY_FILE``) as JSON::

    {"lookup": "<base64, 32 bytes>", "keys": {"1": "<base64, 32 bytes>"}, "current": 1}

``lookup`` keys the HMAC-SHA-256 that finds a personnummer's row. ``keys`` are
AES-256-GCM keys by version: new values are encrypted under ``current``, and
older versions stay in the keyring until ``rotation.reencrypt()`` has moved
every row off them.

The look-up key rotates too: a new one becomes ``lookup`` and the one before
moves to the optional ``"previous_lookups"`` list. New rows are found and
written under ``lookup``; a row not yet moved is still found under a previous
key, until ``rotation.rehash()`` has moved every row and the list can be
emptied. A pseudonym never changes on the way.

The embedded default (SQLite, no ``INUK_VAULT_KEY``) creates ``vault-keys.json``
in the data directory on first use. A deployment on PostgreSQL must bring its
own keyring: several machines each inventing a key would give one person
several pseudonyms, so there it is an error (system check ``inuk.E003``).

Nothing here puts key material into a message or a ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_FILE_NAME = "vault-keys.json"


class KeyringError(ImproperlyConfigured):
    """The keyring is missing or malformed. The message never holds key material."""


class DecryptionError(Exception):
    """A stored value failed authentication: altered, moved, or under a key not in the keyring."""


@dataclass(frozen=True, eq=False)
class Keyring:
    lookup_key: bytes = field(repr=False)
    keys: dict[int, bytes] = field(repr=False)
    current: int
    #: Look-up keys before ``lookup_key``, newest first: rows not yet re-hashed.
    previous_lookup_keys: tuple[bytes, ...] = field(default=(), repr=False)
    _ciphers: dict[int, AESGCM] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for lookup_key in (self.lookup_key, *self.previous_lookup_keys):
            if len(lookup_key) != KEY_BYTES:
                raise KeyringError(f"the vault's look-up keys must be {KEY_BYTES} bytes")
        if not self.keys:
            raise KeyringError("the vault's keyring holds no encryption key")
        for version, key in self.keys.items():
            if not isinstance(version, int) or version < 1:
                raise KeyringError("the vault's key versions must be whole numbers from 1")
            if len(key) != KEY_BYTES:
                raise KeyringError(
                    f"the vault's encryption key {version} must be {KEY_BYTES} bytes"
                )
        if self.current not in self.keys:
            raise KeyringError(
                f"the vault's keyring has no key for its current version {self.current}"
            )
        object.__setattr__(self, "_ciphers", {v: AESGCM(k) for v, k in self.keys.items()})

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """Read the JSON text format; a ``KeyringError`` says what is wrong, never what it holds."""
        try:
            data = json.loads(text)
        except ValueError:
            raise KeyringError("the vault's keyring is not valid JSON") from None
        if not isinstance(data, dict) or not {"lookup", "keys", "current"} <= data.keys():
            raise KeyringError(
                'the vault\'s keyring must be a JSON object with "lookup", "keys" and "current"'
            )
        keys, current = data["keys"], data["current"]
        if not isinstance(keys, dict):
            raise KeyringError('the vault\'s keyring: "keys" must map versions to keys')
        if isinstance(current, bool) or not isinstance(current, int):
            raise KeyringError('the vault\'s keyring: "current" must be a whole number')
        versions: dict[int, bytes] = {}
        for version, key in keys.items():
            if not (isinstance(version, str) and version.isascii() and version.isdigit()):
                raise KeyringError("the vault's key versions must be whole numbers from 1")
            versions[int(version)] = _decode(key, f"encryption key {version}")
        previous = data.get("previous_lookups", [])
        if not isinstance(previous, list):
            raise KeyringError('the vault\'s keyring: "previous_lookups" must be a list of keys')
        return cls(
            _decode(data["lookup"], "look-up key"),
            versions,
            current,
            tuple(_decode(key, "previous look-up key") for key in previous),
        )

    def to_text(self) -> str:
        data: dict = {
            "lookup": _encode(self.lookup_key),
            "keys": {str(v): _encode(k) for v, k in sorted(self.keys.items())},
            "current": self.current,
        }
        if self.previous_lookup_keys:
            data["previous_lookups"] = [_encode(k) for k in self.previous_lookup_keys]
        return json.dumps(data)

    def with_new_version(self) -> Keyring:
        """This keyring plus a fresh encryption key, which becomes the current one."""
        version = max(self.keys) + 1
        return Keyring(
            self.lookup_key, {**self.keys, version: _new_key()}, version, self.previous_lookup_keys
        )

    def with_new_lookup(self) -> Keyring:
        """This keyring with a fresh look-up key; the current one joins the previous ones."""
        return Keyring(
            _new_key(), self.keys, self.current, (self.lookup_key, *self.previous_lookup_keys)
        )

    def without_previous_lookups(self) -> Keyring:
        """This keyring without its previous look-up keys: once no row is under one."""
        return Keyring(self.lookup_key, self.keys, self.current)

    def lookup(self, personnummer: str) -> bytes:
        """The keyed hash that finds a personnummer's row (32 bytes)."""
        return hmac.digest(self.lookup_key, personnummer.encode("ascii"), "sha256")

    def previous_lookups(self, personnummer: str) -> list[bytes]:
        """The personnummer's look-ups under the previous look-up keys, newest first."""
        number = personnummer.encode("ascii")
        return [hmac.digest(key, number, "sha256") for key in self.previous_lookup_keys]

    def matches(self, personnummer: str, lookup: bytes) -> bool:
        """Whether ``lookup`` is the personnummer's look-up under any key of the keyring."""
        candidates = [self.lookup(personnummer), *self.previous_lookups(personnummer)]
        return any(hmac.compare_digest(candidate, lookup) for candidate in candidates)

    def encrypt(self, plaintext: bytes, context: bytes) -> tuple[int, bytes]:
        """Encrypt under the current key; returns (key version, nonce + ciphertext + tag).

        ``context`` says where the value belongs; with the key version it is the
        associated data, so the value decrypts only in the same place. Nonces
        are random: safe for far more values than a vault holds between rotations.
        """
        version = self.current
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[version].encrypt(nonce, plaintext, _associated(context, version))
        return version, nonce + sealed

    def decrypt(self, blob: bytes, context: bytes, version: int) -> bytes:
        cipher = self._ciphers.get(version)
        if cipher is None:
            raise DecryptionError(f"encryption key version {version} is not in the keyring")
        try:
            return cipher.decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], _associated(context, version)
            )
        except Exception:  # InvalidTag, or a blob too short to hold a nonce and tag
            raise DecryptionError("a stored value failed authentication") from None


def _associated(context: bytes, version: int) -> bytes:
    return context + b"\x00v" + version.to_bytes(4, "big")


def _new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _encode(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def _decode(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise KeyringError(f"the vault's {name} must be a base64 string")
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"the vault's {name} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyringError(f"the vault's {name} must be {KEY_BYTES} bytes")
    return key


def generate() -> str:
    """The text of a new keyring: a look-up key and encryption key version 1."""
    return Keyring(_new_key(), {1: _new_key()}, 1).to_text()


def add_version(text: str) -> str:
    """The keyring ``text`` plus a new encryption key as the current version.

    The first step of a rotation (``inuk.vault.rotation``).
    """
    return Keyring.parse(text).with_new_version().to_text()


def add_lookup_key(text: str) -> str:
    """The keyring ``text`` with a new look-up key; the first step of its rotation."""
    return Keyring.parse(text).with_new_lookup().to_text()


def is_configured() -> bool:
    """Whether the deployment brings its own keyring (``INUK_VAULT_KEY`` or ``..._FILE``)."""
    return bool(getattr(settings, "INUK_VAULT_KEY", None))


def is_embedded() -> bool:
    """Whether this is the embedded default: no database is PostgreSQL."""
    return not any("postgresql" in db.get("ENGINE", "") for db in settings.DATABASES.values())


def key_file() -> Path:
    return Path(settings.DATA_DIR) / KEY_FILE_NAME


def keyring() -> Keyring:
    """The deployment's keyring.

    Raises ``KeyringError`` when it is malformed, or missing outside the
    embedded default.
    """
    if is_configured():
        return _parsed(settings.INUK_VAULT_KEY)
    if not is_embedded():
        raise KeyringError(
            "INUK_VAULT_KEY is not set: a deployment on PostgreSQL must bring the vault's keyring"
        )
    path = key_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = _create_key_file(path)
    # Read on every use rather than cached, so that all processes of an
    # embedded deployment see a rotation at once.
    return _parsed(text)


@lru_cache(maxsize=8)
def _parsed(text: str) -> Keyring:
    return Keyring.parse(text)


def _create_key_file(path: Path) -> str:
    """Create the embedded key file atomically; if another process wins the race, use its file."""
    text = generate()
    tmp = _write_private(path.parent, text)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return path.read_text(encoding="utf-8")
    finally:
        tmp.unlink()
    log.warning(
        "Created the identity vault's key file %s. Keep it safe, and back it up apart from "
        "the vault database's backups: without it no personnummer in the vault can be read. "
        "In production set INUK_VAULT_KEY or INUK_VAULT_KEY_FILE instead. / Skapade "
        "identitetsvalvets nyckelfil %s. Förvara den säkert och säkerhetskopiera den skild från "
        "valvdatabasens säkerhetskopior: utan den går inga personnummer i valvet att läsa. "
        "Sätt INUK_VAULT_KEY eller INUK_VAULT_KEY_FILE i drift.",
        path,
        path,
    )
    return text


def replace_key_file(text: str) -> None:
    """Replace the embedded key file atomically with ``text`` (a valid keyring)."""
    Keyring.parse(text)
    path = key_file()
    os.replace(_write_private(path.parent, text), path)


def _write_private(directory: Path, text: str) -> Path:
    """Write ``text`` to a new temporary file in ``directory`` that only its owner can read."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=f".{KEY_FILE_NAME}.")  # mode 0600
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return Path(name)
