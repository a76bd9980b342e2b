"""Merging two persons when a changed personnummer is linked: the ledger counts one person."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from inuk.ledger.bulk import rebuild
from inuk.ledger.merge import merge_persons
from inuk.ledger.models import Intervention, Person, Transaction
from inuk.ledger.rows import PersonRow
from inuk.stats import rollups
from inuk.stats.models import Length, Rollup
from tests.ledger.conftest import ANNA, BO, FEB1, MAR1, Ledger, result, tx

NEW_DESCRIPTION = PersonRow(ANNA, 2003, "M", False)


def merge(absorbed: str | None = BO, described: PersonRow = NEW_DESCRIPTION) -> list[int]:
    with transaction.atomic():
        return merge_persons(ANNA, absorbed, described)


def test_the_absorbed_persons_records_become_the_survivors(ledger: Ledger):
    ledger.apply(tx("R", code="SYV"), persons=[PersonRow(ANNA, 2001, "K", True)])
    ledger.apply(tx("R", code="KAR", person=BO), result("R", person=BO))
    anna, bo = (Person.objects.get(pseudonym=p).pk for p in (ANNA, BO))
    assert merge() == sorted([anna, bo])
    assert list(Person.objects.values_list("pseudonym", flat=True)) == [ANNA]
    assert {code for _, _, _, code, *_ in ledger.interventions()} == {"SYV", "KAR"}
    assert {pseudonym for _, _, pseudonym, *_ in ledger.results()} == {ANNA}
    assert set(Transaction.objects.values_list("person_id", flat=True)) == {anna}


def test_the_survivor_is_described_by_the_new_number(ledger: Ledger):
    ledger.apply(tx("R"), persons=[PersonRow(ANNA, 2001, "K", True)])
    merge(absorbed=None)
    person = Person.objects.get(pseudonym=ANNA)
    assert (person.birth_year, person.sex, person.coordination_number) == (2003, "M", False)


def test_the_state_of_an_identity_held_under_both_is_derived_again(ledger: Ledger):
    # The same intervention under each number: the later transaction wins once they are one.
    ledger.apply(tx("R", at="2024-01-10 10:00"))
    ledger.apply(tx("A", at="2024-03-01 10:00", end=MAR1, person=BO))
    merge()
    assert Intervention.objects.count() == 1
    assert Intervention.objects.get().end == MAR1
    with transaction.atomic():
        before = ledger.interventions()
        rebuild()
    assert ledger.interventions() == before


def test_a_merged_transaction_delivered_again_under_the_survivor_is_already_known(
    ledger: Ledger,
):
    ledger.apply(tx("R", person=BO, end=FEB1))
    merge()
    outcome = ledger.apply(tx("R", person=ANNA, end=FEB1))
    assert (outcome.accepted, outcome.already_known) == (0, 1)


def test_one_transaction_delivered_under_both_numbers_is_kept_twice_and_counted_once(
    ledger: Ledger,
):
    ledger.apply(tx("R"))
    ledger.apply(tx("R", person=BO))
    merge()
    assert Transaction.objects.count() == 2
    assert Intervention.objects.count() == 1


def test_a_survivor_never_delivered_takes_over_the_absorbed_person(ledger: Ledger):
    ledger.apply(tx("R", person=BO))
    bo = Person.objects.get(pseudonym=BO)
    assert merge() == [bo.pk]
    person = Person.objects.get()
    assert (person.pk, person.pseudonym, person.record_key) == (bo.pk, ANNA, bo.record_key)
    outcome = ledger.apply(tx("R", person=ANNA))
    assert outcome.already_known == 1


def rollup_rows() -> tuple[list, list]:
    """Every rollup and length row that counts anything (rows that fell to zero stay)."""
    cells = Rollup.objects.exclude(count=0, persons=0, key_sum=0).values_list(
        "indicator", "period", "geography", "source", "code", "sex", "age", "count", "persons",
        "key_sum",
    )  # fmt: skip
    lengths = Length.objects.exclude(count=0).values_list(
        "period", "geography", "source", "code", "sex", "age", "days", "count"
    )
    return sorted(cells), sorted(lengths)


def test_the_statistics_rollups_follow_the_merge(ledger: Ledger):
    today = dt.date(2024, 6, 30)
    ledger.apply(tx("R", end=FEB1), persons=[PersonRow(ANNA, 2001, "K", True)])
    ledger.apply(tx("R", code="KAR", start=FEB1, person=BO, at="2024-02-01 10:00"),
                 persons=[PersonRow(BO, 1980, "M", False)])  # fmt: skip
    with transaction.atomic():
        rollups.rebuild(today)
    two_persons = rollup_rows()
    merge(described=PersonRow(ANNA, 2003, "M", False))
    merged = rollup_rows()
    assert merged != two_persons
    with transaction.atomic():
        rollups.rebuild(today)
    assert rollup_rows() == merged
