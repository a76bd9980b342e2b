"""Applying a delivery: what is appended, what is already known, what is warned about."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError

from inuk.intake.models import Delivery
from inuk.ledger.bulk import PersonRow, apply_delivery
from inuk.ledger.fingerprint import fingerprint
from inuk.ledger.models import RECORD_KEY_RANGE, Person, Transaction
from tests.conftest import VALLENTUNA_CODE
from tests.ledger.conftest import ANNA, BO, FEB1, MAR1, STOCKHOLM, result, tx


def test_every_accepted_transaction_is_kept_with_its_delivery_and_position(ledger):
    ledger.apply(tx("R", at="2024-01-10 10:00"), tx("A", at="2024-02-01 12:00", end=FEB1))

    kept = Transaction.objects.order_by("position")
    delivery = Delivery.objects.get()
    assert [(t.delivery_id, t.position, t.status) for t in kept] == [
        (delivery.pk, 0, "R"),
        (delivery.pk, 1, "A"),
    ]


def test_it_counts_accepted_and_already_known_transactions(ledger):
    first = ledger.apply(tx("R", at="2024-01-10 10:00"), tx("A", at="2024-02-01 12:00", end=FEB1))
    second = ledger.apply(
        tx("R", at="2024-01-10 10:00"),
        tx("A", at="2024-02-01 12:00", end=FEB1),
        tx("A", at="2024-03-01 12:00", end=MAR1),
    )

    assert (first.accepted, first.already_known) == (2, 0)
    assert (second.accepted, second.already_known) == (1, 2)
    assert Transaction.objects.count() == 3


def test_a_transaction_repeated_within_one_file_is_kept_once_where_it_first_stood(ledger):
    outcome = ledger.apply(tx("R", code="KAR"), tx("R"), tx("R"))

    assert (outcome.accepted, outcome.already_known) == (2, 1)
    assert Transaction.objects.get(code="SYV").position == 1


def test_resending_a_full_history_changes_nothing(ledger):
    history = [
        tx("R", at="2024-01-10 10:00"),
        tx("A", at="2024-02-01 12:00", end=FEB1),
        result("R", at="2024-02-02 12:00"),
        tx("R", at="2024-01-10 10:00", code="KAR"),
        tx("B", at="2024-01-11 10:00", code="KAR"),
    ]
    ledger.apply(*history)
    before = (ledger.interventions(), ledger.results(), Transaction.objects.count())

    outcome = ledger.apply(*reversed(history))

    assert (outcome.accepted, outcome.already_known) == (0, 5)
    assert (ledger.interventions(), ledger.results(), Transaction.objects.count()) == before


@pytest.mark.parametrize(
    "change",
    [
        {"system": "SystemY"},
        {"end": FEB1},
        {"at": "2024-01-10 10:00:00.000001"},
        {"status": "A"},
        {"person": BO},
        {"kommunkod": VALLENTUNA_CODE},
        {"code": "KAR"},
        {"start": FEB1},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_transaction_differing_in_any_value_is_new(ledger, change):
    ledger.apply(tx("R", at="2024-01-10 10:00"))
    status = change.pop("status", "R")

    outcome = ledger.apply(tx(status, **{"at": "2024-01-10 10:00", **change}))

    assert (outcome.accepted, outcome.already_known) == (1, 0)


def test_the_same_transaction_from_another_organisation_is_new(ledger):
    ledger.apply(tx("R"))

    outcome = ledger.apply(tx("R"), organisation=ledger.af)

    assert (outcome.accepted, outcome.already_known) == (1, 0)


def test_an_andring_or_borttag_of_a_never_registered_identity_is_accepted_with_a_warning(ledger):
    ledger.apply(tx("R", code="SYV"))

    outcome = ledger.apply(
        tx("A", code="SYV", end=FEB1),  # registered before: no warning
        tx("A", code="KAR", end=FEB1),
        tx("R", code="MOT"),
        tx("B", code="PRA"),
    )

    assert outcome.unknown_identity == [1, 3]
    assert outcome.accepted == 4
    assert ("SYV", FEB1) in {(r[3], r[5]) for r in ledger.interventions()}
    assert ("KAR", FEB1) in {(r[3], r[5]) for r in ledger.interventions(include_removed=False)}


def test_a_registrering_anywhere_in_the_same_file_prevents_the_warning(ledger):
    outcome = ledger.apply(tx("A", at="2024-02-01 12:00", end=FEB1), tx("R", at="2024-01-10 10:00"))

    assert outcome.unknown_identity == []


def test_the_warning_is_repeated_while_the_identity_stays_unregistered(ledger):
    ledger.apply(tx("B", at="2024-01-11 10:00"))

    outcome = ledger.apply(tx("B", at="2024-01-11 10:00"))

    assert (outcome.already_known, outcome.unknown_identity) == (1, [0])


def test_a_registrering_of_a_result_does_not_register_the_intervention(ledger):
    outcome = ledger.apply(result("R", code="OVR"), tx("A", code="OVR", end=FEB1))

    assert outcome.unknown_identity == [1]


@pytest.mark.slow  # a large delivery: seconds
def test_it_accepts_a_generator_of_rows(ledger):
    delivery_id = ledger.delivery()
    rows = (
        tx("R", code="SYV", start=dt.date(2024, 1, 1) + dt.timedelta(days=n))._replace(
            position=n, organisation_id=ledger.vasby.pk
        )
        for n in range(25_000)
    )
    with transaction.atomic():
        outcome = apply_delivery(delivery_id, [PersonRow(ANNA, 2001, "K", False)], rows)

    assert (outcome.accepted, outcome.already_known) == (25_000, 0)
    assert len(ledger.interventions()) == 25_000


def test_the_stored_fingerprint_is_the_documented_one(ledger):
    rows = [
        tx("R", at="2024-01-10 10:00:00.123456"),
        tx("A", at="2024-07-01 23:30", end=FEB1, system="Åre–System ✓"),
        result("B", at="2024-10-27 02:30"),  # the hour that occurs twice in Swedish time
    ]
    ledger.apply(*rows)

    stored = {t.position: bytes(t.fingerprint) for t in Transaction.objects.all()}
    expected = ledger.rows(rows, ledger.vasby)
    assert stored == {row.position: fingerprint(row) for row in expected}


def test_the_transaktionsdatum_is_kept_as_the_same_instant(ledger):
    moment = dt.datetime(2024, 3, 31, 2, 30, 15, 250000, tzinfo=dt.UTC)
    ledger.apply(tx("R", at=moment.astimezone(STOCKHOLM).replace(tzinfo=None).isoformat()))

    assert Transaction.objects.get().transaction_time == moment
    assert Transaction.objects.filter(transaction_time=moment).exists()


# --- persons -----------------------------------------------------------------------


def test_a_person_is_kept_by_pseudonym_with_only_what_statistics_need(ledger):
    ledger.apply(tx("R"), persons=[PersonRow(ANNA, 1999, "M", True)])

    person = Person.objects.get()
    assert (person.pseudonym, person.birth_year, person.sex, person.coordination_number) == (
        ANNA,
        1999,
        "M",
        True,
    )
    assert {f.name for f in Person._meta.concrete_fields} == {
        "id", "pseudonym", "birth_year", "sex", "coordination_number", "record_key",
    }  # fmt: skip


def test_a_person_gets_a_random_record_key_that_never_changes(ledger):
    ledger.apply(tx("R"), tx("R", person=BO))
    keys = dict(Person.objects.values_list("pseudonym", "record_key"))

    ledger.apply(tx("R", code="KAR"), tx("R", code="KAR", person=BO))

    assert dict(Person.objects.values_list("pseudonym", "record_key")) == keys
    assert all(0 <= key < RECORD_KEY_RANGE for key in keys.values())
    assert keys[ANNA] != keys[BO]


def test_record_keys_spread_over_their_whole_range(ledger):
    persons = [PersonRow(f"{n:032x}", 2000, "K", False) for n in range(2000)]
    rows = [tx("R", person=p.pseudonym) for p in persons]
    ledger.apply(*rows, persons=persons)

    keys = list(Person.objects.values_list("record_key", flat=True))
    quarters = {key * 4 // RECORD_KEY_RANGE for key in keys}
    assert len(set(keys)) == 2000
    assert quarters == {0, 1, 2, 3}
    assert max(keys) > RECORD_KEY_RANGE * 0.99


def test_a_persons_description_follows_the_latest_delivery(ledger):
    ledger.apply(tx("R"), persons=[PersonRow(ANNA, 1999, "K", True)])
    key = Person.objects.get().record_key

    ledger.apply(tx("R", code="KAR"), persons=[PersonRow(ANNA, 1998, "M", False)])

    person = Person.objects.get()
    assert (person.birth_year, person.sex, person.coordination_number) == (1998, "M", False)
    assert person.record_key == key


def test_a_persons_samordningsnummer_flag_alone_follows_the_latest_delivery(ledger):
    ledger.apply(tx("R"), persons=[PersonRow(ANNA, 1999, "K", True)])

    ledger.apply(tx("R", code="KAR"), persons=[PersonRow(ANNA, 1999, "K", False)])

    person = Person.objects.get()
    assert (person.birth_year, person.sex, person.coordination_number) == (1999, "K", False)


def test_a_person_described_twice_in_one_delivery_is_kept_once(ledger):
    same = PersonRow(ANNA, 1999, "K", False)

    ledger.apply(tx("R"), persons=[same, same, same])

    assert Person.objects.count() == 1


# --- what the caller must get right ------------------------------------------------


def test_it_refuses_to_run_outside_a_transaction():
    # No database access at all: the guard comes before the first query.
    with pytest.raises(TransactionManagementError):
        apply_delivery(1, [], [])


def test_it_refuses_a_pseudonym_missing_from_the_persons(ledger):
    with pytest.raises(ValueError, match="pseudonym"):
        ledger.apply(tx("R", person=BO), persons=[PersonRow(ANNA, 1999, "K", False)])


def test_it_refuses_an_organisation_that_does_not_exist(ledger):
    with pytest.raises(ValueError, match="organisation"):
        ledger.apply(tx("R", organisation=10**9))


def test_it_refuses_a_delivery_that_does_not_exist(ledger):
    with transaction.atomic(), pytest.raises(ValueError, match="no delivery"):
        apply_delivery(10**9, [], [])


def test_a_delivery_without_accepted_transactions_changes_nothing(ledger):
    ledger.apply(tx("R"))
    before = (ledger.interventions(), Transaction.objects.count(), Person.objects.count())

    outcome = ledger.apply()

    assert outcome == (0, 0, [])
    assert (ledger.interventions(), Transaction.objects.count(), Person.objects.count()) == before
