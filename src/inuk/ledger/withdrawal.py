"""Withdrawing a whole delivery: its transactions stop counting, and the state follows.

The transactions stay in the ledger (it is append-only), marked withdrawn
(``Transaction.withdrawn``), which frees their keys: the same transactions
delivered again are appended and count, instead of being taken for already
known. A transaction that later deliveries brought again (``Repeat``) is
handed on to the earliest of them still counting, so that the state is the
one those deliveries alone would give. Who may withdraw, and the audit entry,
belong to the caller.
"""

from __future__ import annotations

import datetime as dt

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from inuk.ledger import changes
from inuk.ledger.backends import backend
from inuk.ledger.bulk import recompute, require_atomic
from inuk.ledger.models import Repeat, Transaction, Withdrawal
from inuk.ledger.sql import REPEAT, TX

_COLUMNS = (
    'kind, organisation_id, kommunkod, person_id, code, start, "end", system, '
    "transaction_time, status, fingerprint"
)

#: Each withdrawn transaction that another delivery carried too, copied as
#: that delivery's: the earliest one (delivery ids follow the order of
#: receipt), at its own position in its file.
_HAND_ON = f"""
    INSERT INTO {TX} (delivery_id, position, {_COLUMNS}, withdrawn)
    SELECT r.delivery_id, r.position, {", ".join(f"t.{c.strip()}" for c in _COLUMNS.split(","))}, 0
    FROM {TX} t JOIN {REPEAT} r ON r.person_id = t.person_id AND r.fingerprint = t.fingerprint
    WHERE t.withdrawn = %s AND r.delivery_id = (
        SELECT MIN(f.delivery_id) FROM {REPEAT} f
        WHERE f.person_id = t.person_id AND f.fingerprint = t.fingerprint
    )"""

#: A repeat whose delivery now owns the transaction is no longer a repeat.
_OWNED = f"""
    DELETE FROM {REPEAT}
    WHERE person_id IN (SELECT person_id FROM {TX} WHERE withdrawn = %s)
      AND EXISTS (
        SELECT 1 FROM {TX} t
        WHERE t.person_id = {REPEAT}.person_id AND t.fingerprint = {REPEAT}.fingerprint
          AND t.withdrawn = 0 AND t.delivery_id = {REPEAT}.delivery_id
    )"""


def withdraw(delivery_id: int, *, reason: str = "", at: dt.datetime | None = None) -> int:
    """Withdraw delivery ``delivery_id``; returns how many transactions stop counting.

    Call it inside ``transaction.atomic()`` on the default database.
    """
    require_atomic("withdraw()")
    if Withdrawal.objects.filter(delivery_id=delivery_id).exists():
        raise ValueError(f"delivery {delivery_id} is already withdrawn")
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        backend(cursor).begin()
    Withdrawal.objects.create(
        delivery_id=delivery_id, withdrawn_at=at or timezone.now(), reason=reason
    )
    transactions = Transaction.objects.filter(delivery_id=delivery_id)
    count = transactions.update(withdrawn=delivery_id)
    # What it carried that others brought first is no longer carried twice.
    Repeat.objects.filter(delivery_id=delivery_id).delete()
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_HAND_ON, [delivery_id])
        handed_on = cursor.rowcount
        cursor.execute(_OWNED, [delivery_id])
    recompute(transactions)
    changes.delivery_withdrawn(delivery_id)
    return count - handed_on
