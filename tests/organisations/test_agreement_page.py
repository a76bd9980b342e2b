"""/avtal/: each organisation sees its own agreement; AF sees them all."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from inuk.accounts.models import Role, User
from inuk.organisations.models import ContactPerson, Organisation, Party
from tests.conftest import VALLENTUNA_CODE, VASBY_CODE, log_in

pytestmark = pytest.mark.django_db

D = dt.date


def user_of(organisation: Organisation, *roles: Role) -> User:
    return User.objects.create_user(
        f"{roles[0].value}@{organisation.orgnr}.example",
        organisation=organisation,
        roles=roles,
    )


@pytest.fixture
def vasby_agreement(cast, make_agreement, supplier, authorise):
    agreement = make_agreement(
        cast.vasby.municipality,
        D(2024, 1, 2),
        D(2024, 1, 3),
        af_case_number="Af-2024/17",
        municipality_case_number="KS 2023/456",
    )
    ContactPerson.objects.create(
        agreement=agreement, party=Party.MUNICIPALITY, name="Eva Ek", email="eva.ek@vasby.se"
    )
    ContactPerson.objects.create(
        agreement=agreement, party=Party.AF, name="Per Holm", role="Produktansvarig"
    )
    authorise(supplier, cast.vasby.municipality, D(2024, 6, 1))
    return agreement


@pytest.fixture
def vallentuna_agreement(cast, make_agreement):
    return make_agreement(
        cast.vallentuna.municipality, D(2024, 2, 2), D(2024, 2, 3), af_case_number="Af-2024/99"
    )


def test_a_user_of_the_municipality_sees_its_agreement_contacts_and_suppliers(
    client, cast, vasby_agreement
):
    client.force_login(cast.vasby_analyst)

    response = client.get(reverse("organisations:agreements"))

    assert response.status_code == 200
    page = response.content.decode()
    for fact in ("Upplands Väsby", "Af-2024/17", "KS 2023/456", "2024-01-02", "2024-01-03"):
        assert fact in page
    assert "Eva Ek" in page and "Per Holm" in page and "Produktansvarig" in page
    assert "System AB" in page
    assert response.context["state"] == "in_force"


def test_the_page_shows_the_notice_and_the_last_day(client, cast, vasby_agreement):
    vasby_agreement.give_notice(D(2025, 1, 31), by=Party.MUNICIPALITY)
    client.force_login(cast.vasby_reporter)

    page = client.get(reverse("organisations:agreements")).content.decode()

    assert "2025-01-31" in page and "2025-04-30" in page


def test_a_user_of_the_municipality_does_not_see_another_municipalitys_agreement(
    client, cast, vasby_agreement, vallentuna_agreement
):
    client.force_login(cast.vasby_admin)

    own = client.get(reverse("organisations:agreement", args=[VASBY_CODE]))
    other = client.get(reverse("organisations:agreement", args=[VALLENTUNA_CODE]))
    mine = client.get(reverse("organisations:agreements")).content.decode()

    assert own.status_code == 200
    assert other.status_code == 404
    assert "Af-2024/99" not in mine and "Vallentuna" not in mine


@pytest.mark.parametrize(
    ("member", "sees_vasby", "sees_vallentuna"),
    [
        ("vasby_reporter", True, False),
        ("vasby_analyst", True, False),
        ("vasby_admin", True, False),
        ("vallentuna_reporter", False, True),
        ("vallentuna_analyst", False, True),
        ("vallentuna_admin", False, True),
        ("af_admin", True, True),
        ("af_analyst", True, True),
        ("identity_officer", True, True),
    ],
)
def test_every_member_of_the_cast_sees_only_the_agreements_it_may(
    client, cast, vasby_agreement, vallentuna_agreement, member, sees_vasby, sees_vallentuna
):
    log_in(client, cast.users()[member])

    vasby_page = client.get(reverse("organisations:agreement", args=[VASBY_CODE]))
    vallentuna_page = client.get(reverse("organisations:agreement", args=[VALLENTUNA_CODE]))

    assert vasby_page.status_code == (200 if sees_vasby else 404)
    assert vallentuna_page.status_code == (200 if sees_vallentuna else 404)


def test_a_municipality_without_an_agreement_is_told_how_to_get_one(client, cast):
    client.force_login(cast.vallentuna_analyst)

    response = client.get(reverse("organisations:agreements"))

    assert response.status_code == 200
    assert response.context["agreement"] is None
    assert "informationssamverkan@arbetsformedlingen.se" in response.content.decode()


def test_an_af_user_sees_every_municipality_and_where_its_agreement_stands(
    client, cast, vasby_agreement, vallentuna_agreement
):
    client.force_login(cast.af_admin)

    response = client.get(reverse("organisations:agreements"))

    assert response.status_code == 200
    assert len(response.context["rows"]) == 290
    page = response.content.decode()
    assert "Af-2024/17" in page and "Af-2024/99" in page
    assert dict(response.context["counts"])["in_force"] == 2
    assert response.context["without"] == 288


def test_an_af_user_can_filter_the_list_by_state(client, cast, vasby_agreement):
    client.force_login(cast.af_analyst)

    response = client.get(reverse("organisations:agreements"), {"state": "in_force"})

    assert [row[0].code for row in response.context["rows"]] == [VASBY_CODE]


def test_an_af_user_can_open_any_municipalitys_agreement(client, cast, vallentuna_agreement):
    client.force_login(cast.af_admin)

    response = client.get(reverse("organisations:agreement", args=[VALLENTUNA_CODE]))

    assert response.status_code == 200
    assert "Af-2024/99" in response.content.decode()


def test_a_supplier_sees_the_municipalities_it_may_deliver_for(
    client, supplier, vasby_agreement, cast, authorise
):
    authorise(supplier, cast.vallentuna.municipality, D(2024, 6, 1))  # Vallentuna has no agreement
    client.force_login(user_of(supplier, Role.REPORTER))

    response = client.get(reverse("organisations:agreements"))

    assert response.status_code == 200
    assert response.context["may_deliver"] == [VASBY_CODE]
    assert client.get(reverse("organisations:agreement", args=[VASBY_CODE])).status_code == 404


def test_someone_not_logged_in_is_sent_to_log_in(client, vasby_agreement):
    response = client.get(reverse("organisations:agreements"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_menu_offers_the_page_to_logged_in_users_only(client, cast):
    home = reverse("web:home")
    url = reverse("organisations:agreements")
    assert f'href="{url}"' not in client.get(home).content.decode()

    client.force_login(cast.vasby_analyst)

    assert f'href="{url}"' in client.get(home).content.decode()


def test_the_page_speaks_swedish_and_english(client, cast, vasby_agreement):
    client.force_login(cast.vasby_analyst)
    url = reverse("organisations:agreements")

    swedish = client.get(url).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(url).content.decode()

    assert "Samverkansavtal" in swedish and "Kontaktpersoner" in swedish
    assert "Cooperation agreement" in english and "Contact persons" in english
