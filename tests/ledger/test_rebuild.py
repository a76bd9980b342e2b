"""Deriving the state again from the ledger: rebuild, recompute, and withdrawn deliveries."""

from __future__ import annotations

import pytest
from django.db import transaction

from inuk.intake.models import Delivery
from inuk.ledger.bulk import rebuild, recompute
from inuk.ledger.models import Intervention, Transaction, Withdrawal
from inuk.ledger.withdrawal import withdraw
from tests.conftest import VASBY_CODE, VASBY_ORGNR
from tests.ledger.conftest import ANNA, BO, FEB1, JAN1, MAR1, result, tx

V = VASBY_ORGNR


def deliveries(ledger):
    """A small history with changes, removals, ties and both kinds of record."""
    ledger.apply(
        tx("R", at="2024-01-10 10:00"),
        tx("R", at="2024-01-10 10:00", code="KAR"),
        result("R", at="2024-01-12 10:00"),
        tx("R", at="2024-01-10 10:00", person=BO),
    )
    ledger.apply(
        tx("A", at="2024-02-01 12:00", end=FEB1),
        tx("B", at="2024-02-01 12:00", code="KAR"),
        tx("A", at="2024-02-01 12:00", person=BO, end=FEB1, system="Tie, earlier"),
        tx("A", at="2024-02-01 12:00", person=BO, end=MAR1, system="Tie, later"),
    )
    ledger.apply(tx("R", at="2024-01-05 10:00", code="KAR"), result("A", at="2024-03-01 10:00"))


def test_rebuild_derives_the_same_state_as_the_incremental_updates(ledger):
    deliveries(ledger)
    incremental = (ledger.interventions(), ledger.results())
    keys = set(Intervention.objects.values_list("transaction_time", "delivery_id", "position"))

    with transaction.atomic():
        rebuild()

    assert (ledger.interventions(), ledger.results()) == incremental
    assert set(Intervention.objects.values_list("transaction_time", "delivery_id", "position")) == (
        keys
    )


def test_rebuild_brings_back_a_state_that_was_lost(ledger):
    deliveries(ledger)
    incremental = (ledger.interventions(), ledger.results())
    Intervention.objects.all().delete()

    with transaction.atomic():
        rebuild()

    assert (ledger.interventions(), ledger.results()) == incremental


def test_recompute_derives_only_the_identities_of_the_given_transactions(ledger):
    deliveries(ledger)
    Intervention.objects.filter(person__pseudonym=BO).update(system="Damaged")
    Intervention.objects.filter(person__pseudonym=ANNA).update(system="Damaged")

    with transaction.atomic():
        recompute(Transaction.objects.filter(person__pseudonym=BO))

    systems = {r[2]: r[6] for r in ledger.interventions() if r[3] == "SYV"}
    assert systems == {ANNA: "Damaged", BO: "Tie, later"}


def test_recompute_rebuild_and_withdraw_need_a_transaction():
    # No database access at all: the guard comes before the first query.
    with pytest.raises(transaction.TransactionManagementError):
        rebuild()
    with pytest.raises(transaction.TransactionManagementError):
        recompute(Transaction.objects.all())
    with pytest.raises(transaction.TransactionManagementError):
        withdraw(1)


def test_a_withdrawn_delivery_stops_counting(ledger):
    ledger.apply(tx("R", at="2024-01-10 10:00"), tx("R", at="2024-01-10 10:00", code="KAR"))
    ledger.apply(
        tx("A", at="2024-02-01 12:00", end=FEB1), tx("B", at="2024-02-01 12:00", code="KAR")
    )
    mistaken = Delivery.objects.order_by("id").last()

    with transaction.atomic():
        stopped = withdraw(mistaken.pk, reason="sent for the wrong month")

    assert stopped == 2
    assert ledger.interventions() == {
        (V, VASBY_CODE, ANNA, "SYV", JAN1, None, "SystemX", False),
        (V, VASBY_CODE, ANNA, "KAR", JAN1, None, "SystemX", False),
    }
    assert Withdrawal.objects.get().reason == "sent for the wrong month"
    assert Transaction.objects.count() == 4
    assert Transaction.objects.counting().count() == 2


def test_an_identity_only_a_withdrawn_delivery_had_disappears(ledger):
    ledger.apply(tx("R"))
    ledger.apply(tx("R", code="KAR"))

    with transaction.atomic():
        withdraw(Delivery.objects.order_by("id").last().pk)

    assert {r[3] for r in ledger.interventions()} == {"SYV"}


def test_a_withdrawn_transaction_delivered_again_counts(ledger):
    ledger.apply(tx("R"))
    with transaction.atomic():
        withdraw(Delivery.objects.get().pk)

    outcome = ledger.apply(tx("R"))

    assert (outcome.accepted, outcome.already_known) == (1, 0)
    assert len(ledger.interventions()) == 1


def test_a_registrering_of_a_withdrawn_delivery_does_not_prevent_the_warning(ledger):
    ledger.apply(tx("R"))
    with transaction.atomic():
        withdraw(Delivery.objects.get().pk)

    outcome = ledger.apply(tx("A", at="2024-02-01 12:00", end=FEB1))

    assert outcome.unknown_identity == [0]


def test_rebuild_leaves_withdrawn_deliveries_out(ledger):
    deliveries(ledger)
    with transaction.atomic():
        withdraw(Delivery.objects.order_by("id")[1].pk)
    after_withdrawal = (ledger.interventions(), ledger.results())

    with transaction.atomic():
        rebuild()

    assert (ledger.interventions(), ledger.results()) == after_withdrawal


def test_a_delivery_is_withdrawn_once(ledger):
    ledger.apply(tx("R"))
    delivery_id = Delivery.objects.get().pk
    with transaction.atomic():
        withdraw(delivery_id)

    with pytest.raises(ValueError, match="already withdrawn"), transaction.atomic():
        withdraw(delivery_id)
