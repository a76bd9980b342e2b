"""Pseudonymization: personnummer in, random pseudonyms out, and back for the identity officer.

A person's pseudonym is ``secrets.token_hex(16)`` (128 bits from the operating
system's CSPRNG), drawn when the person is first seen. It is not derived from
the personnummer, so nobody can recompute it, with or without the keys: the
only way from a number to its pseudonym is the vault's keyed look-up.

Every function takes and returns canonical personnummer: 12 ASCII digits,
century included, no dash (``inuk.intake`` makes them so). Messages and
exceptions never include one, and the public functions are marked
``sensitive_variables``: Django's error reports then leave out the local
variables of every frame below them.

A delivery does not use ``pseudonymize`` but its two halves: ``look_up``
while its file is read, which stores nothing and seals each person the vault
does not know yet as a ``Newcomer``, and ``admit`` when it is applied, in the
vault transaction that wraps the ledger's. So a delivery that is refused,
rejected or fails leaves no person in the vault, and a person two deliveries
bring at once is admitted once, under the pseudonym of the first to commit.

Only the identity officer's features may call ``reidentify``, ``history``,
``find``, ``link``, ``link_merging`` and ``erase``; they audit each call (SPEC §8).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import NamedTuple

from django.db import connections, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from inuk.format.masking import holds_personnummer
from inuk.vault.keys import DecryptionError, Keyring, keyring
from inuk.vault.models import Identity
from inuk.vault.routers import VAULT_DB

log = logging.getLogger(__name__)

PSEUDONYM_BYTES = 16
#: Look-ups per SELECT and rows per INSERT. PostgreSQL's planner keeps to the
#: look-up index for IN lists of this size even on a small vault; from a few
#: thousand on it switched to scanning the whole table, five times slower.
BATCH_SIZE = 1000


class NotCanonical(ValueError):
    """A value is not a canonical 12-digit personnummer (the message says where, not what)."""


class LinkConflict(Exception):
    """The two numbers already belong to two different persons."""


def new_pseudonym() -> str:
    """A fresh random pseudonym that the masking of personnummer leaves whole.

    About three in a thousand random hex strings hold a run of digits that
    reads as a date and four more (``…0585432917…``), which ``redact()`` would
    mask wherever the pseudonym is shown or audited. Such a draw is thrown
    away and another taken: what is kept is still uniform over the rest.
    """
    while True:
        pseudonym = secrets.token_hex(PSEUDONYM_BYTES)
        if not holds_personnummer(pseudonym):
            return pseudonym


@sensitive_variables()
def pseudonymize(personnummer: Iterable[str]) -> dict[str, str]:
    """The pseudonym of each personnummer, giving each new person a new pseudonym.

    Works in batches: one SELECT per ``BATCH_SIZE`` numbers and, for those not
    yet known, one bulk insert per batch, all in one transaction of the vault
    database. Two processes adding the same new person at once get one
    pseudonym: the unique look-up lets the first insert win, the other's is
    skipped, and both read the winner back.

    >>> pseudonymize(["199001012389", "199001012389"])  # doctest: +SKIP
    {'199001012389': '5f0c9a3e4d2b7a1c8e6f0b3d9a2c4e71'}
    """
    ring = keyring()
    unique = dict.fromkeys(_canonical(personnummer))
    numbers_by_lookup = {ring.lookup(number): number for number in unique}
    # Sorted, so that concurrent inserts take row locks in one order and cannot deadlock.
    lookups = sorted(numbers_by_lookup)
    found: dict[bytes, str] = {}
    for batch in _batches(lookups):
        found.update(_pseudonyms_of(batch))
    found.update(_found_under_previous_keys(ring, numbers_by_lookup, found))
    missing = [lookup for lookup in lookups if lookup not in found]
    if missing:
        # One transaction for all the new persons: each batch of random look-ups
        # touches most of the index's pages, so committing per batch would write
        # the whole index again and again.
        with transaction.atomic(using=VAULT_DB):
            for batch in _batches(missing):
                rows = [(lookup, numbers_by_lookup[lookup], new_pseudonym()) for lookup in batch]
                if _insert(ring, rows) == len(rows):
                    found.update((lookup, pseudonym) for lookup, _, pseudonym in rows)
                else:
                    # Another process added some of them first: its pseudonyms count.
                    found.update(_pseudonyms_of(batch))
    log.debug("pseudonymized %d persons, %d of them new", len(found), len(missing))
    return {numbers_by_lookup[lookup]: pseudonym for lookup, pseudonym in found.items()}


@dataclass(frozen=True, slots=True)
class Newcomer:
    """A person the vault did not know when a file was read, not stored yet.

    The pseudonym is drawn for them; the personnummer is already encrypted,
    bound to that pseudonym and the look-up, just as the vault will keep it,
    so a newcomer may wait in a spool file until the delivery is applied.
    """

    lookup: bytes
    pseudonym: str
    key_version: int
    ciphertext: bytes


@sensitive_variables()
def look_up(personnummer: Iterable[str]) -> tuple[dict[str, str], dict[str, Newcomer]]:
    """The pseudonyms the vault knows, and a ``Newcomer`` for each number it does not.

    Stores nothing: ``admit`` stores the newcomers once their delivery is applied.
    """
    ring = keyring()
    numbers_by_lookup = {ring.lookup(number): number for number in _canonical(personnummer)}
    lookups = sorted(numbers_by_lookup)
    found: dict[bytes, str] = {}
    for batch in _batches(lookups):
        found.update(_pseudonyms_of(batch))
    known = {numbers_by_lookup[lookup]: pseudonym for lookup, pseudonym in found.items()}
    newcomers = {}
    for lookup, number in numbers_by_lookup.items():
        if lookup not in found:
            pseudonym = new_pseudonym()
            version, blob = encrypt_identity(ring, pseudonym, lookup, number)
            newcomers[number] = Newcomer(lookup, pseudonym, version, blob)
    return known, newcomers


def admit(newcomers: Iterable[Newcomer]) -> dict[str, str]:
    """Store newcomers in the vault; returns the pseudonyms that changed on the way.

    A newcomer whose person is in the vault by now (another delivery admitted
    them first, or the same person came twice in one file) keeps the stored
    pseudonym: the answer maps each such drawn pseudonym to it, and the caller
    writes that one to the ledger. Call it inside ``transaction.atomic(using=VAULT_DB)``
    to keep the newcomers only if the caller's own work succeeds.
    """
    connection = connections[VAULT_DB]
    created_at = timezone.now()
    rows = ((n.pseudonym, n.lookup, n.key_version, n.ciphertext, created_at) for n in newcomers)
    with transaction.atomic(using=VAULT_DB):
        if connection.vendor == "postgresql":
            return _copy_admit(connection, rows)
        replaced: dict[str, str] = {}
        while batch := list(islice(rows, BATCH_SIZE)):
            if _executemany_insert(connection, batch) < len(batch):
                stored = _pseudonyms_of([row[1] for row in batch])
                replaced.update(
                    (row[0], stored[row[1]]) for row in batch if stored[row[1]] != row[0]
                )
    log.debug("admitted newcomers, %d of them known by then", len(replaced))
    return replaced


@sensitive_variables()
def find(personnummer: str) -> str | None:
    """The pseudonym of a personnummer, or None if the vault does not know it."""
    (number,) = _canonical([personnummer])
    ring = keyring()
    lookup = ring.lookup(number)
    found = _pseudonyms_of([lookup]) or _found_under_previous_keys(ring, {lookup: number}, {})
    return found.get(lookup)


@sensitive_variables()
def reidentify(pseudonym: str) -> list[str]:
    """Every personnummer of a person, in the order they became known; [] for an unknown pseudonym.

    Raises ``DecryptionError`` if a stored number was altered or moved.
    """
    ring = keyring()
    rows = (
        Identity.objects.filter(pseudonym=pseudonym)
        .order_by("id")
        .values_list("lookup", "key_version", "ciphertext")
    )
    return [
        decrypt_identity(ring, pseudonym, bytes(lookup), version, bytes(blob))
        for lookup, version, blob in rows
    ]


@sensitive_variables()
def link(old: str, new: str) -> str:
    """Make two personnummer of one person map to one pseudonym, and return it.

    Used when a person's number changes (a corrected birth date, a changed
    legal sex). If one number is known, the other joins its person; if neither
    is, a new person gets both. Raises ``LinkConflict`` if they already belong
    to two persons: merging them would also mean merging their records in the
    statistics database. Updating the person's birth year and sex there is the
    caller's task.
    """
    first, second = _canonical([old, new])
    if first == second:
        raise ValueError("cannot link a personnummer to itself")
    ring = keyring()
    numbers_by_lookup = {ring.lookup(first): first, ring.lookup(second): second}
    lookups = sorted(numbers_by_lookup)
    with transaction.atomic(using=VAULT_DB):
        # Locked, so that an erasure of the person waits for this link and then
        # removes the new number too (see ``erase``).
        locked = Identity.objects.select_for_update().filter(lookup__in=lookups)
        found = {bytes(lookup): p for lookup, p in locked.values_list("lookup", "pseudonym")}
        found.update(_found_under_previous_keys(ring, numbers_by_lookup, found, lock=True))
        owners = set(found.values())
        if len(owners) > 1:
            raise LinkConflict("the two personnummer already belong to different persons")
        if len(found) == len(lookups):
            return owners.pop()
        pseudonym = owners.pop() if owners else new_pseudonym()
        rows = [
            (lookup, numbers_by_lookup[lookup], pseudonym)
            for lookup in lookups
            if lookup not in found
        ]
        if _insert(ring, rows) != len(rows):
            # Another process added a missing number meanwhile: fine only if it
            # made the same link.
            owners = set(_pseudonyms_of(lookups).values())
            if len(owners) != 1:
                raise LinkConflict("the two personnummer already belong to different persons")
            pseudonym = owners.pop()
    return pseudonym


class Linked(NamedTuple):
    """What ``link_merging`` did: the person both numbers now belong to, and the one merged in."""

    pseudonym: str
    #: The pseudonym that no longer exists, its numbers now ``pseudonym``'s; None if none was.
    merged: str | None


@sensitive_variables()
def link_merging(old: str, new: str) -> Linked:
    """Link ``new`` to ``old``'s person as ``link`` does, merging two persons if need be.

    When each number already has its own person, the person of ``new`` (with
    every number it holds) joins the person of ``old``: ``old``'s pseudonym
    survives, so that what has been delivered under it keeps its name. Each
    moved number is encrypted again, since its ciphertext is bound to its
    pseudonym. The caller merges the two persons' records in the statistics
    database (``inuk.ledger.merge``).
    """
    first, second = _canonical([old, new])
    if first == second:
        raise ValueError("cannot link a personnummer to itself")
    ring = keyring()
    old_lookup, new_lookup = ring.lookup(first), ring.lookup(second)
    with transaction.atomic(using=VAULT_DB):
        found = _pseudonyms_of([old_lookup, new_lookup])
        survivor, absorbed = found.get(old_lookup), found.get(new_lookup)
        if survivor is None or absorbed is None or survivor == absorbed:
            return Linked(link(first, second), None)
        rows = list(
            Identity.objects.select_for_update()
            .filter(pseudonym=absorbed)
            .order_by("id")
            .values_list("id", "lookup", "key_version", "ciphertext")
        )
        for row_id, lookup, version, blob in rows:
            lookup = bytes(lookup)
            number = decrypt_identity(ring, absorbed, lookup, version, bytes(blob))
            version, blob = encrypt_identity(ring, survivor, lookup, number)
            Identity.objects.filter(id=row_id).update(
                pseudonym=survivor, key_version=version, ciphertext=blob
            )
    return Linked(survivor, absorbed)


@sensitive_variables()
def history(pseudonym: str) -> list[tuple[str, dt.datetime]]:
    """(personnummer, when it became known) for each number of a person, oldest first."""
    ring = keyring()
    rows = (
        Identity.objects.filter(pseudonym=pseudonym)
        .order_by("id")
        .values_list("lookup", "key_version", "ciphertext", "created_at")
    )
    return [
        (decrypt_identity(ring, pseudonym, bytes(lookup), version, bytes(blob)), created_at)
        for lookup, version, blob, created_at in rows
    ]


def erase(pseudonym: str) -> int:
    """Remove a person from the vault; returns how many personnummer were removed."""
    with transaction.atomic(using=VAULT_DB):
        # Lock first, delete in a second statement: on PostgreSQL that waits for a
        # ``link`` in progress and then sees the number it added.
        list(Identity.objects.select_for_update().filter(pseudonym=pseudonym).values_list("id"))
        removed, _ = Identity.objects.filter(pseudonym=pseudonym).delete()
    return removed


def decrypt_identity(
    ring: Keyring, pseudonym: str, lookup: bytes, version: int, blob: bytes
) -> str:
    """The personnummer of one identity row, checked against its look-up."""
    number = ring.decrypt(blob, _context(pseudonym, lookup), version).decode("ascii")
    if not ring.matches(number, lookup):
        raise DecryptionError("a stored personnummer does not match its look-up")
    return number


def encrypt_identity(
    ring: Keyring, pseudonym: str, lookup: bytes, number: str
) -> tuple[int, bytes]:
    """(key version, ciphertext) of a personnummer, bound to its pseudonym and look-up."""
    return ring.encrypt(number.encode("ascii"), _context(pseudonym, lookup))


def _found_under_previous_keys(
    ring: Keyring, numbers_by_lookup: dict[bytes, str], found: dict[bytes, str], *, lock=False
) -> dict[bytes, str]:
    """Current look-up -> pseudonym of the numbers not in ``found`` whose row is still under a
    previous look-up key (a rotation under way, ``rotation.rehash``); {} when there is none.
    """
    if not ring.previous_lookup_keys:
        return {}
    current_by_old: dict[bytes, bytes] = {}
    for lookup, number in numbers_by_lookup.items():
        if lookup not in found:
            for old in ring.previous_lookups(number):
                current_by_old[old] = lookup
    olds = sorted(current_by_old)
    if lock:
        rows = Identity.objects.select_for_update().filter(lookup__in=olds)
        pseudonyms = {bytes(old): p for old, p in rows.values_list("lookup", "pseudonym")}
    else:
        pseudonyms = {}
        for batch in _batches(olds):
            pseudonyms.update(_pseudonyms_of(batch))
    return {current_by_old[old]: pseudonym for old, pseudonym in pseudonyms.items()}


def _context(pseudonym: str, lookup: bytes) -> bytes:
    return b"inuk.vault.identity\x00" + pseudonym.encode("ascii") + b"\x00" + lookup


def _canonical(personnummer: Iterable[str]) -> list[str]:
    numbers = []
    for position, number in enumerate(personnummer):
        if not (
            isinstance(number, str) and len(number) == 12 and number.isascii() and number.isdigit()
        ):
            raise NotCanonical(f"value {position} is not a canonical 12-digit personnummer")
        numbers.append(number)
    return numbers


def _batches(items: list[bytes]) -> Iterator[list[bytes]]:
    for start in range(0, len(items), BATCH_SIZE):
        yield items[start : start + BATCH_SIZE]


# The hot path is written out in SQL rather than left to the ORM
# (``filter(lookup__in=...)``, ``bulk_create(ignore_conflicts=True)``): the
# same statements, but the ORM's preparation of each value made a delivery of
# 200,000 new persons take several times longer. On PostgreSQL the new rows
# travel by COPY, as the ledger's bulk writes do.

_COLUMNS = ("pseudonym", "lookup", "key_version", "ciphertext", "created_at")


def _pseudonyms_of(lookups: Sequence[bytes]) -> dict[bytes, str]:
    """Look-up -> pseudonym for those of ``lookups`` the vault knows, in one SELECT."""
    if not lookups:
        return {}
    connection = connections[VAULT_DB]
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {quote('lookup')}, {quote('pseudonym')} FROM {quote(Identity._meta.db_table)} "
        f"WHERE {quote('lookup')} IN ({', '.join(['%s'] * len(lookups))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(lookups))
        # PostgreSQL returns memoryview, SQLite bytes.
        return {bytes(lookup): pseudonym for lookup, pseudonym in cursor.fetchall()}


def _insert(ring: Keyring, rows: list[tuple[bytes, str, str]]) -> int:
    """Insert (look-up, number, pseudonym) rows, skipping look-ups already present.

    Returns how many were inserted: a skipped row counts 0.
    """
    connection = connections[VAULT_DB]
    created_at = timezone.now()
    values = []
    for lookup, number, pseudonym in rows:
        version, blob = encrypt_identity(ring, pseudonym, lookup, number)
        values.append((pseudonym, lookup, version, blob, created_at))
    if connection.vendor == "postgresql":
        return _copy_insert(connection, values)
    return _executemany_insert(connection, values)


def _copy_admit(connection, rows: Iterable[tuple]) -> dict[str, str]:
    """PostgreSQL: all newcomers by COPY, then one INSERT in look-up order.

    One statement for all of them takes the rows' locks in one order, so two
    deliveries admitting the same persons queue rather than deadlock. Returns
    the drawn pseudonyms that lost to a stored one.
    """
    quote = connection.ops.quote_name
    staging = quote("vault_identity_incoming")
    table = quote(Identity._meta.db_table)
    columns = ", ".join(map(quote, _COLUMNS))
    with connection.cursor() as cursor:
        _create_staging(cursor, staging)
        with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["varchar", "bytea", "int4", "bytea", "timestamptz"])
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} "
            f"ORDER BY {quote('lookup')} ON CONFLICT ({quote('lookup')}) DO NOTHING"
        )
        cursor.execute(
            f"SELECT s.pseudonym, i.pseudonym FROM {staging} s JOIN {table} i "
            "ON i.lookup = s.lookup WHERE i.pseudonym <> s.pseudonym"
        )
        replaced = dict(cursor.fetchall())
        cursor.execute(f"TRUNCATE {staging}")
    return replaced


def _create_staging(cursor, staging: str) -> None:
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} (pseudonym varchar(32), "
        "lookup bytea, key_version integer, ciphertext bytea, created_at timestamptz) "
        "ON COMMIT DELETE ROWS"
    )


def _executemany_insert(connection, values: list[tuple]) -> int:
    """SQLite: one prepared statement for all rows; the driver sums the rows inserted."""
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    # ON CONFLICT ... DO NOTHING: SQLite 3.24 and later.
    sql = (
        f"INSERT INTO {quote(Identity._meta.db_table)} ({', '.join(map(quote, _COLUMNS))}) "
        f"VALUES (%s, %s, %s, %s, %s) ON CONFLICT ({quote('lookup')}) DO NOTHING"
    )
    values = [(*row[:4], adapt(row[4])) for row in values]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
        return cursor.rowcount


def _copy_insert(connection, values: list[tuple]) -> int:
    """PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT skipping conflicts.

    Several times faster than a row-by-row INSERT; ordered by look-up so that
    concurrent inserts lock rows in one order.
    """
    quote = connection.ops.quote_name
    staging = quote("vault_identity_incoming")
    columns = ", ".join(map(quote, _COLUMNS))
    with connection.cursor() as cursor:
        _create_staging(cursor, staging)
        with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["varchar", "bytea", "int4", "bytea", "timestamptz"])
            for row in values:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {quote(Identity._meta.db_table)} ({columns}) "
            f"SELECT {columns} FROM {staging} ORDER BY {quote('lookup')} "
            f"ON CONFLICT ({quote('lookup')}) DO NOTHING"
        )
        inserted = cursor.rowcount
        cursor.execute(f"TRUNCATE {staging}")
    return inserted
