"""Login throttling: five failures in fifteen minutes pause logging in from there."""

from __future__ import annotations

import datetime as dt
import ipaddress

from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.accounts import throttle
from inuk.accounts.models import LoginFailure, User
from inuk.audit.log import Event
from inuk.audit.models import Entry
from tests.conftest import PASSWORD, Cast

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


# --- the other places a password is checked ----------------------------------------


def test_wrong_passwords_before_turning_off_the_second_factor_are_paused_too(
    client: Client, cast: Cast
) -> None:
    from tests.accounts.test_second_factor import enrol

    enrol(client, cast.vasby_analyst)
    url = reverse("accounts:second_factor_remove")
    for _ in range(throttle.MAX_FAILURES):
        client.post(url, {"password": "not-the-password"}, REMOTE_ADDR=ADDRESS)
    response = client.post(url, {"password": PASSWORD}, REMOTE_ADDR=ADDRESS)
    assert TOTPDevice.objects.filter(user=cast.vasby_analyst).exists()
    [error] = response.context["form"].errors.as_data()["password"]
    assert error.code == "throttled"
    assert Entry.objects.filter(event=Event.LOGIN_FAILED, details__reason="throttled").exists()


def test_wrong_old_passwords_when_changing_it_are_paused_too_and_pause_logging_in(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.vasby_analyst)
    new = "sju-sjösjuka-sjömän-på-ett-skepp"
    for _ in range(throttle.MAX_FAILURES):
        client.post(
            reverse("password_change"),
            {"old_password": "not-it", "new_password1": new, "new_password2": new},
            REMOTE_ADDR=ADDRESS,
        )
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 200
    [error] = response.context["form"].errors.as_data()["old_password"]
    assert error.code == "throttled"
    assert User.objects.get(pk=cast.vasby_analyst.pk).check_password(PASSWORD)
    assert throttle.locked_until(cast.vasby_analyst.email, ADDRESS) is not None


def test_reset_mails_to_one_address_are_limited_and_the_answer_stays_the_same(
    client: Client, cast: Cast
) -> None:
    for _ in range(throttle.MAX_RESET_MAILS + 2):
        response = client.post(reverse("password_reset"), {"email": cast.vasby_analyst.email})
        assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == throttle.MAX_RESET_MAILS
    client.post(reverse("password_reset"), {"email": cast.vasby_reporter.email})
    assert len(mail.outbox) == throttle.MAX_RESET_MAILS + 1


def test_reset_mails_may_go_again_after_an_hour(cast: Cast) -> None:
    start = timezone.now()
    for _ in range(throttle.MAX_RESET_MAILS):
        assert throttle.may_send_reset_mail(cast.vasby_analyst.email, start)
    assert not throttle.may_send_reset_mail(cast.vasby_analyst.email, start)
    later = start + throttle.RESET_WINDOW + dt.timedelta(seconds=1)
    assert throttle.may_send_reset_mail(cast.vasby_analyst.email, later)


def test_a_personnummer_typed_as_the_login_name_is_kept_only_masked(
    client: Client, cast: Cast
) -> None:
    for name in ("x198812120387", "881212 0387", "19881212-0387@example.se"):
        _login(client, name, "not-the-password")
    kept = list(LoginFailure.objects.values_list("username", flat=True))
    assert kept == ["x19881212-****", "881212-****", "19881212-****@example.se"]
    assert throttle.locked_until("x198812120387", ADDRESS) is None
    _fail(client, "x198812120387", throttle.MAX_FAILURES - 1)
    assert throttle.locked_until("x198812120387", ADDRESS) is not None
