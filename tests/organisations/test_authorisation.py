"""Who may deliver for which municipality: ``refusal()`` and ``deliverable_codes()``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from inuk.format.errors import RULES
from inuk.format.municipalities import municipality_codes
from inuk.organisations.authorisation import deliverable_codes, refusal
from inuk.organisations.models import Municipality, Organisation
from tests.conftest import VALLENTUNA_CODE, VASBY_CODE

D = dt.date
DAY = D(2025, 3, 1)


@pytest.fixture
def vasby_in_force(cast, make_agreement):
    return make_agreement(cast.vasby.municipality, D(2024, 1, 2), D(2024, 1, 3))


# --- Arbetsförmedlingen --------------------------------------------------------------


@pytest.mark.parametrize("kommunkod", [VASBY_CODE, "114", "2584", "0180"])
def test_af_may_deliver_for_any_municipality_without_an_agreement(
    cast, kommunkod, django_assert_num_queries
):
    with django_assert_num_queries(0):
        assert refusal(cast.af, kommunkod, DAY) is None


def test_af_may_deliver_for_all_290_municipalities(cast):
    assert deliverable_codes(cast.af, DAY) == sorted(municipality_codes())
    assert len(deliverable_codes(cast.af, DAY)) == 290


# --- a municipality ------------------------------------------------------------------------


def test_a_municipality_may_deliver_for_its_own_code_while_its_agreement_is_in_force(
    cast, vasby_in_force
):
    assert refusal(cast.vasby, VASBY_CODE, DAY) is None
    assert refusal(cast.vasby, "114", DAY) is None
    assert deliverable_codes(cast.vasby, DAY) == [VASBY_CODE]


def test_a_municipality_may_not_deliver_for_another_municipality(cast, vasby_in_force):
    assert refusal(cast.vasby, VALLENTUNA_CODE, DAY) == "KOMMUNKOD_NOT_OWN"


def test_a_municipality_without_an_agreement_may_not_deliver(cast):
    assert refusal(cast.vasby, VASBY_CODE, DAY) == "AGREEMENT_NOT_IN_FORCE"
    assert deliverable_codes(cast.vasby, DAY) == []


def test_a_municipality_whose_agreement_ended_may_not_deliver_from_the_day_after(
    cast, vasby_in_force
):
    vasby_in_force.give_notice(D(2025, 1, 31))  # last day 2025-04-30

    assert refusal(cast.vasby, VASBY_CODE, D(2025, 4, 30)) is None
    assert refusal(cast.vasby, VASBY_CODE, D(2025, 5, 1)) == "AGREEMENT_NOT_IN_FORCE"


def test_a_municipality_whose_agreement_awaits_a_signature_may_not_deliver(cast, make_agreement):
    make_agreement(cast.vasby.municipality, D(2024, 1, 2), None)

    assert refusal(cast.vasby, VASBY_CODE, DAY) == "AGREEMENT_NOT_IN_FORCE"


# --- suppliers and federations ------------------------------------------------------------


@pytest.fixture(params=["supplier", "federation"])
def deliverer(request) -> Organisation:
    return request.getfixturevalue(request.param)


def test_a_deliverer_may_deliver_for_a_municipality_that_registered_it(
    deliverer, cast, vasby_in_force, authorise
):
    authorise(deliverer, cast.vasby.municipality, D(2024, 6, 1))

    assert refusal(deliverer, VASBY_CODE, DAY) is None
    assert deliverable_codes(deliverer, DAY) == [VASBY_CODE]


def test_a_deliverer_may_not_deliver_for_a_municipality_that_did_not_register_it(
    deliverer, cast, vasby_in_force, make_agreement, authorise
):
    make_agreement(cast.vallentuna.municipality, D(2024, 1, 2), D(2024, 1, 3))
    authorise(deliverer, cast.vasby.municipality, D(2024, 6, 1))

    assert refusal(deliverer, VALLENTUNA_CODE, DAY) == "KOMMUNKOD_NOT_AUTHORISED"


def test_a_deliverer_registered_by_nobody_may_not_deliver(deliverer):
    assert refusal(deliverer, VASBY_CODE, DAY) == "KOMMUNKOD_NOT_AUTHORISED"
    assert deliverable_codes(deliverer, DAY) == []


def test_a_deliverer_may_not_deliver_while_the_municipalitys_agreement_is_not_in_force(
    deliverer, cast, authorise
):
    authorise(deliverer, cast.vasby.municipality, D(2024, 6, 1))

    assert refusal(deliverer, VASBY_CODE, DAY) == "AGREEMENT_NOT_IN_FORCE"
    assert deliverable_codes(deliverer, DAY) == []


def test_a_registration_counts_from_its_first_day_up_to_and_including_its_last(
    deliverer, cast, vasby_in_force, authorise
):
    authorise(deliverer, cast.vasby.municipality, D(2025, 2, 1), D(2025, 2, 28))

    assert refusal(deliverer, VASBY_CODE, D(2025, 1, 31)) == "KOMMUNKOD_NOT_AUTHORISED"
    assert refusal(deliverer, VASBY_CODE, D(2025, 2, 1)) is None
    assert refusal(deliverer, VASBY_CODE, D(2025, 2, 28)) is None
    assert refusal(deliverer, VASBY_CODE, D(2025, 3, 1)) == "KOMMUNKOD_NOT_AUTHORISED"


def test_a_revoked_registration_stops_on_the_day_of_revocation(
    deliverer, cast, vasby_in_force, authorise
):
    authorisation = authorise(deliverer, cast.vasby.municipality, D(2024, 6, 1))

    authorisation.revoke(D(2025, 2, 15))

    assert refusal(deliverer, VASBY_CODE, D(2025, 2, 14)) is None
    assert refusal(deliverer, VASBY_CODE, D(2025, 2, 15)) == "KOMMUNKOD_NOT_AUTHORISED"


def test_a_deliverer_registered_by_several_municipalities_may_deliver_for_each(
    deliverer, cast, vasby_in_force, make_agreement, authorise
):
    make_agreement(cast.vallentuna.municipality, D(2024, 1, 2), D(2024, 1, 3))
    authorise(deliverer, cast.vasby.municipality, D(2024, 6, 1))
    authorise(deliverer, cast.vallentuna.municipality, D(2024, 6, 1))

    assert deliverable_codes(deliverer, DAY) == [VASBY_CODE, VALLENTUNA_CODE]


# --- the register and the codes -------------------------------------------------------


def test_an_organisation_not_in_the_register_may_not_deliver():
    stranger = Organisation(orgnr="5566778899", name="Okänd AB", kind="leverantor")

    assert refusal(None, VASBY_CODE, DAY) == "ORG_NOT_REGISTERED"
    assert refusal(stranger, VASBY_CODE, DAY) == "ORG_NOT_REGISTERED"
    assert deliverable_codes(None, DAY) == []


@pytest.mark.parametrize(
    ("kommunkod", "code"), [("14", "KOMMUNKOD_FORMAT"), ("0100", "KOMMUNKOD_UNKNOWN")]
)
def test_a_code_that_is_no_municipalitys_gets_the_codes_own_error(cast, kommunkod, code):
    assert refusal(cast.af, kommunkod, DAY) == code


def test_every_answer_is_a_code_of_the_published_error_list(cast, supplier, vasby_in_force):
    answers = {
        refusal(sender, code, DAY)
        for sender in (cast.vasby, supplier, cast.af, None)
        for code in (VASBY_CODE, VALLENTUNA_CODE, "x")
    }
    assert answers - {None} <= set(RULES)


def test_each_answer_costs_at_most_one_query(
    cast, supplier, vasby_in_force, authorise, django_assert_max_num_queries
):
    authorise(supplier, cast.vasby.municipality, D(2024, 6, 1))
    for sender, code in [
        (cast.vasby, VASBY_CODE),
        (cast.vasby, VALLENTUNA_CODE),
        (supplier, VASBY_CODE),
        (supplier, VALLENTUNA_CODE),
    ]:
        with django_assert_max_num_queries(1):
            refusal(sender, code, DAY)
    with django_assert_max_num_queries(1):
        deliverable_codes(supplier, DAY)


def test_may_deliver_for_lists_exactly_the_codes_refusal_allows(
    cast, supplier, make_agreement, authorise
):
    make_agreement(cast.vasby.municipality, D(2024, 1, 2), D(2024, 1, 3))
    authorise(supplier, cast.vasby.municipality, D(2024, 6, 1))
    authorise(supplier, cast.vallentuna.municipality, D(2024, 6, 1))  # Vallentuna has no agreement
    authorise(supplier, Municipality.objects.get(code="0180"), D(2025, 6, 1))  # not yet

    allowed = [
        code for code in sorted(municipality_codes()) if refusal(supplier, code, DAY) is None
    ]

    assert allowed == deliverable_codes(supplier, DAY) == [VASBY_CODE]


# --- who can be registered --------------------------------------------------------------


def test_only_a_supplier_or_a_federation_can_be_registered_to_deliver(cast, authorise):
    with pytest.raises(ValidationError, match="supplier or a municipal federation"):
        authorise(cast.vallentuna, cast.vasby.municipality, D(2024, 6, 1))


def test_overlapping_registrations_of_the_same_supplier_are_refused(supplier, cast, authorise):
    authorise(supplier, cast.vasby.municipality, D(2024, 6, 1), D(2024, 12, 31))

    with pytest.raises(ValidationError, match="already registered"):
        authorise(supplier, cast.vasby.municipality, D(2024, 12, 31))
    authorise(supplier, cast.vasby.municipality, D(2025, 1, 1))
