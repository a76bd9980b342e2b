"""Withdrawing a whole delivery: its transactions stop counting, and the state follows.

The transactions stay in the ledger (it is append-only), marked withdrawn
(``Transaction.withdrawn``), which frees their keys: the same transactions
delivered again are appended and count, instead of being taken for already
known. Who may withdraw, and the audit entry, belong to the caller.
"""

from __future__ import annotations

import datetime as dt

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from inuk.ledger.backends import backend
from inuk.ledger.bulk import recompute, require_atomic
from inuk.ledger.models import Transaction, Withdrawal
from inuk.stats import rollups


def withdraw(delivery_id: int, *, reason: str = "", at: dt.datetime | None = None) -> int:
    """Withdraw delivery ``delivery_id``; returns how many of its transactions stop counting.

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
    recompute(transactions)
    rollups.delivery_withdrawn(delivery_id)
    return count
