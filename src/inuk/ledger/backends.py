"""What differs between PostgreSQL and SQLite in applying a delivery.

Staging: PostgreSQL takes the rows by ``COPY ... FROM STDIN`` in binary, each
row written as it comes; SQLite by ``executemany`` in batches. Either way
memory stays flat however many rows there are.

Merging: SQLite's ``INSERT ... ON CONFLICT`` is as cheap as a plain insert.
PostgreSQL's costs a speculative insertion per row, about twice a plain insert
(measured while building bench/ledger_apply.py), so there the new rows are
found by an anti-join and written by plain ``INSERT`` and ``UPDATE``. That is
safe because one writer at a time holds the ledger's advisory lock, and each
statement in READ COMMITTED (Django's default) sees what the writer before it
committed; the primary keys and the unique constraint on pseudonyms stay as
the last guard.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from itertools import islice

from inuk.ledger import fingerprint
from inuk.ledger.models import RECORD_KEY_RANGE
from inuk.ledger.rows import LedgerRow, LedgerValues, PersonValues
from inuk.ledger.sql import (
    IDENTITY,
    IDENTITY_LIST,
    ORDER_KEY,
    PERSON,
    PERSONS,
    REPEAT,
    STATE,
    TRANSACTIONS,
    TX,
    WINNERS,
    state_columns,
    winners,
)

#: Rows per executemany call on SQLite and per draw of record keys: large
#: enough to amortise the call, small enough to keep memory flat.
BATCH = 10_000

#: Key of PostgreSQL's advisory lock that lets one writer at a time change the
#: ledger and the state: no deadlocks between two large deliveries, no race
#: between the anti-join and the insert, and the warnings of one delivery see
#: the whole of the ones applied before it. SQLite's write lock does the same.
LOCK_KEY = 0x494E554B_4C454447  # "INUKLEDG"

#: PostgreSQL's work_mem while a writer holds the lock: enough to hash the
#: persons and sort a million transactions without spilling to disk.
WORK_MEM = "256MB"

_LEDGER_COLUMNS = (
    "delivery_id, position, kind, organisation_id, kommunkod, person_id, "
    'code, start, "end", system, transaction_time, status, fingerprint, withdrawn'
)


def record_keys(count: int) -> memoryview:
    """``count`` record keys, each 32 bits from the CSPRNG: uniform over [0, 2**32)."""
    assert RECORD_KEY_RANGE == 2**32
    return memoryview(secrets.token_bytes(4 * count)).cast("I")


def keyed(persons: Iterable[PersonValues]) -> Iterator[tuple]:
    """The persons, each with a fresh record key; only new persons keep theirs."""
    iterator = iter(persons)
    while batch := list(islice(iterator, BATCH)):
        for person, key in zip(batch, record_keys(len(batch)), strict=True):
            yield (*person, key)


class Backend:
    """The bulk work on one database connection, through a Django cursor."""

    #: Whether ``sql.winners`` may use PostgreSQL's DISTINCT ON.
    distinct_on = False

    def __init__(self, cursor) -> None:
        self.cursor = cursor

    def run(self, sql: str, params: Iterable = ()) -> int:
        self.cursor.execute(sql, list(params))
        return self.cursor.rowcount

    def fetch(self, sql: str, params: Iterable = ()) -> list[tuple]:
        self.cursor.execute(sql, list(params))
        return self.cursor.fetchall()

    def begin(self) -> None:
        """Become the only writer of the ledger and the state until the transaction ends."""

    def create(self) -> None:
        """Create the (empty) staging tables."""
        raise NotImplementedError

    def drop(self) -> None:
        for table in (TRANSACTIONS, PERSONS, WINNERS):
            self.run(f"DROP TABLE IF EXISTS {table}")

    def stage_transactions(self, rows: Iterable[LedgerValues]) -> None:
        raise NotImplementedError

    def stage_persons(self, persons: Iterable[PersonValues]) -> None:
        raise NotImplementedError

    def _described(self) -> dict[int, tuple[int, str]]:
        """The known persons whose staged birth year or sex differs from theirs, with theirs."""
        return {
            person: (birth_year, sex)
            for person, birth_year, sex in self.fetch(
                f"""SELECT p.id, p.birth_year, p.sex
                FROM {PERSON} p JOIN {PERSONS} s ON s.pseudonym = p.pseudonym
                WHERE p.birth_year <> s.birth_year OR p.sex <> s.sex"""
            )
        }

    def merge_persons(self) -> dict[int, tuple[int, str]]:
        """Insert the staged persons not yet known, update the known ones whose description changed.

        The vault's description of a person can change (a corrected
        personnummer linked to the same pseudonym): the latest delivery's holds.
        The record key never changes, so that a cell keeps its value. Returns
        the birth year and sex each person whose birth year or sex changed had
        before.
        """
        raise NotImplementedError

    def append(self, delivery_id: int) -> int:
        """Append the staged transactions the ledger does not hold yet; returns how many."""
        raise NotImplementedError

    def note_repeats(self, delivery_id: int) -> int:
        """Record the staged transactions the ledger holds from another delivery (``Repeat``)."""
        raise NotImplementedError

    def merge_state(self, delivery_id: int) -> None:
        """Merge the winners among the delivery's new transactions into the state."""
        raise NotImplementedError


