"""Who may call the API: tokens in the Authorization header, or a logged-in session with CSRF."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.accounts.models import ApiToken
from inuk.accounts.tokens import revoke_token
from inuk.audit.models import Entry
from inuk.format.writers import Person
from tests.api.conftest import API
from tests.conftest import ANNA, VASBY_ORGNR, Cast, delivery_file, insats

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

FILE = delivery_file([Person(ANNA, [insats("SYV")])])


def code(response) -> str:
    return response.json()["error"]["code"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer inuk_aaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "Bearer not-a-token",
        "Bearer ",
    ],
)
def test_an_unknown_token_is_401_token_invalid(client: Client, db, header):
    response = client.get(f"{API}/codes", headers={"Authorization": header})
    assert response.status_code == 401
    assert code(response) == "TOKEN_INVALID"


def test_another_scheme_than_bearer_is_401_authentication_required(client: Client, db):
    response = client.get(f"{API}/codes", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert code(response) == "AUTHENTICATION_REQUIRED"


def test_a_revoked_token_is_refused(cast: Cast, api_as):
    raw = cast.token(cast.vasby)
    assert api_as(raw).get("/codes").status_code == 200
    revoke_token(ApiToken.objects.get())
    assert code(api_as(raw).get("/codes")) == "TOKEN_INVALID"


def test_an_expired_token_is_refused(cast: Cast, api_as):
    raw = cast.token(cast.vasby)
    past = timezone.now() - dt.timedelta(seconds=1)
    ApiToken.objects.update(created_at=past - dt.timedelta(days=1), expires_at=past)
    assert code(api_as(raw).get("/codes")) == "TOKEN_INVALID"


def test_using_a_token_is_audited(cast: Cast, api_as):
    api_as(cast.token(cast.vasby)).get("/codes")
    assert Entry.objects.filter(event="token.used", organisation=VASBY_ORGNR).count() == 1


def test_a_bad_token_is_refused_even_with_a_valid_session(client: Client, cast: Cast):
    client.force_login(cast.vasby_reporter)
    response = client.get(
        f"{API}/deliveries", headers={"Authorization": "Bearer inuk_aaaaaaaa_" + "b" * 32}
    )
    assert response.status_code == 401


def test_a_logged_in_user_reads_with_the_session_cookie(client: Client, cast: Cast):
    client.force_login(cast.vasby_reporter)
    assert client.get(f"{API}/deliveries").status_code == 200


def test_a_session_without_its_second_factor_is_not_let_in(client: Client, cast: Cast):
    TOTPDevice.objects.create(user=cast.vasby_reporter, name="telefon", confirmed=True)
    client.force_login(cast.vasby_reporter)  # not verified with the code
    response = client.get(f"{API}/deliveries")
    assert response.status_code == 401


def _csrf_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    return client, token


def test_a_session_post_without_the_csrf_token_is_403(cast: Cast, agreements):
    client, _token = _csrf_client(cast.vasby_reporter)
    response = client.post(f"{API}/deliveries", FILE, content_type="application/xml")
    assert response.status_code == 403
    assert code(response) == "CSRF_FAILED"


def test_a_session_post_with_the_csrf_token_delivers(cast: Cast, agreements):
    client, token = _csrf_client(cast.vasby_reporter)
    response = client.post(
        f"{API}/deliveries", FILE, content_type="application/xml", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "applied"


def test_a_post_with_neither_token_nor_session_is_401_not_a_csrf_failure(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"{API}/deliveries", FILE, content_type="application/xml")
    assert response.status_code == 401


def test_a_token_post_needs_no_csrf_token(cast: Cast, agreements):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"{API}/deliveries",
        FILE,
        content_type="application/xml",
        headers={"Authorization": f"Bearer {cast.token(cast.vasby)}"},
    )
    assert response.status_code == 201
