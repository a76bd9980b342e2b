"""SPEC §5: the current state, derived from the transactions, rule by rule."""

from __future__ import annotations

import datetime as dt

from inuk.ledger.models import Intervention
from tests.conftest import AF_ORGNR, VALLENTUNA_CODE, VASBY_CODE, VASBY_ORGNR
from tests.ledger.conftest import ANNA, BO, FEB1, JAN1, MAR1, result, tx

V = VASBY_ORGNR


def test_a_registrering_creates_the_current_record(ledger):
    ledger.apply(tx("R", code="SYV", start=JAN1, system="SystemX"))

    assert ledger.interventions() == {(V, VASBY_CODE, ANNA, "SYV", JAN1, None, "SystemX", False)}


def test_the_latest_transaktionsdatum_wins_though_it_arrived_first(ledger):
    ledger.apply(tx("A", at="2024-03-01 08:00", end=MAR1, system="New"))
    ledger.apply(tx("R", at="2024-01-10 10:00", system="Old"))

    assert ledger.interventions() == {(V, VASBY_CODE, ANNA, "SYV", JAN1, MAR1, "New", False)}


def test_the_latest_transaktionsdatum_wins_within_one_delivery_whatever_its_place(ledger):
    ledger.apply(
        tx("A", at="2024-03-01 08:00", end=MAR1, system="New"),
        tx("R", at="2024-01-10 10:00", system="Old"),
    )

    assert ledger.interventions() == {(V, VASBY_CODE, ANNA, "SYV", JAN1, MAR1, "New", False)}


def test_an_andring_changes_the_end_date_and_the_system(ledger):
    ledger.apply(tx("R", at="2024-01-10 10:00"))
    ledger.apply(tx("A", at="2024-02-01 12:00", end=FEB1, system="SystemY"))

    assert ledger.interventions() == {(V, VASBY_CODE, ANNA, "SYV", JAN1, FEB1, "SystemY", False)}


def test_an_andring_can_take_the_end_date_away_again(ledger):
    ledger.apply(tx("R", at="2024-01-10 10:00"), tx("A", at="2024-02-01 12:00", end=FEB1))
    ledger.apply(tx("A", at="2024-02-02 12:00", end=None))

    assert ledger.interventions() == {(V, VASBY_CODE, ANNA, "SYV", JAN1, None, "SystemX", False)}


def test_a_borttag_removes_the_record_and_leaves_a_tombstone(ledger):
    ledger.apply(tx("R", at="2024-01-10 10:00"))
    ledger.apply(tx("B", at="2024-01-11 10:00"))

    assert ledger.interventions(include_removed=False) == set()
    assert ledger.interventions() == {(V, VASBY_CODE, ANNA, "SYV", JAN1, None, "SystemX", True)}


def test_an_older_registrering_arriving_after_a_borttag_does_not_bring_the_record_back(ledger):
    ledger.apply(tx("B", at="2024-01-11 10:00"))
    ledger.apply(tx("R", at="2024-01-10 10:00"))

    assert ledger.interventions(include_removed=False) == set()


def test_a_newer_registrering_after_a_borttag_brings_the_record_back(ledger):
    ledger.apply(tx("R", at="2024-01-10 10:00"), tx("B", at="2024-01-11 10:00"))
    ledger.apply(tx("R", at="2024-01-12 10:00", system="SystemY"))

    assert ledger.interventions() == {(V, VASBY_CODE, ANNA, "SYV", JAN1, None, "SystemY", False)}


def test_a_borttag_older_than_the_registrering_does_not_remove_it(ledger):
    ledger.apply(tx("R", at="2024-01-12 10:00"))
    ledger.apply(tx("B", at="2024-01-11 10:00"))

    assert ledger.interventions(include_removed=False) == {
        (V, VASBY_CODE, ANNA, "SYV", JAN1, None, "SystemX", False)
    }


def test_a_changed_start_date_is_another_identity(ledger):
    ledger.apply(tx("R", at="2024-01-10 10:00", start=JAN1))
    ledger.apply(
        tx("B", at="2024-01-20 10:00", start=JAN1), tx("R", at="2024-01-20 10:00", start=FEB1)
    )

    assert ledger.interventions(include_removed=False) == {
        (V, VASBY_CODE, ANNA, "SYV", FEB1, None, "SystemX", False)
    }
    assert len(ledger.interventions()) == 2


def test_a_changed_code_is_another_identity(ledger):
    ledger.apply(tx("R", code="SYV"), tx("R", code="KAR"))

    assert {record[3] for record in ledger.interventions()} == {"SYV", "KAR"}


def test_each_person_kommunkod_and_organisation_has_its_own_record(ledger):
    ledger.apply(tx("R"), tx("R", person=BO), tx("R", kommunkod=VALLENTUNA_CODE))
    ledger.apply(tx("R", kommunkod=VASBY_CODE), organisation=ledger.af)

    assert {(r[0], r[1], r[2]) for r in ledger.interventions()} == {
        (V, VASBY_CODE, ANNA),
        (V, VASBY_CODE, BO),
        (V, VALLENTUNA_CODE, ANNA),
        (AF_ORGNR, VASBY_CODE, ANNA),
    }


def test_a_tie_in_transaktionsdatum_goes_to_the_later_delivery(ledger):
    ledger.apply(tx("A", at="2024-02-01 12:00", end=FEB1, system="First"))
    ledger.apply(tx("A", at="2024-02-01 12:00", end=MAR1, system="Second"))

    assert ledger.interventions() == {(V, VASBY_CODE, ANNA, "SYV", JAN1, MAR1, "Second", False)}


def test_a_tie_within_one_delivery_goes_to_the_later_position_in_the_file(ledger):
    ledger.apply(
        tx("A", at="2024-02-01 12:00", end=MAR1, system="Earlier in the file"),
        tx("A", at="2024-02-01 12:00", end=FEB1, system="Later in the file"),
    )

    assert ledger.interventions() == {
        (V, VASBY_CODE, ANNA, "SYV", JAN1, FEB1, "Later in the file", False)
    }


def test_the_state_remembers_which_transaction_set_it(ledger):
    ledger.apply(tx("R", at="2024-01-10 10:00"), tx("A", at="2024-02-01 12:00", end=FEB1))

    record = Intervention.objects.get()
    assert (record.position, record.transaction_time) == (
        1,
        dt.datetime(2024, 2, 1, 11, 0, tzinfo=dt.UTC),
    )


def test_results_follow_the_same_rules(ledger):
    ledger.apply(result("R", at="2024-01-10 10:00", code="STU", start=FEB1, system="Old"))
    ledger.apply(result("A", at="2024-03-01 10:00", code="STU", start=FEB1, system="New"))
    ledger.apply(result("R", at="2024-01-10 10:00", code="ARB", start=FEB1))
    ledger.apply(result("B", at="2024-03-01 10:00", code="ARB", start=FEB1))
    ledger.apply(result("R", at="2024-02-01 10:00", code="ARB", start=FEB1))

    assert ledger.results(include_removed=False) == {
        (V, VASBY_CODE, ANNA, "STU", FEB1, "New", False)
    }
    assert ledger.interventions() == set()


def test_an_intervention_and_a_result_with_the_same_code_and_start_are_apart(ledger):
    ledger.apply(tx("R", code="OVR", start=FEB1), result("B", code="OVR", start=FEB1))

    assert ledger.interventions(include_removed=False) != set()
    assert ledger.results(include_removed=False) == set()
