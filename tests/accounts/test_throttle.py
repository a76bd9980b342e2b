"""Login throttling: five failures in fifteen minutes pause logging in from there."""

from __future__ import annotations

import datetime as dt
import ipaddress

from django.test import Client
from django.urls import reverse

from inuk.accounts import throttle
from inuk.accounts.models import LoginFailure
from inuk.audit.log import Event
from inuk.audit.models import Entry
from tests.cast import PASSWORD, Cast

ADDRESS = "203.0.113.9"


def _login(client: Client, email: str, password: str, address: str = ADDRESS):
    return client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address
    )


def _fail(client: Client, email: str, times: int, address: str = ADDRESS) -> None:
    for _ in range(times):
        _login(client, email, "not-the-password", address)


def test_four_failures_still_let_the_right_password_in(client: Client, cast: Cast) -> None:
    _fail(client, cast.vasby_analyst.email, 4)
    _login(client, cast.vasby_analyst.email, PASSWORD)
    assert client.session["_auth_user_id"] == str(cast.vasby_analyst.pk)


def test_after_five_failures_even_the_right_password_is_refused_with_a_clear_message(
    client: Client, cast: Cast
) -> None:
    _fail(client, cast.vasby_analyst.email, 5)
    response = _login(client, cast.vasby_analyst.email, PASSWORD)
    assert "_auth_user_id" not in client.session
    [error] = response.context["form"].non_field_errors().as_data()
    assert error.code == "throttled" and error.params == {"minutes": 15}
    assert str(error.message % error.params) in response.text.replace("&#x27;", "'")
    refused = Entry.objects.filter(event=Event.LOGIN_FAILED, details__reason="throttled")
    assert refused.count() == 1


def test_the_pause_is_per_address_so_others_cannot_lock_a_user_out(
    client: Client, cast: Cast
) -> None:
    _fail(client, cast.vasby_analyst.email, 5, address="203.0.113.66")
    _login(client, cast.vasby_analyst.email, PASSWORD, address=ADDRESS)
    assert client.session["_auth_user_id"] == str(cast.vasby_analyst.pk)


def test_the_pause_ends_when_the_failures_are_fifteen_minutes_old(
    client: Client, cast: Cast
) -> None:
    _fail(client, cast.vasby_analyst.email, 5)
    LoginFailure.objects.update(at=LoginFailure.objects.first().at - dt.timedelta(minutes=15))
    _login(client, cast.vasby_analyst.email, PASSWORD)
    assert client.session["_auth_user_id"] == str(cast.vasby_analyst.pk)


def test_a_successful_login_forgets_earlier_failures(client: Client, cast: Cast) -> None:
    _fail(client, cast.vasby_analyst.email, 4)
    _login(client, cast.vasby_analyst.email, PASSWORD)
    client.logout()
    _fail(client, cast.vasby_analyst.email, 4)
    _login(client, cast.vasby_analyst.email, PASSWORD)
    assert client.session["_auth_user_id"] == str(cast.vasby_analyst.pk)


def test_one_address_trying_many_accounts_is_paused_too(cast: Cast) -> None:
    for number in range(throttle.MAX_FAILURES_PER_ADDRESS):
        throttle.record_failure(f"guess{number}@example.se", ADDRESS)
    assert throttle.locked_until("fresh@example.se", ADDRESS) is not None
    assert throttle.locked_until("fresh@example.se", "203.0.113.10") is None


def test_the_email_address_counts_whatever_its_case(cast: Cast) -> None:
    for _ in range(throttle.MAX_FAILURES):
        throttle.record_failure("Analyst@UpplandsVasby.example", ADDRESS)
    assert throttle.locked_until("analyst@upplandsvasby.example", ADDRESS) is not None


def test_behind_the_trusted_proxy_each_client_is_paused_on_its_own(
    client: Client, cast: Cast, settings
) -> None:
    """Every request's peer is the proxy; without believing it, one client's guesses
    would lock everybody out of the account."""
    settings.INUK_TRUSTED_PROXY = [ipaddress.ip_network("10.0.0.5")]
    for _ in range(5):
        client.post(
            reverse("login"),
            {"username": cast.vasby_analyst.email, "password": "not-the-password"},
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR="203.0.113.66",
        )
    client.post(
        reverse("login"),
        {"username": cast.vasby_analyst.email, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert client.session["_auth_user_id"] == str(cast.vasby_analyst.pk)
    assert set(LoginFailure.objects.values_list("remote_addr", flat=True)) == {"203.0.113.66"}
