"""SPEC §11: a withdrawn delivery stops counting, and the state is as if it had never arrived.

Hypothesis draws deliveries over a few shared identities (overlapping, repeating
transactions, whole histories sent again), applies them all with the rollups
kept as they arrive, withdraws some, and compares the state, the rollups and
the engine's answers with a fresh ledger that only ever received the rest,
its rollups built from it.
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
from inuk.stats import rollups
from tests.ledger.conftest import FEB1, Ledger, tx
from tests.ledger.test_order_independence import histories, row
from tests.stats.conftest import TODAY
from tests.stats.snapshot import apply, record_keys, statistics, use_record_keys


def state_after(
    ledger: Ledger,
    history: list[tuple],
    deliveries: list[list[int]],
    withdrawn: set[int],
    keys: dict[str, int] | None = None,
) -> tuple:
    """Apply ``deliveries`` in order, withdraw those numbered in ``withdrawn``; keep nothing.

    Returns the state, the statistics and the persons' record keys. Without
    ``keys`` the rollups are kept as deliveries arrive and go; with them (a
    fresh ingest) the persons take those keys and the rollups are built after.
    """
    with transaction.atomic():
        if keys is None:
            rollups.rebuild(TODAY)
        created = []
        for delivery in deliveries:
            apply(ledger, [row(ledger, history[i]) for i in delivery])
            created.append(Delivery.objects.latest("pk").pk)
        drawn_keys = record_keys()
        for number in sorted(withdrawn):
            withdraw(created[number], reason="test")
        if keys is not None:
            use_record_keys(keys)
            rollups.rebuild(TODAY)
        state = (ledger.interventions(), ledger.results())
        figures = statistics()
        rebuild()
        rebuilt = (ledger.interventions(), ledger.results())
        transaction.set_rollback(True)
    assert rebuilt == state
    return state, figures, drawn_keys


@st.composite
def withdrawals(draw) -> tuple[list[tuple], list[list[int]], set[int]]:
    history, deliveries, _order = draw(histories())
    withdrawn = draw(st.sets(st.sampled_from(range(len(deliveries)))))
    return history, deliveries, withdrawn


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(withdrawals())
def test_withdrawing_deliveries_leaves_what_a_fresh_ingest_of_the_others_gives(ledger, drawn):
    history, deliveries, withdrawn = drawn

    after, figures, keys = state_after(ledger, history, deliveries, withdrawn)
    remaining = [d for number, d in enumerate(deliveries) if number not in withdrawn]
    fresh, fresh_figures, _ = state_after(ledger, history, remaining, set(), keys)

    assert after == fresh
    assert figures == fresh_figures


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
