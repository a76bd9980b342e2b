"""SPEC §11: a withdrawn delivery stops counting, and the state is as if it had never arrived.

Hypothesis draws deliveries over a few shared identities (overlapping, repeating
transactions, whole histories sent again), applies them all, withdraws some,
and compares the state with a fresh ledger that only ever received the rest.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inuk.intake.models import Delivery
from inuk.ledger.bulk import rebuild
from inuk.ledger.models import Intervention, Transaction
from inuk.ledger.withdrawal import withdraw
from tests.ledger.conftest import FEB1, Ledger, tx
from tests.ledger.test_order_independence import histories, row


def state_after(
    ledger: Ledger, history: list[tuple], deliveries: list[list[int]], withdrawn: set[int]
) -> tuple:
    """Apply ``deliveries`` in order, withdraw those numbered in ``withdrawn``; keep nothing."""
    with transaction.atomic():
        created = []
        for delivery in deliveries:
            ledger.apply(*(row(ledger, history[i]) for i in delivery))
            created.append(Delivery.objects.latest("pk").pk)
        for number in sorted(withdrawn):
            withdraw(created[number], reason="test")
        state = (ledger.interventions(), ledger.results())
        rebuild()
        rebuilt = (ledger.interventions(), ledger.results())
        transaction.set_rollback(True)
    assert rebuilt == state
    return state


@st.composite
def withdrawals(draw) -> tuple[list[tuple], list[list[int]], set[int]]:
    history, deliveries, _order = draw(histories())
    withdrawn = draw(st.sets(st.sampled_from(range(len(deliveries)))))
    return history, deliveries, withdrawn


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(withdrawals())
def test_withdrawing_deliveries_leaves_the_state_of_the_others_alone(ledger, drawn):
    history, deliveries, withdrawn = drawn

    after = state_after(ledger, history, deliveries, withdrawn)
    remaining = [d for number, d in enumerate(deliveries) if number not in withdrawn]
    fresh = state_after(ledger, history, remaining, set())

    assert after == fresh


def test_a_withdrawn_delivery_cannot_be_withdrawn_again(ledger):
    ledger.apply(tx("R"))
    (delivery_id,) = Transaction.objects.values_list("delivery_id", flat=True)
    with transaction.atomic():
        withdraw(delivery_id)
    with pytest.raises(ValueError, match="already withdrawn"), transaction.atomic():
        withdraw(delivery_id)


def test_a_transaction_another_delivery_carried_too_keeps_counting(ledger):
    ledger.apply(tx("R", at="2024-01-10 10:00"))
    ledger.apply(tx("R", at="2024-01-10 10:00"), tx("A", at="2024-02-01 09:00", end=FEB1))
    first, second = Delivery.objects.order_by("pk").values_list("pk", flat=True)

    with transaction.atomic():
        stopped = withdraw(first)

    assert stopped == 0
    (record,) = Intervention.objects.current()
    assert record.end == FEB1
    assert set(Transaction.objects.counting().values_list("delivery_id", flat=True)) == {second}
