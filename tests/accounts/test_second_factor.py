"""The optional second factor: enrolling an authenticator app, and logging in with its code."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.accounts.models import User
from inuk.audit.log import Event
from inuk.audit.models import Entry
from tests.conftest import PASSWORD, Cast


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the app shows now (or ``steps_ahead`` periods on, to avoid reusing one)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def enrol(client: Client, user: User) -> TOTPDevice:
    client.force_login(user)
    client.get(reverse("accounts:second_factor_enrol"))
    device = TOTPDevice.objects.get(user=user)
    client.post(reverse("accounts:second_factor_enrol"), {"code": code_for(device)})
    device.refresh_from_db()
    return device


@pytest.fixture
def enrolled(client: Client, cast: Cast) -> TOTPDevice:
    device = enrol(client, cast.vasby_analyst)
    client.logout()
    return device


def test_the_enrolment_page_shows_a_qr_code_and_the_key(client: Client, cast: Cast) -> None:
    client.force_login(cast.vasby_analyst)
    response = client.get(reverse("accounts:second_factor_enrol"))
    assert "<svg" in response.text and "<path" in response.text
    device = TOTPDevice.objects.get(user=cast.vasby_analyst)
    assert not device.confirmed
    assert 'id="secret"' in response.text


def test_a_wrong_code_does_not_turn_it_on(client: Client, cast: Cast) -> None:
    client.force_login(cast.vasby_analyst)
    client.get(reverse("accounts:second_factor_enrol"))
    device = TOTPDevice.objects.get(user=cast.vasby_analyst)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("accounts:second_factor_enrol"), {"code": wrong})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(confirmed=True).exists()


def test_the_right_code_turns_it_on_and_is_audited(client: Client, cast: Cast) -> None:
    device = enrol(client, cast.vasby_analyst)
    assert device.confirmed
    entry = Entry.objects.get(event=Event.USER_CHANGED, details__second_factor="enrolled")
    assert entry.actor == cast.vasby_analyst.email


def test_after_enrolment_the_password_alone_does_not_log_in(
    client: Client, cast: Cast, enrolled: TOTPDevice
) -> None:
    response = client.post(
        reverse("login"), {"username": cast.vasby_analyst.email, "password": PASSWORD}
    )
    assert response["Location"].startswith(reverse("login_code"))
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_the_code_after_the_password_logs_in(
    client: Client, cast: Cast, enrolled: TOTPDevice
) -> None:
    client.post(reverse("login"), {"username": cast.vasby_analyst.email, "password": PASSWORD})
    response = client.post(reverse("login_code"), {"code": code_for(enrolled, steps_ahead=1)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.vasby_analyst.pk)
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert Entry.objects.filter(event=Event.LOGIN).last().details == {"second_factor": True}


def test_a_wrong_code_after_the_password_is_refused_and_audited(
    client: Client, cast: Cast, enrolled: TOTPDevice
) -> None:
    client.post(reverse("login"), {"username": cast.vasby_analyst.email, "password": PASSWORD})
    wrong = f"{(int(code_for(enrolled, 1)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("login_code"), {"code": wrong})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert Entry.objects.filter(event=Event.LOGIN_FAILED, details__reason="second_factor").exists()


def test_the_code_page_without_the_password_step_sends_back_to_login(
    client: Client, db: None
) -> None:
    response = client.post(reverse("login_code"), {"code": "123456"})
    assert response["Location"] == reverse("login")


def test_a_session_not_verified_with_the_code_is_sent_back_to_log_in(
    client: Client, cast: Cast, enrolled: TOTPDevice
) -> None:
    # As after a log-in through Django's admin, which asks for no code.
    client.force_login(cast.vasby_analyst)
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_user_turns_it_off_with_their_password(client: Client, cast: Cast) -> None:
    enrol(client, cast.vasby_analyst)
    response = client.post(reverse("accounts:second_factor_remove"), {"password": "wrong"})
    assert response.status_code == 200
    assert TOTPDevice.objects.exists()
    client.post(reverse("accounts:second_factor_remove"), {"password": PASSWORD})
    assert not TOTPDevice.objects.exists()


# --- roles that demand a second factor -----------------------------------------------------


def test_an_identity_officers_first_log_in_goes_to_enrolment(client: Client, cast: Cast) -> None:
    response = client.post(
        reverse("login"), {"username": cast.identity_officer.email, "password": PASSWORD}
    )
    assert response["Location"] == reverse("accounts:second_factor_enrol")


def test_an_identity_officer_without_a_second_factor_gets_no_page_but_enrolment(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.identity_officer)
    for url in (reverse("accounts:profile"), reverse("intake:deliveries")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("accounts:second_factor_enrol")
    assert client.get(reverse("accounts:second_factor_enrol")).status_code == 200


def test_once_enrolled_the_identity_officer_gets_the_pages(client: Client, cast: Cast) -> None:
    enrol(client, cast.identity_officer)
    assert client.get(reverse("intake:deliveries")).status_code == 200


def test_an_identity_officer_cannot_turn_it_off(client: Client, cast: Cast) -> None:
    enrol(client, cast.identity_officer)
    assert "stang-av" not in client.get(reverse("accounts:profile")).text
    response = client.post(reverse("accounts:second_factor_remove"), {"password": PASSWORD})
    assert response["Location"] == reverse("accounts:profile")
    assert TOTPDevice.objects.filter(user=cast.identity_officer, confirmed=True).exists()
