"""Who may deliver for which municipality: ``refusal()`` and ``deliverable_codes()``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from inuk.format.errors import RULES
from inuk.format.municipalities import municipality_codes
from inuk.organisations.authorisation import deliverable_codes, refusal
from inuk.organisations.models import Municipality, Organisation

D = dt.date
DAY = D(2025, 3, 1)


@pytest.fixture
def vasby_in_force(vasby, make_agreement):
    return make_agreement(vasby, D(2024, 1, 2), D(2024, 1, 3))


# --- Arbetsförmedlingen --------------------------------------------------------------


@pytest.mark.parametrize("kommunkod", ["0114", "114", "2584", "0180"])
def test_af_may_deliver_for_any_municipality_without_an_agreement(
    af, kommunkod, django_assert_num_queries
):
    with django_assert_num_queries(0):
        assert refusal(af, kommunkod, DAY) is None


def test_af_may_deliver_for_all_290_municipalities(af):
    assert deliverable_codes(af, DAY) == sorted(municipality_codes())
    assert len(deliverable_codes(af, DAY)) == 290


# --- a municipality ------------------------------------------------------------------------


def test_a_municipality_may_deliver_for_its_own_code_while_its_agreement_is_in_force(
    vasby, vasby_in_force
):
    assert refusal(vasby.organisation, "0114", DAY) is None
    assert refusal(vasby.organisation, "114", DAY) is None
    assert deliverable_codes(vasby.organisation, DAY) == ["0114"]


def test_a_municipality_may_not_deliver_for_another_municipality(vasby, vasby_in_force):
    assert refusal(vasby.organisation, "0115", DAY) == "KOMMUNKOD_NOT_OWN"


def test_a_municipality_without_an_agreement_may_not_deliver(vasby):
    assert refusal(vasby.organisation, "0114", DAY) == "AGREEMENT_NOT_IN_FORCE"
    assert deliverable_codes(vasby.organisation, DAY) == []


def test_a_municipality_whose_agreement_ended_may_not_deliver_from_the_day_after(
    vasby, vasby_in_force
):
    vasby_in_force.give_notice(D(2025, 1, 31))  # last day 2025-04-30

    assert refusal(vasby.organisation, "0114", D(2025, 4, 30)) is None
    assert refusal(vasby.organisation, "0114", D(2025, 5, 1)) == "AGREEMENT_NOT_IN_FORCE"


def test_a_municipality_whose_agreement_awaits_a_signature_may_not_deliver(vasby, make_agreement):
    make_agreement(vasby, D(2024, 1, 2), None)

    assert refusal(vasby.organisation, "0114", DAY) == "AGREEMENT_NOT_IN_FORCE"


# --- suppliers and federations ------------------------------------------------------------


@pytest.fixture(params=["supplier", "federation"])
def deliverer(request) -> Organisation:
    return request.getfixturevalue(request.param)


def test_a_deliverer_may_deliver_for_a_municipality_that_registered_it(
    deliverer, vasby, vasby_in_force, authorise
):
    authorise(deliverer, vasby, D(2024, 6, 1))

    assert refusal(deliverer, "0114", DAY) is None
    assert deliverable_codes(deliverer, DAY) == ["0114"]


def test_a_deliverer_may_not_deliver_for_a_municipality_that_did_not_register_it(
    deliverer, vasby, vallentuna, vasby_in_force, make_agreement, authorise
):
    make_agreement(vallentuna, D(2024, 1, 2), D(2024, 1, 3))
    authorise(deliverer, vasby, D(2024, 6, 1))

    assert refusal(deliverer, "0115", DAY) == "KOMMUNKOD_NOT_AUTHORISED"


def test_a_deliverer_registered_by_nobody_may_not_deliver(deliverer):
    assert refusal(deliverer, "0114", DAY) == "KOMMUNKOD_NOT_AUTHORISED"
    assert deliverable_codes(deliverer, DAY) == []


def test_a_deliverer_may_not_deliver_while_the_municipalitys_agreement_is_not_in_force(
    deliverer, vasby, authorise
):
    authorise(deliverer, vasby, D(2024, 6, 1))

    assert refusal(deliverer, "0114", DAY) == "AGREEMENT_NOT_IN_FORCE"
    assert deliverable_codes(deliverer, DAY) == []


def test_a_registration_counts_from_its_first_day_up_to_and_including_its_last(
    deliverer, vasby, vasby_in_force, authorise
):
    authorise(deliverer, vasby, D(2025, 2, 1), D(2025, 2, 28))

    assert refusal(deliverer, "0114", D(2025, 1, 31)) == "KOMMUNKOD_NOT_AUTHORISED"
    assert refusal(deliverer, "0114", D(2025, 2, 1)) is None
    assert refusal(deliverer, "0114", D(2025, 2, 28)) is None
    assert refusal(deliverer, "0114", D(2025, 3, 1)) == "KOMMUNKOD_NOT_AUTHORISED"


def test_a_revoked_registration_stops_on_the_day_of_revocation(
    deliverer, vasby, vasby_in_force, authorise
):
    authorisation = authorise(deliverer, vasby, D(2024, 6, 1))

    authorisation.revoke(D(2025, 2, 15))

    assert refusal(deliverer, "0114", D(2025, 2, 14)) is None
    assert refusal(deliverer, "0114", D(2025, 2, 15)) == "KOMMUNKOD_NOT_AUTHORISED"


def test_a_deliverer_registered_by_several_municipalities_may_deliver_for_each(
    deliverer, vasby, vallentuna, vasby_in_force, make_agreement, authorise
):
    make_agreement(vallentuna, D(2024, 1, 2), D(2024, 1, 3))
    authorise(deliverer, vasby, D(2024, 6, 1))
    authorise(deliverer, vallentuna, D(2024, 6, 1))

    assert deliverable_codes(deliverer, DAY) == ["0114", "0115"]


# --- the register and the codes -------------------------------------------------------


def test_an_organisation_not_in_the_register_may_not_deliver():
    stranger = Organisation(orgnr="5566778899", name="Okänd AB", kind="leverantor")

    assert refusal(None, "0114", DAY) == "ORG_NOT_REGISTERED"
    assert refusal(stranger, "0114", DAY) == "ORG_NOT_REGISTERED"
    assert deliverable_codes(None, DAY) == []


@pytest.mark.parametrize(
    ("kommunkod", "code"), [("14", "KOMMUNKOD_FORMAT"), ("0100", "KOMMUNKOD_UNKNOWN")]
)
def test_a_code_that_is_no_municipalitys_gets_the_codes_own_error(af, kommunkod, code):
    assert refusal(af, kommunkod, DAY) == code


def test_every_answer_is_a_code_of_the_published_error_list(vasby, supplier, af, vasby_in_force):
    answers = {
        refusal(sender, code, DAY)
        for sender in (vasby.organisation, supplier, af, None)
        for code in ("0114", "0115", "x")
    }
    assert answers - {None} <= set(RULES)


def test_each_answer_costs_at_most_one_query(
    vasby, supplier, vasby_in_force, authorise, django_assert_max_num_queries
):
    authorise(supplier, vasby, D(2024, 6, 1))
    for sender, code in [
        (vasby.organisation, "0114"),
        (vasby.organisation, "0115"),
        (supplier, "0114"),
        (supplier, "0115"),
    ]:
        with django_assert_max_num_queries(1):
            refusal(sender, code, DAY)
    with django_assert_max_num_queries(1):
        deliverable_codes(supplier, DAY)


def test_deliverable_codes_lists_exactly_the_codes_refusal_allows(
    vasby, vallentuna, supplier, make_agreement, authorise
):
    make_agreement(vasby, D(2024, 1, 2), D(2024, 1, 3))
    authorise(supplier, vasby, D(2024, 6, 1))
    authorise(supplier, vallentuna, D(2024, 6, 1))  # Vallentuna has no agreement
    authorise(supplier, Municipality.objects.get(code="0180"), D(2025, 6, 1))  # not yet

    allowed = [
        code for code in sorted(municipality_codes()) if refusal(supplier, code, DAY) is None
    ]

    assert allowed == deliverable_codes(supplier, DAY) == ["0114"]


# --- who can be registered --------------------------------------------------------------


def test_only_a_supplier_or_a_federation_can_be_registered_to_deliver(vasby, vallentuna, authorise):
    with pytest.raises(ValidationError, match="supplier or a municipal federation"):
        authorise(vallentuna.organisation, vasby, D(2024, 6, 1))


def test_overlapping_registrations_of_the_same_supplier_are_refused(supplier, vasby, authorise):
    authorise(supplier, vasby, D(2024, 6, 1), D(2024, 12, 31))

    with pytest.raises(ValidationError, match="already registered"):
        authorise(supplier, vasby, D(2024, 12, 31))
    authorise(supplier, vasby, D(2025, 1, 1))
