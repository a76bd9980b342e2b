"""Key rotation: a new encryption key version, and every stored value moved onto it.

On a deployment with its own keyring (``INUK_VAULT_KEY``) rotation takes three
steps, because every process must know the new key before any value is
encrypted under it:

1. ``inuk vault add-key`` prints the keyring with a new current version;
2. install that keyring in every process and restart them (old values still
   decrypt, since the old versions stay in the keyring; new ones use the new key);
3. ``inuk vault reencrypt`` moves every stored value to the current version.
   Once ``inuk vault status`` shows no value under an old version, that
   version can be removed from the keyring.

The embedded default has one key file that all its processes read, so
``rotate()`` does all three at once.

The look-up key rotates the same way: ``inuk vault add-lookup-key`` (the old
key moves to ``previous_lookups``), install everywhere, ``inuk vault rehash``,
then ``inuk vault drop-previous-lookups`` prints the keyring without the old
keys; ``rotate_lookup()`` does it all on the embedded default. Restart the
workers together rather than one by one when installing: a process still on
the old keyring does not find rows already under the new key, so two such
processes seeing a new person at the same moment could give it two pseudonyms.
A row's look-up is bound into its ciphertext, so ``rehash`` re-encrypts each
row it moves, under the current encryption key; pseudonyms never change.
Both passes work in batches, each its own transaction, and skip what is done:
after an interruption (even ``kill -9``) run them again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections, transaction
from django.db.models import Count
from django.views.decorators.debug import sensitive_variables

from inuk.vault import files
from inuk.vault.keys import (
    DecryptionError,
    Keyring,
    KeyringError,
    add_lookup_key,
    add_version,
    is_configured,
    keyring,
    replace_key_file,
)
from inuk.vault.models import FileChunk, Identity
from inuk.vault.pseudonymize import decrypt_identity, encrypt_identity
from inuk.vault.routers import VAULT_DB


@dataclass(frozen=True)
class Rotation:
    version: int
    identities: int
    file_pieces: int


@dataclass(frozen=True)
class Rehash:
    #: Rows moved to the current look-up key by this run.
    moved: int
    #: Rows that were under it already (moved by an earlier, interrupted run, or new).
    current: int


def rotate() -> Rotation:
    """Add a key version to the embedded key file and re-encrypt every stored value with it."""
    if is_configured():
        raise KeyringError(
            "the vault's keyring comes from INUK_VAULT_KEY: add a version with "
            "`inuk vault add-key`, install it everywhere, then run `inuk vault reencrypt`"
        )
    text = add_version(keyring().to_text())
    replace_key_file(text)
    return reencrypt(Keyring.parse(text))


def reencrypt(ring: Keyring | None = None, *, batch_size: int = 1000) -> Rotation:
    """Re-encrypt every value not under the keyring's current version; returns what was done.

    Safe to run while the service works: rows are updated only if still under
    the version they were read with, and can be run again after an interruption.
    """
    ring = ring or keyring()
    return Rotation(ring.current, _identities(ring, batch_size), _file_pieces(ring))


def rotate_lookup() -> Rehash:
    """Add a look-up key to the embedded key file, move every row to it, drop the old key."""
    if is_configured():
        raise KeyringError(
            "the vault's keyring comes from INUK_VAULT_KEY: add a look-up key with "
            "`inuk vault add-lookup-key`, install it everywhere, then run `inuk vault rehash`"
        )
    text = add_lookup_key(keyring().to_text())
    replace_key_file(text)
    done = rehash(Keyring.parse(text))
    replace_key_file(Keyring.parse(text).without_previous_lookups().to_text())
    return done


@sensitive_variables()
def rehash(ring: Keyring | None = None, *, batch_size: int = 1000) -> Rehash:
    """Move every identity row to the keyring's current look-up key; returns what was done.

    Each row is decrypted, its look-up computed under the current key and, if
    it differs, the row updated with the new look-up and a new ciphertext bound
    to it, but only if its look-up is still the one read: a row changed
    meanwhile is left to a later run. Each batch is one transaction.
    """
    ring = ring or keyring()
    connection = connections[VAULT_DB]
    quote = connection.ops.quote_name
    update = (
        f"UPDATE {quote(Identity._meta.db_table)} SET {quote('lookup')} = %s, "
        f"{quote('key_version')} = %s, {quote('ciphertext')} = %s "
        f"WHERE {quote('id')} = %s AND {quote('lookup')} = %s"
    )
    moved = current = 0
    after = 0
    while True:
        rows = list(
            Identity.objects.filter(id__gt=after)
            .order_by("id")
            .values_list("id", "pseudonym", "lookup", "key_version", "ciphertext")[:batch_size]
        )
        if not rows:
            return Rehash(moved, current)
        changes = []
        for pk, pseudonym, lookup, version, blob in rows:
            lookup = bytes(lookup)
            try:
                number = decrypt_identity(ring, pseudonym, lookup, version, bytes(blob))
            except DecryptionError as exc:
                raise DecryptionError(f"identity row {pk}: {exc}") from None
            new_lookup = ring.lookup(number)
            if new_lookup == lookup:
                current += 1
                continue
            new_version, new_blob = encrypt_identity(ring, pseudonym, new_lookup, number)
            changes.append((new_lookup, new_version, new_blob, pk, lookup))
        if changes:
            with transaction.atomic(using=VAULT_DB), connection.cursor() as cursor:
                cursor.executemany(update, changes)
        moved += len(changes)
        after = rows[-1][0]


def under_previous_lookups(ring: Keyring | None = None) -> int:
    """How many identity rows are not yet under the current look-up key (reads them all)."""
    ring = ring or keyring()
    if not ring.previous_lookup_keys:
        return 0
    count = 0
    rows = Identity.objects.order_by("id").values_list(
        "pseudonym", "lookup", "key_version", "ciphertext"
    )
    for pseudonym, lookup, version, blob in rows.iterator(chunk_size=1000):
        number = decrypt_identity(ring, pseudonym, bytes(lookup), version, bytes(blob))
        count += ring.lookup(number) != bytes(lookup)
    return count


def versions_in_use() -> dict[int, int]:
    """How many stored values (personnummer and file pieces) each key version encrypts."""
    counts: dict[int, int] = {}
    for model in (Identity, FileChunk):
        rows = model.objects.order_by().values_list("key_version").annotate(n=Count("id"))
        for version, count in rows:
            counts[version] = counts.get(version, 0) + count
    return dict(sorted(counts.items()))


@sensitive_variables()
def _identities(ring: Keyring, batch_size: int) -> int:
    connection = connections[VAULT_DB]
    quote = connection.ops.quote_name
    meta = Identity._meta
    update = (
        f"UPDATE {quote(meta.db_table)} SET {quote('key_version')} = %s, "
        f"{quote('ciphertext')} = %s WHERE {quote('id')} = %s AND {quote('key_version')} = %s"
    )
    done = 0
    after = 0
    while True:
        rows = list(
            Identity.objects.filter(id__gt=after)
            .exclude(key_version=ring.current)
            .order_by("id")
            .values_list("id", "pseudonym", "lookup", "key_version", "ciphertext")[:batch_size]
        )
        if not rows:
            return done
        changes = []
        for pk, pseudonym, lookup, version, blob in rows:
            try:
                number = decrypt_identity(ring, pseudonym, bytes(lookup), version, bytes(blob))
            except DecryptionError as exc:
                raise DecryptionError(f"identity row {pk}: {exc}") from None
            new_version, new_blob = encrypt_identity(ring, pseudonym, bytes(lookup), number)
            changes.append((new_version, new_blob, pk, version))
        with transaction.atomic(using=VAULT_DB), connection.cursor() as cursor:
            cursor.executemany(update, changes)
        done += len(changes)
        after = rows[-1][0]


def _file_pieces(ring: Keyring) -> int:
    done = 0
    after = 0
    while True:
        # One piece at a time: each may be megabytes.
        row = (
            FileChunk.objects.filter(id__gt=after)
            .exclude(key_version=ring.current)
            .order_by("id")
            .values_list("id", "delivery_id", "seq", "last", "key_version", "data")
            .first()
        )
        if row is None:
            return done
        pk, delivery_id, seq, last, version, data = row
        context = files.context(files.bound_to(delivery_id), seq, last)
        try:
            piece = ring.decrypt(bytes(data), context, version)
        except DecryptionError as exc:
            raise DecryptionError(f"file piece row {pk}: {exc}") from None
        new_version, new_data = ring.encrypt(piece, context)
        FileChunk.objects.filter(pk=pk, key_version=version).update(
            key_version=new_version, data=new_data
        )
        done += 1
        after = pk
