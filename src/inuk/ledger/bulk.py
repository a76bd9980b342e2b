"""Applying a delivery to the ledger, and deriving the current state, in bulk.

A delivery may hold millions of transactions, so nothing here runs a query per
record. The rows are streamed into temporary staging tables, and the rest is a
handful of set-based statements (``inuk.ledger.backends`` has what differs
between PostgreSQL and SQLite):

1. new persons are inserted, changed ones updated;
2. the staged transactions the ledger does not hold yet are appended; one it
   holds already (same identity, Transaktionsdatum, status and values, found by
   its fingerprint) is counted as already known, and noted as a ``Repeat`` so
   that a withdrawal of the delivery that brought it first can hand it on;
3. each identity's winner among the newly appended transactions is merged into
   the state where its ordering key is greater than the stored winner's;
4. one query finds the Ändring and Borttag whose identity has never had a
   Registrering.

The ordering key is (Transaktionsdatum, delivery id, position in the file):
the latest transaction wins, ties going to the later delivery (ids follow the
order of receipt) and then to the later position. The state holds the
winner's values only, a winning Borttag leaving a tombstone, so it is a
function of the set of counting transactions whatever order they arrived in,
and ``rebuild()`` derives the same state from the ledger alone. A transaction
already known is not applied again: the state already reflects its first copy,
so re-sending a full history costs little more than reading it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError

from inuk.ledger import changes
from inuk.ledger.backends import backend
from inuk.ledger.models import Transaction, Withdrawal
from inuk.ledger.rows import ORGANISATION, LedgerRow, LedgerValues, Outcome, PersonRow, PersonValues
from inuk.ledger.sql import (
    COUNTING,
    IDENTITY,
    IDENTITY_LIST,
    STATE,
    UNKNOWN_IDENTITY,
    state_columns,
    winners,
)
from inuk.organisations.models import Organisation

__all__ = ["LedgerRow", "Outcome", "PersonRow", "apply_delivery", "rebuild", "recompute"]


class _Tally:
    """Counts the rows streamed through it and notes their organisations, in the one pass."""

    def __init__(self, rows: Iterable[LedgerValues]) -> None:
        self.rows = rows
        self.count = 0
        self.organisations: set[int] = set()

    def __iter__(self) -> Iterator[LedgerValues]:
        organisations = self.organisations
        for row in self.rows:
            self.count += 1
            organisations.add(row[ORGANISATION])
            yield row


def require_atomic(what: str) -> None:
    """Refuse to go on outside ``transaction.atomic()``: a half-applied change must roll back."""
    if not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        raise TransactionManagementError(
            f"{what} must run inside transaction.atomic() on the default database"
        )


def apply_delivery(
    delivery_id: int, persons: Iterable[PersonValues], rows: Iterable[LedgerValues]
) -> Outcome:
    """Append a delivery's accepted transactions to the ledger and bring the state up to date.

    Call it once per delivery, inside ``transaction.atomic()`` on the default
    database: the delivery is then applied whole or not at all. ``rows`` is
    streamed (it may be a generator of millions), each a ``LedgerRow`` or a
    plain tuple in its order, and so are ``persons`` (``PersonRow``). ``persons`` is read after
    ``rows`` is exhausted, so a caller may collect it while producing the rows;
    it must describe every pseudonym the rows use, known before or not, and may
    repeat a person.
    """
    require_atomic("apply_delivery()")
    # The ledger's keys are not enforced by the database (see models): they
    # are checked here, or resolved by a join below.
    # By name, as the ledger's models refer to it: intake sits above the ledger.
    if not apps.get_model("intake", "Delivery").objects.filter(pk=delivery_id).exists():
        raise ValueError(f"there is no delivery {delivery_id}")
    if Withdrawal.objects.filter(delivery_id=delivery_id).exists():
        raise ValueError(f"delivery {delivery_id} has been withdrawn")
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        db = backend(cursor)
        db.begin()
        db.create()
        tally = _Tally(rows)
        db.stage_transactions(tally)
        if Organisation.objects.filter(pk__in=tally.organisations).count() != len(
            tally.organisations
        ):
            raise ValueError("a transaction names an organisation that does not exist")
        db.stage_persons(persons)
        described = db.merge_persons()
        if described:
            # A person described anew (a corrected personnummer linked to the
            # same pseudonym) may move to another age group or sex in the
            # statistics; their records have not changed yet.
            changes.persons_redescribed(described)
        try:
            accepted = db.append(delivery_id)
        except IntegrityError as exc:
            if "person_id" not in str(exc):
                raise
            raise ValueError("a transaction's pseudonym is missing from the persons") from None
        if accepted < tally.count:
            db.note_repeats(delivery_id)
        db.merge_state(delivery_id)
        unknown = [position for (position,) in db.fetch(UNKNOWN_IDENTITY)]
        db.drop()
    return Outcome(accepted, tally.count - accepted, unknown)


def _identities(transactions: QuerySet[Transaction], kind: str) -> tuple[str, list]:
    sql, params = transactions.filter(kind=kind).values(*IDENTITY).query.sql_with_params()
    return f"SELECT {IDENTITY_LIST} FROM ({sql}) identities", list(params)


def recompute(transactions: QuerySet[Transaction]) -> None:
    """Derive the state again, from the counting ledger, for every identity of ``transactions``.

    After a delivery is withdrawn, for instance:
    ``recompute(Transaction.objects.filter(delivery_id=delivery_id))``.
    Call it inside ``transaction.atomic()``.
    """
    require_atomic("recompute()")
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        db = backend(cursor)
        db.begin()
        for kind, table in STATE.items():
            identities, params = _identities(transactions, kind)
            db.run(f"DELETE FROM {table} WHERE ({IDENTITY_LIST}) IN ({identities})", params)
            where = f"({IDENTITY_LIST}) IN ({identities}) AND {COUNTING}"
            chosen = winners(kind, where, distinct_on=db.distinct_on)
            db.run(f"INSERT INTO {table} ({', '.join(state_columns(kind))}) {chosen}", params)


def rebuild() -> None:
    """Derive the whole state again from the counting ledger.

    Call it inside ``transaction.atomic()``.
    """
    require_atomic("rebuild()")
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        db = backend(cursor)
        db.begin()
        for kind, table in STATE.items():
            db.run(f"DELETE FROM {table}")
            chosen = winners(kind, COUNTING, distinct_on=db.distinct_on)
            db.run(f"INSERT INTO {table} ({', '.join(state_columns(kind))}) {chosen}")
