"""Logging in with an e-mail address, and the audit entries it leaves."""

from __future__ import annotations

import ipaddress

from django.test import Client
from django.urls import reverse

from inuk.audit.log import Event
from inuk.audit.models import Entry
from tests.conftest import PASSWORD, Cast


def _login(client: Client, email: str, password: str, **extra: str):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def test_the_login_page_asks_for_an_email_address(client: Client, db: None) -> None:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'autocomplete="username"' in response.text
    assert 'name="password"' in response.text


def test_a_user_logs_in_with_their_email_address(client: Client, cast: Cast) -> None:
    response = _login(client, "Analyst@UpplandsVasby.example", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.vasby_analyst.pk)


def test_a_login_is_audited_with_who_and_from_where(client: Client, cast: Cast) -> None:
    _login(client, cast.vasby_analyst.email, PASSWORD, REMOTE_ADDR="198.51.100.4")
    entry = Entry.objects.get(event=Event.LOGIN)
    assert entry.actor == cast.vasby_analyst.email
    assert entry.organisation == cast.vasby.orgnr
    assert entry.remote_addr == "198.51.100.4"


def test_a_wrong_password_is_refused_and_audited(client: Client, cast: Cast) -> None:
    response = _login(client, cast.vasby_analyst.email, "wrong", REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    entry = Entry.objects.get(event=Event.LOGIN_FAILED)
    assert (entry.actor, entry.remote_addr) == (cast.vasby_analyst.email, "198.51.100.4")
    assert entry.details == {"reason": "password", "known_user": True}


def test_whatever_else_is_typed_as_the_login_name_stays_out_of_the_audit_log(
    client: Client, cast: Cast
) -> None:
    _login(client, "19881212-1234 my secret", "wrong")
    entry = Entry.objects.get(event=Event.LOGIN_FAILED)
    assert entry.actor == "" and entry.target == ""
    assert "1234" not in str(entry.details)


def test_an_inactive_user_cannot_log_in(client: Client, cast: Cast) -> None:
    cast.vasby_analyst.is_active = False
    cast.vasby_analyst.save()
    _login(client, cast.vasby_analyst.email, PASSWORD)
    assert "_auth_user_id" not in client.session


def test_login_does_not_redirect_to_another_site(client: Client, cast: Cast) -> None:
    response = client.post(
        reverse("login") + "?next=https://evil.example/",
        {"username": cast.vasby_analyst.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_logging_out_is_audited(client: Client, cast: Cast) -> None:
    client.force_login(cast.vasby_analyst)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert Entry.objects.filter(event=Event.LOGOUT, actor=cast.vasby_analyst.email).exists()


def test_pages_that_need_a_login_send_an_anonymous_visitor_to_it(client: Client, db: None) -> None:
    for name in ("accounts:profile", "accounts:users", "accounts:tokens", "password_change"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_behind_the_trusted_proxy_the_login_is_audited_with_the_clients_address(
    client: Client, cast: Cast, settings
) -> None:
    settings.INUK_TRUSTED_PROXY = [ipaddress.ip_network("10.0.0.0/24")]
    _login(
        client,
        cast.vasby_analyst.email,
        PASSWORD,
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="198.51.100.4",
    )
    assert Entry.objects.get(event=Event.LOGIN).remote_addr == "198.51.100.4"
