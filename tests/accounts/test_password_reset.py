"""Resetting a password by mail; the same link sets a new user's first password."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client
from django.urls import reverse

from inuk.accounts.models import User
from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.format.masking import holds_personnummer
from tests.conftest import PASSWORD, Cast

NEW_PASSWORD = "sju-sjösjuka-sjömän-på-ett-skepp"


def _link_in(body: str) -> str:
    [link] = re.findall(r"https?://\S+", body)
    return link.split("testserver", 1)[1]


def _set_password(client: Client, link: str, password: str):
    response = client.get(link)  # Django moves the token from the URL into the session
    assert response.status_code == 302
    return client.post(response["Location"], {"new_password1": password, "new_password2": password})


def test_the_mail_has_a_working_link_and_no_personnummer(client: Client, cast: Cast) -> None:
    response = client.post(reverse("password_reset"), {"email": cast.vasby_analyst.email})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [cast.vasby_analyst.email]
    assert not holds_personnummer(
        message.subject + message.body.replace(_link_in(message.body), "")
    )

    response = _set_password(client, _link_in(message.body), NEW_PASSWORD)
    assert response.status_code == 302
    assert User.objects.get(pk=cast.vasby_analyst.pk).check_password(NEW_PASSWORD)
    assert Entry.objects.filter(event=Event.USER_CHANGED, details__how="link").exists()


def test_the_link_works_only_once(client: Client, cast: Cast) -> None:
    client.post(reverse("password_reset"), {"email": cast.vasby_analyst.email})
    link = _link_in(mail.outbox[0].body)
    _set_password(client, link, NEW_PASSWORD)
    response = Client().get(link, follow=True)
    assert not response.context["validlink"]


def test_an_unknown_address_gets_no_mail_but_the_same_answer(client: Client, cast: Cast) -> None:
    response = client.post(reverse("password_reset"), {"email": "nobody@example.se"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_a_new_user_without_a_password_can_ask_for_the_link_too(client: Client, cast: Cast) -> None:
    user = User.objects.create_user("ny@upplandsvasby.example", organisation=cast.vasby)
    client.post(reverse("password_reset"), {"email": user.email})
    [message] = mail.outbox
    _set_password(client, _link_in(message.body), NEW_PASSWORD)
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_an_inactive_user_gets_no_link(client: Client, cast: Cast) -> None:
    User.objects.filter(pk=cast.vasby_analyst.pk).update(is_active=False)
    client.post(reverse("password_reset"), {"email": cast.vasby_analyst.email})
    assert mail.outbox == []


def test_a_logged_in_user_changes_their_password(client: Client, cast: Cast) -> None:
    client.force_login(cast.vasby_analyst)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == reverse("password_change_done")
    assert User.objects.get(pk=cast.vasby_analyst.pk).check_password(NEW_PASSWORD)
