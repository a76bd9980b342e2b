"""Two deliveries applied at the same moment, by two workers, as on a busy PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from inuk.ledger.bulk import PersonRow, apply_delivery
from inuk.ledger.models import Person, Transaction
from tests.ledger.conftest import FEB1, tx

pytestmark = [
    pytest.mark.slow,  # writers in threads, committed for real: seconds each
    pytest.mark.django_db(transaction=True),
]


def test_deliveries_applied_at_once_by_two_workers_both_count_once(ledger):
    # The same new persons and partly the same transactions in both: without
    # the writers' lock the second would trip over the first's new rows.
    pseudonyms = [f"{n:032x}" for n in range(300)]
    persons = [PersonRow(p, 2000, "M", False) for p in pseudonyms]
    common = [tx("R", person=p) for p in pseudonyms]
    first = ledger.rows(
        [*common, *(tx("B", at="2024-01-11 10:00", person=p) for p in pseudonyms)], ledger.vasby
    )
    second = ledger.rows(
        [*common, *(tx("A", at="2024-02-01 10:00", end=FEB1, person=p) for p in pseudonyms)],
        ledger.vasby,
    )
    deliveries = [ledger.delivery(), ledger.delivery()]
    outcomes, failures = [], []
    ready = threading.Barrier(2)

    def work(delivery_id, rows):
        try:
            ready.wait()
            with transaction.atomic():
                outcomes.append(apply_delivery(delivery_id, persons, rows))
        except Exception as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    workers = [
        threading.Thread(target=work, args=(deliveries[0], first)),
        threading.Thread(target=work, args=(deliveries[1], second)),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert failures == []
    assert sum(o.accepted for o in outcomes) == 900
    assert sum(o.already_known for o in outcomes) == 300
    assert Person.objects.count() == 300
    assert Transaction.objects.count() == 900
    # The Ändring (2024-02-01) is later than the Borttag (2024-01-11) for everyone.
    assert {r[5] for r in ledger.interventions(include_removed=False)} == {FEB1}
    assert len(ledger.interventions(include_removed=False)) == 300
