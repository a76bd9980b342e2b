"""A delivery is applied whole or not at all (SPEC §4), with real commits and rollbacks."""

from __future__ import annotations

import pytest
from django.db import transaction

from inuk.ledger.bulk import PersonRow, apply_delivery
from inuk.ledger.models import Intervention, Person, Result, Transaction
from tests.conftest import VASBY_CODE, VASBY_ORGNR
from tests.ledger.conftest import ANNA, BO, FEB1, result, tx

pytestmark = [
    pytest.mark.slow,  # transactions committed for real and broken midway: seconds each
    pytest.mark.django_db(transaction=True),
]


def everything() -> tuple:
    return (
        sorted(Transaction.objects.values_list("delivery_id", "position", "status")),
        sorted(Person.objects.values_list("pseudonym", "birth_year", "record_key")),
        sorted(Intervention.objects.values_list("code", "end", "system", "removed")),
        sorted(Result.objects.values_list("code", "system", "removed")),
    )


def test_a_crash_while_the_rows_are_read_leaves_nothing_of_the_delivery(ledger):
    ledger.apply(tx("R"))
    before = everything()
    delivery_id = ledger.delivery()

    def rows():
        yield from ledger.rows(
            [tx("A", end=FEB1, at="2024-02-01 10:00"), tx("R", person=BO)], ledger.vasby
        )
        raise OSError("the spool file went away")

    with pytest.raises(OSError), transaction.atomic():
        apply_delivery(
            delivery_id,
            [PersonRow(ANNA, 1999, "M", False), PersonRow(BO, 2002, "K", False)],
            rows(),
        )

    assert everything() == before


def test_a_failure_after_the_delivery_was_applied_rolls_all_of_it_back(ledger):
    ledger.apply(tx("R"))
    before = everything()
    delivery_id = ledger.delivery()
    rows = ledger.rows(
        [tx("B", at="2024-02-01 10:00"), tx("R", person=BO), result("R")], ledger.vasby
    )

    with pytest.raises(RuntimeError), transaction.atomic():
        outcome = apply_delivery(delivery_id, [PersonRow(BO, 2002, "K", False)], rows)
        assert outcome.accepted == 3
        raise RuntimeError("the receipt could not be written")

    assert everything() == before

    with transaction.atomic():
        again = apply_delivery(delivery_id, [PersonRow(BO, 2002, "K", False)], rows)
    assert (again.accepted, again.already_known) == (3, 0)
    assert ledger.interventions(include_removed=False) == {
        (VASBY_ORGNR, VASBY_CODE, BO, "SYV", tx("R").start, None, "SystemX", False)
    }


def test_a_refused_delivery_leaves_not_even_its_persons(ledger):
    ledger.apply(tx("R"))
    before = everything()

    with pytest.raises(ValueError):
        ledger.apply(
            tx("R", person=BO), tx("R", person="c" * 32), persons=[PersonRow(BO, 2002, "K", False)]
        )

    assert everything() == before
