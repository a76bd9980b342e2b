"""The identity officer's erasure: the page /identitet/radera/ and its API twin."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from inuk.audit.models import Entry
from inuk.vault.pseudonymize import find
from tests.conftest import ANNA, BO, log_in
from tests.intake.pages.conftest import good_file

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

PAGE = "/identitet/radera/"
API = "/api/v1/identity/erasures"
FORM = {"personnummer": ANNA, "case_number": "Af-2026/77", "reason": "Beslut", "confirm": "on"}


@pytest.fixture
def delivered(cast, deliver):
    return deliver(cast.vasby, good_file())


def test_the_identity_officer_erases_a_person_on_the_page(cast, delivered, client_as):
    response = client_as(cast.identity_officer).post(PAGE, FORM)

    assert response.status_code == 302
    assert find(ANNA) is None and find(BO) is not None
    assert Entry.objects.filter(event="person.erased", target="Af-2026/77").exists()


def test_a_refused_erasure_says_why_and_does_not_echo_the_number(cast, delivered, client_as):
    unknown = ANNA[:-4] + "0000"
    response = client_as(cast.identity_officer).post(PAGE, {**FORM, "personnummer": unknown})

    body = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in body
    assert unknown not in body
    assert find(ANNA) is not None


def test_without_confirmation_nothing_is_erased(cast, delivered, client_as):
    response = client_as(cast.identity_officer).post(PAGE, {**FORM, "confirm": ""})

    assert response.status_code == 400
    assert ANNA not in response.content.decode()
    assert find(ANNA) is not None


def test_every_other_role_is_refused_the_page(cast, delivered, client_as):
    for name, user in cast.users().items():
        if name == "identity_officer":
            continue
        client = client_as(user)
        assert client.get(PAGE).status_code == 403, name
        assert client.post(PAGE, FORM).status_code == 403, name
    assert find(ANNA) is not None


def post_api(user, body: dict) -> tuple[int, dict]:
    client = log_in(Client(), user)
    response = client.post(API, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_the_identity_officer_erases_by_the_api_and_gets_counts_not_the_number(cast, delivered):
    status, body = post_api(
        cast.identity_officer, {"personnummer": ANNA, "case_number": "Af-1", "reason": "Beslut"}
    )

    assert status == 201
    assert body["personnummer"] == 1 and body["transactions"] == 1
    assert ANNA not in json.dumps(body)
    assert find(ANNA) is None


def test_the_api_refuses_every_other_role_and_every_token(cast, delivered, token_for_vasby):
    for name, user in cast.users().items():
        if name == "identity_officer":
            continue
        status, body = post_api(user, {"personnummer": ANNA, "case_number": "A", "reason": "B"})
        assert (status, body["error"]["code"]) == (403, "NOT_ALLOWED"), name
    response = Client().post(
        API,
        json.dumps({"personnummer": ANNA, "case_number": "A", "reason": "B"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token_for_vasby}",
    )
    assert response.status_code == 403
    assert find(ANNA) is not None


def test_the_api_answers_an_unknown_number_404_in_both_languages(cast, delivered):
    status, body = post_api(
        cast.identity_officer,
        {"personnummer": ANNA[:-4] + "0000", "case_number": "A", "reason": "B"},
    )

    assert status in (400, 404)
    assert body["error"]["message_sv"] and body["error"]["message_en"]


@pytest.fixture
def token_for_vasby(cast):
    from inuk.accounts.tokens import issue_token

    return issue_token(cast.vasby, "Procapita", ["deliver", "read"])[1]
