"""An agreement's life: signatures, force, written notice, agreed ends, decisions, successors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from inuk.organisations.models import Agreement, AgreementState, Party, notice_last_day

D = dt.date


def in_force_by_query(agreement: Agreement, on: dt.date) -> bool:
    return Agreement.objects.in_force(on).filter(pk=agreement.pk).exists()


def assert_in_force(agreement: Agreement, on: dt.date, expected: bool) -> None:
    """The model's answer and the database query's answer agree, and are ``expected``."""
    agreement.refresh_from_db()
    assert agreement.is_in_force(on) is expected
    assert in_force_by_query(agreement, on) is expected


# --- signatures ---------------------------------------------------------------------


def test_an_agreement_nobody_has_signed_is_not_in_force(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, None, None, af_case_number="Af-2025/1")

    assert_in_force(agreement, D(2025, 6, 1), False)
    assert agreement.state(D(2025, 6, 1)) == AgreementState.AWAITING_SIGNATURE
    assert agreement.in_force_from is None


@pytest.mark.parametrize("signed", [{"af": D(2025, 1, 10)}, {"kommun": D(2025, 1, 10)}])
def test_an_agreement_signed_by_one_party_only_is_not_in_force(cast, make_agreement, signed):
    agreement = make_agreement(cast.vasby.municipality, signed.get("af"), signed.get("kommun"))

    assert_in_force(agreement, D(2025, 6, 1), False)
    assert agreement.state(D(2025, 6, 1)) == AgreementState.AWAITING_SIGNATURE


def test_it_is_in_force_from_the_later_signature_on(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2025, 1, 20), D(2025, 1, 10))

    assert agreement.in_force_from == D(2025, 1, 20)
    assert_in_force(agreement, D(2025, 1, 19), False)
    assert_in_force(agreement, D(2025, 1, 20), True)
    assert agreement.state(D(2025, 1, 19)) == AgreementState.NOT_YET_IN_FORCE
    assert agreement.state(D(2025, 1, 20)) == AgreementState.IN_FORCE
    assert_in_force(agreement, D(2035, 1, 1), True)


def test_the_second_signature_given_later_puts_it_in_force(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2025, 1, 10), None)

    agreement.sign(Party.MUNICIPALITY, D(2025, 2, 3))

    assert_in_force(agreement, D(2025, 2, 2), False)
    assert_in_force(agreement, D(2025, 2, 3), True)


def test_a_signature_once_given_is_not_replaced(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2025, 1, 10), None)

    with pytest.raises(ValidationError, match="already signed"):
        agreement.sign(Party.AF, D(2025, 1, 12))
    agreement.refresh_from_db()
    assert agreement.signed_by_af == D(2025, 1, 10)


def test_it_refuses_a_signing_date_in_the_future(cast, make_agreement):
    with pytest.raises(ValidationError, match="future"):
        make_agreement(cast.vasby.municipality, D(2205, 1, 10), D(2025, 1, 10))


# --- written notice -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notice", "last_day"),
    [
        (D(2025, 1, 15), D(2025, 4, 15)),  # the same day number, three months on
        (D(2025, 1, 31), D(2025, 4, 30)),  # April has no 31st: its last day
        (D(2025, 3, 31), D(2025, 6, 30)),
        (D(2025, 5, 31), D(2025, 8, 31)),
        (D(2024, 11, 30), D(2025, 2, 28)),  # into a common year's February
        (D(2024, 11, 28), D(2025, 2, 28)),
        (D(2023, 11, 30), D(2024, 2, 29)),  # into a leap year's February
        (D(2023, 11, 29), D(2024, 2, 29)),
        (D(2024, 2, 29), D(2024, 5, 29)),  # notice on a leap day
        (D(2024, 10, 31), D(2025, 1, 31)),  # over the turn of the year
        (D(2024, 12, 31), D(2025, 3, 31)),
    ],
)
def test_notice_ends_it_three_calendar_months_later_the_last_day_included(notice, last_day):
    assert notice_last_day(notice) == last_day


@pytest.mark.parametrize(
    ("notice", "last_day"),
    [
        (D(2025, 1, 15), D(2025, 4, 15)),
        (D(2025, 1, 31), D(2025, 4, 30)),
        (D(2023, 11, 30), D(2024, 2, 29)),
    ],
)
def test_after_notice_it_applies_up_to_the_last_day_and_not_the_day_after(
    cast, make_agreement, notice, last_day
):
    agreement = make_agreement(cast.vasby.municipality, D(2023, 1, 2), D(2023, 1, 3))

    agreement.give_notice(notice, by=Party.MUNICIPALITY)

    assert agreement.last_day == last_day
    assert agreement.notice_given_by == Party.MUNICIPALITY
    assert_in_force(agreement, last_day - dt.timedelta(days=1), True)
    assert_in_force(agreement, last_day, True)
    assert_in_force(agreement, last_day + dt.timedelta(days=1), False)
    assert agreement.state(notice) == AgreementState.NOTICE_GIVEN
    assert agreement.state(last_day + dt.timedelta(days=1)) == AgreementState.ENDED


def test_the_parties_may_agree_on_an_earlier_last_day(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2024, 1, 2), D(2024, 1, 3))

    agreement.give_notice(D(2025, 1, 15), by=Party.AF, agreed_last_day=D(2025, 2, 28))

    assert agreement.last_day == D(2025, 2, 28)
    assert_in_force(agreement, D(2025, 2, 28), True)
    assert_in_force(agreement, D(2025, 3, 1), False)


def test_the_parties_may_agree_on_a_later_last_day(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2024, 1, 2), D(2024, 1, 3))

    agreement.give_notice(D(2025, 1, 15), agreed_last_day=D(2025, 6, 30))

    assert_in_force(agreement, D(2025, 4, 16), True)
    assert_in_force(agreement, D(2025, 6, 30), True)
    assert_in_force(agreement, D(2025, 7, 1), False)


def test_an_agreed_last_day_can_be_added_to_a_notice_already_given(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2024, 1, 2), D(2024, 1, 3))
    agreement.give_notice(D(2025, 1, 15), by=Party.AF)

    agreement.give_notice(D(2025, 1, 15), agreed_last_day=D(2025, 1, 31))

    assert agreement.last_day == D(2025, 1, 31)
    assert agreement.notice_given_by == Party.AF


def test_a_second_notice_on_another_day_is_refused(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2024, 1, 2), D(2024, 1, 3))
    agreement.give_notice(D(2025, 1, 15))

    with pytest.raises(ValidationError, match="already given"):
        agreement.give_notice(D(2025, 2, 1))


def test_notice_is_refused_before_the_agreement_is_in_force(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2025, 1, 10), None)

    with pytest.raises(ValidationError, match="not in force"):
        agreement.give_notice(D(2025, 2, 1))


def test_an_agreed_last_day_before_the_notice_is_refused(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2024, 1, 2), D(2024, 1, 3))

    with pytest.raises(ValidationError, match="before the notice"):
        agreement.give_notice(D(2025, 1, 15), agreed_last_day=D(2025, 1, 14))
    agreement.refresh_from_db()
    assert agreement.notice_given_on is None


# --- ending by decision -----------------------------------------------------------------


def test_a_decision_ends_it_at_once_from_the_day_of_the_decision(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2024, 1, 2), D(2024, 1, 3))

    agreement.end_by_decision(D(2025, 3, 10), "Regeringsbeslut A2025/00123")

    assert agreement.last_day == D(2025, 3, 9)
    assert_in_force(agreement, D(2025, 3, 9), True)
    assert_in_force(agreement, D(2025, 3, 10), False)
    assert agreement.decision_reference == "Regeringsbeslut A2025/00123"


def test_a_decision_during_the_notice_period_ends_it_sooner(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2024, 1, 2), D(2024, 1, 3))
    agreement.give_notice(D(2025, 1, 15))

    agreement.end_by_decision(D(2025, 2, 1), "Dom 2025-02-01 mål 123-25")

    assert agreement.last_day == D(2025, 1, 31)
    assert_in_force(agreement, D(2025, 2, 1), False)


def test_a_decision_needs_a_reference(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2024, 1, 2), D(2024, 1, 3))

    with pytest.raises(ValidationError, match="reference"):
        agreement.end_by_decision(D(2025, 3, 10), "  ")


def test_an_agreement_that_has_ended_cannot_be_ended_again(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2024, 1, 2), D(2024, 1, 3))
    agreement.give_notice(D(2024, 6, 1))

    with pytest.raises(ValidationError, match="not in force"):
        agreement.end_by_decision(D(2025, 3, 10), "Beslut 1")


# --- one agreement in force at a time -------------------------------------------------------


def test_a_second_agreement_can_follow_one_that_has_ended(cast, make_agreement):
    first = make_agreement(cast.vasby.municipality, D(2023, 1, 2), D(2023, 1, 3))
    first.give_notice(D(2025, 1, 15))  # last day 2025-04-15

    second = make_agreement(
        cast.vasby.municipality, D(2025, 4, 16), D(2025, 4, 16), af_case_number="Af-2025/9"
    )

    assert_in_force(first, D(2025, 4, 15), True)
    assert_in_force(second, D(2025, 4, 15), False)
    assert_in_force(first, D(2025, 4, 16), False)
    assert_in_force(second, D(2025, 4, 16), True)
    assert cast.vasby.municipality.agreement_on(D(2025, 4, 16)) == second


def test_a_second_agreement_overlapping_the_first_is_refused(cast, make_agreement):
    first = make_agreement(cast.vasby.municipality, D(2023, 1, 2), D(2023, 1, 3))
    first.give_notice(D(2025, 1, 15))  # last day 2025-04-15

    with pytest.raises(ValidationError, match="at most one agreement in force"):
        make_agreement(cast.vasby.municipality, D(2025, 4, 15), D(2025, 4, 1))
    assert Agreement.objects.filter(municipality=cast.vasby.municipality).count() == 1


def test_a_second_agreement_while_the_first_runs_until_further_notice_is_refused(
    cast, make_agreement
):
    make_agreement(cast.vasby.municipality, D(2023, 1, 2), D(2023, 1, 3))

    with pytest.raises(ValidationError, match="at most one agreement in force"):
        make_agreement(cast.vasby.municipality, D(2025, 4, 16), D(2025, 4, 16))


def test_a_signature_that_would_overlap_the_agreement_in_force_is_refused(cast, make_agreement):
    make_agreement(cast.vasby.municipality, D(2023, 1, 2), D(2023, 1, 3))
    pending = make_agreement(cast.vasby.municipality, D(2025, 1, 10), None)

    with pytest.raises(ValidationError, match="at most one agreement in force"):
        pending.sign(Party.MUNICIPALITY, D(2025, 1, 11))
    pending.refresh_from_db()
    assert pending.signed_by_municipality is None


def test_other_municipalities_agreements_do_not_count(cast, make_agreement):
    make_agreement(cast.vasby.municipality, D(2023, 1, 2), D(2023, 1, 3))

    other = make_agreement(cast.vallentuna.municipality, D(2023, 1, 2), D(2023, 1, 3))

    assert other.is_in_force(D(2024, 1, 1))


def test_a_municipality_has_at_most_one_agreement_awaiting_signature(cast, make_agreement):
    make_agreement(cast.vasby.municipality, D(2025, 1, 10), None)

    with pytest.raises(ValidationError, match="awaiting signature"):
        make_agreement(cast.vasby.municipality, None, None)
    # The database holds the rule too, for writes that skip validation.
    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.create(municipality=cast.vasby.municipality)


def test_saving_keeps_the_stored_last_day_in_step(cast, make_agreement):
    agreement = make_agreement(cast.vasby.municipality, D(2023, 1, 2), D(2023, 1, 3))
    agreement.notice_given_on = D(2025, 1, 31)
    agreement.save(update_fields=["notice_given_on"])

    agreement.refresh_from_db()
    assert agreement.last_day == D(2025, 4, 30)
