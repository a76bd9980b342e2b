"""The gate of ``inuk serve`` on request bodies: who may send how much, decided from headers.

``test_serve.py`` speaks to a real server; here the decisions themselves,
with sessions made by Django's test client.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.accounts.tokens import issue_token, revoke_token
from inuk.web.server import UPLOAD_VIEWS, authenticated, gate_from_settings
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

LARGE = 50 * 1024 * 1024


def _cookie(client: Client) -> dict[str, str]:
    name = settings.SESSION_COOKIE_NAME
    return {"COOKIE": f"{name}={client.cookies[name].value}"}


def test_the_upload_paths_are_the_upload_page_the_api_and_the_validator():
    gate = gate_from_settings()
    assert gate.upload_paths == {"/leveranser/skicka/", "/api/v1/deliveries", "/"}
    assert len(UPLOAD_VIEWS) == len(gate.upload_paths)


def test_a_logged_in_users_session_may_upload_a_large_file(client: Client, cast: Cast):
    client.force_login(cast.vasby_reporter)
    gate = gate_from_settings()
    limit = gate.admits("POST", "/leveranser/skicka/", _cookie(client), LARGE)
    assert limit == settings.INUK_MAX_DELIVERY_BYTES + 1024 * 1024


def test_a_session_that_is_not_logged_in_may_not(client: Client, cast: Cast):
    client.get("/")  # a session cookie may exist without a user
    client.cookies[settings.SESSION_COOKIE_NAME] = "made-up-session-key"
    assert not authenticated(_cookie(client))


def test_a_logged_out_session_may_not(client: Client, cast: Cast):
    client.force_login(cast.vasby_reporter)
    cookie = _cookie(client)
    client.logout()
    assert not authenticated(cookie)


def test_a_user_with_a_second_factor_needs_it_verified_in_the_session(client: Client, cast: Cast):
    user = cast.vasby_reporter
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client.force_login(user)
    assert not authenticated(_cookie(client))
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    assert authenticated(_cookie(client))


def test_an_inactive_user_may_not(client: Client, cast: Cast):
    client.force_login(cast.vasby_reporter)
    cast.vasby_reporter.is_active = False
    cast.vasby_reporter.save()
    assert not authenticated(_cookie(client))


def test_a_valid_token_may_and_a_revoked_one_may_not(cast: Cast):
    token, raw = issue_token(cast.vasby, "export", ["deliver"])
    assert authenticated({"AUTHORIZATION": f"Bearer {raw}"})
    revoke_token(token)
    assert not authenticated({"AUTHORIZATION": f"Bearer {raw}"})


def test_checking_a_token_records_nothing(cast: Cast):
    token, raw = issue_token(cast.vasby, "export", ["deliver"])
    assert authenticated({"AUTHORIZATION": f"Bearer {raw}"})
    token.refresh_from_db()
    assert token.last_used_at is None


def test_a_bad_token_is_refused_even_beside_a_good_session(client: Client, cast: Cast):
    client.force_login(cast.vasby_reporter)
    headers = {**_cookie(client), "AUTHORIZATION": f"Bearer inuk_aaaaaaaa_{'b' * 32}"}
    assert not authenticated(headers)


def test_a_small_body_goes_through_without_asking_who_sends_it():
    def never(headers) -> bool:
        raise AssertionError("no check for a small body")

    gate = gate_from_settings()
    gate = type(gate)(gate.ordinary, gate.upload, gate.upload_paths, never)
    assert gate.admits("POST", "/api/v1/deliveries", {}, 1000) == gate.ordinary


def test_a_large_body_anywhere_but_an_upload_path_gets_the_ordinary_limit(
    client: Client, cast: Cast
):
    client.force_login(cast.vasby_reporter)
    gate = gate_from_settings()
    assert gate.admits("POST", "/konto/", _cookie(client), LARGE) == gate.ordinary
    assert gate.admits("PUT", "/api/v1/deliveries", _cookie(client), LARGE) == gate.ordinary