class PostgreSQL(Backend):
    distinct_on = True
    _FINGERPRINT = fingerprint.postgresql("s")

    def begin(self) -> None:
        self.run("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        self.run("SELECT set_config('work_mem', %s, true)", [WORK_MEM])

    def create(self) -> None:
        self.drop()
        # Temporary tables are not WAL-logged, and vanish with the session
        # if anything goes wrong before they are dropped.
        self.run(
            f"""CREATE TEMPORARY TABLE {TRANSACTIONS} (
                position integer, kind text, organisation_id bigint, kommunkod text,
                pseudonym text, code text, start date, "end" date, system text,
                transaction_time timestamptz, status text)"""
        )
        self.run(
            f"""CREATE TEMPORARY TABLE {PERSONS} (
                pseudonym text, birth_year integer, sex text, coordination boolean,
                record_key bigint)"""
        )

    def stage_transactions(self, rows: Iterable[LedgerValues]) -> None:
        copy_sql = (
            f"COPY {TRANSACTIONS} (position, kind, organisation_id, kommunkod, pseudonym, code, "
            f'start, "end", system, transaction_time, status) FROM STDIN (FORMAT BINARY)'
        )
        types = ["int4", "text", "int8", "text", "text", "text", "date", "date", "text",
                 "timestamptz", "text"]  # fmt: skip
        with self.cursor.copy(copy_sql) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
        # Without statistics the planner would guess the table's size and spread.
        self.run(f"ANALYZE {TRANSACTIONS}")

    def stage_persons(self, persons: Iterable[PersonValues]) -> None:
        copy_sql = (
            f"COPY {PERSONS} (pseudonym, birth_year, sex, coordination, record_key) "
            f"FROM STDIN (FORMAT BINARY)"
        )
        with self.cursor.copy(copy_sql) as copy:
            copy.set_types(["text", "int4", "text", "bool", "int8"])
            for person in keyed(persons):
                copy.write_row(person)
        self.run(f"ANALYZE {PERSONS}")

    def merge_persons(self) -> dict[int, tuple[int, str]]:
        # The changed persons are found by one join, and the descriptions they
        # had read in it, before the update by primary key.
        changed = self.fetch(
            f"""WITH changed AS MATERIALIZED (
                SELECT p.id, p.birth_year, p.sex, s.birth_year AS new_birth_year,
                       s.sex AS new_sex, s.coordination
                FROM {PERSON} p JOIN {PERSONS} s ON s.pseudonym = p.pseudonym
                WHERE p.birth_year <> s.birth_year OR p.sex <> s.sex
                   OR p.coordination_number <> s.coordination
            ), updated AS (
                UPDATE {PERSON} p SET birth_year = c.new_birth_year, sex = c.new_sex,
                                      coordination_number = c.coordination
                FROM changed c WHERE p.id = c.id
            )
            SELECT id, birth_year, sex FROM changed
            WHERE birth_year <> new_birth_year OR sex <> new_sex"""
        )
        # Byte order ("C") sorts hex pseudonyms fast; any order finds repeats.
        self.run(
            f"""INSERT INTO {PERSON} (pseudonym, birth_year, sex, coordination_number, record_key)
            SELECT DISTINCT ON (pseudonym COLLATE "C")
                   pseudonym, birth_year, sex, coordination, record_key
            FROM {PERSONS} s
            WHERE NOT EXISTS (SELECT 1 FROM {PERSON} p WHERE p.pseudonym = s.pseudonym)
            ORDER BY pseudonym COLLATE "C" """
        )
        return {person: (birth_year, sex) for person, birth_year, sex in changed}

    def append(self, delivery_id: int) -> int:
        # DISTINCT ON keeps the first of a transaction the file repeats; the
        # sort it needs also lets the rows into the primary key (person,
        # fingerprint) side by side, and lets a merge join find the ones
        # already known. A pseudonym missing from the persons leaves person_id
        # NULL, which the NOT NULL constraint refuses.
        return self.run(
            f"""INSERT INTO {TX} ({_LEDGER_COLUMNS})
            SELECT %s, position, kind, organisation_id, kommunkod, person_id,
                   code, start, "end", system, transaction_time, status, fingerprint, 0
            FROM (
                SELECT DISTINCT ON (p.id, f.fingerprint) s.*, p.id AS person_id, f.fingerprint
                FROM {TRANSACTIONS} s LEFT JOIN {PERSON} p ON p.pseudonym = s.pseudonym
                CROSS JOIN LATERAL (SELECT {self._FINGERPRINT} AS fingerprint) f
                ORDER BY p.id, f.fingerprint, s.position
            ) n
            WHERE NOT EXISTS (
                SELECT 1 FROM {TX} t
                WHERE t.person_id = n.person_id AND t.fingerprint = n.fingerprint
                  AND t.withdrawn = 0
            )""",
            [delivery_id],
        )

    def note_repeats(self, delivery_id: int) -> int:
        return self.run(
            f"""INSERT INTO {REPEAT} (person_id, fingerprint, delivery_id, position)
            SELECT DISTINCT ON (p.id, f.fingerprint) p.id, f.fingerprint, %s, s.position
            FROM {TRANSACTIONS} s JOIN {PERSON} p ON p.pseudonym = s.pseudonym
            CROSS JOIN LATERAL (SELECT {self._FINGERPRINT} AS fingerprint) f
            JOIN {TX} t ON t.person_id = p.id AND t.fingerprint = f.fingerprint
                AND t.withdrawn = 0 AND t.delivery_id <> %s
            ORDER BY p.id, f.fingerprint, s.position""",
            [delivery_id, delivery_id],
        )

    def merge_state(self, delivery_id: int) -> None:
        # Both kinds' winners in one pass over the delivery's rows, kept in a
        # temporary table; then per kind an UPDATE of the identities known
        # before and a plain INSERT of the new ones.
        self.run(
            f"""CREATE TEMPORARY TABLE {WINNERS} AS
            SELECT DISTINCT ON (kind, {IDENTITY_LIST})
                   kind, {IDENTITY_LIST}, "end", system, status = 'B' AS removed,
                   {", ".join(ORDER_KEY)}
            FROM {TX} t
            WHERE t.delivery_id = %s
            ORDER BY kind, {IDENTITY_LIST}, transaction_time DESC, position DESC""",
            [delivery_id],
        )
        self.run(f"ANALYZE {WINNERS}")
        for kind, table in STATE.items():
            columns = state_columns(kind)
            same = " AND ".join(f"st.{c} = w.{c}" for c in IDENTITY)
            new_key = ", ".join(f"w.{c}" for c in ORDER_KEY)
            old_key = ", ".join(f"st.{c}" for c in ORDER_KEY)
            updates = ", ".join(f"{c} = w.{c}" for c in columns if c not in IDENTITY)
            self.run(
                f"""UPDATE {table} st SET {updates} FROM {WINNERS} w
                WHERE w.kind = %s AND {same} AND ({new_key}) > ({old_key})""",
                [kind],
            )
            self.run(
                f"""INSERT INTO {table} ({", ".join(columns)})
                SELECT {", ".join(f"w.{c}" for c in columns)} FROM {WINNERS} w
                WHERE w.kind = %s AND NOT EXISTS (SELECT 1 FROM {table} st WHERE {same})""",
                [kind],
            )


class SQLite(Backend):
    def create(self) -> None:
        self.drop()
        self.run(
            f"""CREATE TEMPORARY TABLE {TRANSACTIONS} (
                position INTEGER, kind TEXT, organisation_id INTEGER, kommunkod TEXT,
                pseudonym TEXT, code TEXT, start TEXT, "end" TEXT, system TEXT,
                transaction_time TEXT, status TEXT, fingerprint BLOB)"""
        )
        self.run(
            f"""CREATE TEMPORARY TABLE {PERSONS} (
                pseudonym TEXT, birth_year INTEGER, sex TEXT, coordination INTEGER,
                record_key INTEGER)"""
        )

    def stage_transactions(self, rows: Iterable[LedgerValues]) -> None:
        sql = f"INSERT INTO {TRANSACTIONS} VALUES ({', '.join(['%s'] * 12)})"
        iterator = iter(rows)
        while batch := list(islice(iterator, BATCH)):
            self.cursor.executemany(sql, [self._staged(row) for row in batch])

    @staticmethod
    def _staged(values: LedgerValues) -> tuple:
        # Django's stored forms (dates ISO, datetimes naive UTC without
        # microseconds when they are zero), so that the ORM's filters compare
        # equal to what is written here. SQLite has no SHA-256: the
        # fingerprint is computed here.
        row = LedgerRow._make(values)
        utc = fingerprint.utc(row.transaction_time)
        return (
            *row[:6],
            row.start.isoformat(),
            row.end.isoformat() if row.end is not None else None,
            row.system,
            str(utc),
            row.status,
            fingerprint.digest(row, utc),
        )

    def stage_persons(self, persons: Iterable[PersonValues]) -> None:
        sql = f"INSERT INTO {PERSONS} VALUES (%s, %s, %s, %s, %s)"
        iterator = keyed(persons)
        while batch := list(islice(iterator, BATCH)):
            self.cursor.executemany(sql, batch)

    def merge_persons(self) -> dict[int, tuple[int, str]]:
        described = self._described()
        # (SQLite wants a WHERE before an upsert's ON CONFLICT.)
        self.run(
            f"""INSERT INTO {PERSON} (pseudonym, birth_year, sex, coordination_number, record_key)
            SELECT pseudonym, birth_year, sex, coordination, record_key FROM {PERSONS} WHERE true
            ON CONFLICT (pseudonym) DO UPDATE SET
                birth_year = excluded.birth_year, sex = excluded.sex,
                coordination_number = excluded.coordination_number
            WHERE birth_year <> excluded.birth_year OR sex <> excluded.sex
               OR coordination_number <> excluded.coordination_number"""
        )
        return described

    def append(self, delivery_id: int) -> int:
        # A pseudonym missing from the persons leaves person_id NULL, which the
        # NOT NULL constraint refuses.
        return self.run(
            f"""INSERT INTO {TX} ({_LEDGER_COLUMNS})
            SELECT %s, s.position, s.kind, s.organisation_id, s.kommunkod, p.id,
                   s.code, s.start, s."end", s.system, s.transaction_time, s.status,
                   s.fingerprint, 0
            FROM {TRANSACTIONS} s LEFT JOIN {PERSON} p ON p.pseudonym = s.pseudonym
            WHERE true
            ON CONFLICT (person_id, fingerprint, withdrawn) DO NOTHING""",
            [delivery_id],
        )

    def note_repeats(self, delivery_id: int) -> int:
        return self.run(
            f"""INSERT INTO {REPEAT} (person_id, fingerprint, delivery_id, position)
            SELECT p.id, s.fingerprint, %s, MIN(s.position)
            FROM {TRANSACTIONS} s JOIN {PERSON} p ON p.pseudonym = s.pseudonym
            JOIN {TX} t ON t.person_id = p.id AND t.fingerprint = s.fingerprint
                AND t.withdrawn = 0 AND t.delivery_id <> %s
            GROUP BY p.id, s.fingerprint""",
            [delivery_id, delivery_id],
        )

    def merge_state(self, delivery_id: int) -> None:
        for kind, table in STATE.items():
            columns = state_columns(kind)
            new_key = ", ".join(f"excluded.{c}" for c in ORDER_KEY)
            old_key = ", ".join(f"{table}.{c}" for c in ORDER_KEY)
            updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in IDENTITY)
            # Row values compare left to right (SQLite 3.15 or later).
            self.run(
                f"""INSERT INTO {table} ({", ".join(columns)})
                {winners(kind, "t.delivery_id = %s")}
                ON CONFLICT ({IDENTITY_LIST}) DO UPDATE SET {updates}
                WHERE ({new_key}) > ({old_key})""",
                [delivery_id],
            )


def backend(cursor) -> Backend:
    """The backend for the database of a Django ``cursor``."""
    vendor = cursor.db.vendor
    if vendor == "postgresql":
        return PostgreSQL(cursor)
    if vendor == "sqlite":
        return SQLite(cursor)
    raise NotImplementedError(f"the ledger does not support {vendor}")
