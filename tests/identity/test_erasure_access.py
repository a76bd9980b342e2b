"""Only an identity officer with a verified second factor may erase a person.

The erasure page and ``POST /api/v1/identity/erasures`` are tried, with a
complete and confirmed request for a person the service holds, by every other
member of the cast, by an API token, by no one, by the identity officer
without a second factor and by one whose session the second factor did not
verify: each is turned away, the person stays in the vault and the
statistics, and no erasure is audited.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.ledger.models import Person
from inuk.vault.pseudonymize import find
from tests.conftest import ANNA, Cast, log_in
from tests.identity.test_access import OTHERS

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

DECISION = {"case_number": "Af-2026/0004711", "reason": "Beslut om radering"}
PAGE = {"personnummer": ANNA, "confirm": "on", **DECISION}
BODY = {"personnummer": ANNA, **DECISION}


@pytest.fixture
def anna(deliver_person) -> str:
    deliver_person(ANNA)
    pseudonym = find(ANNA)
    assert pseudonym is not None
    return pseudonym


def untouched(pseudonym: str) -> bool:
    return (
        find(ANNA) == pseudonym
        and Person.objects.filter(pseudonym=pseudonym).exists()
        and not Entry.objects.filter(event=Event.PERSON_ERASED).exists()
    )


def post_api(client: Client, **headers):
    return client.post(
        reverse("api-1:identity-erasures"), BODY, content_type="application/json", headers=headers
    )


@pytest.mark.parametrize("member", OTHERS)
def test_every_other_role_is_refused_the_page_and_the_endpoint(member, client, cast: Cast, anna):
    log_in(client, cast.users()[member])

    assert client.get(reverse("erasure")).status_code == 403
    assert client.post(reverse("erasure"), PAGE).status_code == 403
    response = post_api(client)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "NOT_ALLOWED"
    assert untouched(anna)


def test_an_api_token_is_refused_whatever_it_may_do(cast: Cast, anna):
    raw = cast.token(cast.af, name="AF:s system")

    assert post_api(Client(), Authorization=f"Bearer {raw}").status_code == 403
    assert untouched(anna)


def test_no_one_logged_in_is_sent_to_log_in(client, anna):
    response = client.post(reverse("erasure"), PAGE)

    assert response["Location"].startswith(reverse("login"))
    assert post_api(client).status_code == 401
    assert untouched(anna)


def test_an_identity_officer_without_a_second_factor_is_sent_to_enrol(client, cast, anna):
    client.force_login(cast.identity_officer)

    for response in (client.get(reverse("erasure")), client.post(reverse("erasure"), PAGE)):
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:second_factor_enrol")
    assert post_api(client).status_code == 401
    assert untouched(anna)


def test_an_identity_officer_whose_session_the_second_factor_did_not_verify_is_refused(
    client, cast, anna
):
    TOTPDevice.objects.create(user=cast.identity_officer, name="INUK", confirmed=True)
    client.force_login(cast.identity_officer)  # e.g. through Django's admin, with no code

    assert client.post(reverse("erasure"), PAGE)["Location"].startswith(reverse("login"))
    client.force_login(cast.identity_officer)
    assert post_api(client).status_code == 401
    assert untouched(anna)


@pytest.mark.parametrize("way", ["page", "api"])
def test_the_identity_officer_with_a_second_factor_erases(way, officer: Client, anna):
    if way == "page":
        assert officer.post(reverse("erasure"), PAGE).status_code == 302
    else:
        assert post_api(officer).status_code == 201

    assert find(ANNA) is None
    assert not Person.objects.filter(pseudonym=anna).exists()
    assert Entry.objects.filter(event=Event.PERSON_ERASED).count() == 1
