"""The user administration pages: each municipality manages its own users only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.accounts.models import Role, User
from inuk.audit.log import Event
from inuk.audit.models import Entry
from tests.conftest import Cast

ClientAs = Callable[[User], Client]


def test_a_municipal_administrator_lists_only_their_own_users(
    client_as: ClientAs, cast: Cast
) -> None:
    response = client_as(cast.vasby_admin).get(reverse("accounts:users"))
    assert response.status_code == 200
    assert cast.vasby_reporter.email in response.text
    assert "vallentuna.example" not in response.text
    assert "arbetsformedlingen.example" not in response.text


def test_the_af_administrator_lists_everyone_and_can_narrow_to_one_organisation(
    client_as: ClientAs, cast: Cast
) -> None:
    client = client_as(cast.af_admin)
    everyone = client.get(reverse("accounts:users")).text
    assert cast.vasby_reporter.email in everyone and cast.vallentuna_admin.email in everyone
    narrowed = client.get(reverse("accounts:users"), {"org": "212000-0027"}).text
    assert cast.vallentuna_admin.email in narrowed
    assert cast.vasby_reporter.email not in narrowed


@pytest.mark.parametrize(
    "name", ["vasby_reporter", "vasby_analyst", "af_analyst", "identity_officer"]
)
def test_users_who_administer_nobody_are_refused_the_pages(
    client_as: ClientAs, cast: Cast, name: str
) -> None:
    client = client_as(cast.users()[name])
    for url in (
        reverse("accounts:users"),
        reverse("accounts:user_add"),
        reverse("accounts:user_edit", args=[cast.vasby_reporter.pk]),
    ):
        assert client.get(url).status_code == 403


def test_a_municipal_administrator_adds_a_user_who_gets_a_link_by_mail(
    client_as: ClientAs, cast: Cast
) -> None:
    response = client_as(cast.vasby_admin).post(
        reverse("accounts:user_add"),
        {"email": "Ny.Person@UpplandsVasby.example", "first_name": "Ny", "roles": ["reporter"]},
    )
    assert response.status_code == 302
    user = User.objects.get(email="ny.person@upplandsvasby.example")
    assert user.organisation == cast.vasby and user.roles == {Role.REPORTER}
    assert not user.has_usable_password()
    [message] = mail.outbox
    assert message.to == [user.email] and "/konto/losenord/nytt/" in message.body
    entry = Entry.objects.get(event=Event.USER_CREATED)
    assert entry.actor == cast.vasby_admin.email and entry.organisation == cast.vasby.orgnr


def test_a_municipal_administrator_cannot_give_an_af_role(client_as: ClientAs, cast: Cast) -> None:
    response = client_as(cast.vasby_admin).post(
        reverse("accounts:user_add"),
        {"email": "ny@upplandsvasby.example", "roles": ["identity_officer"]},
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="ny@upplandsvasby.example").exists()


def test_a_municipal_administrator_cannot_add_a_user_to_another_organisation(
    client_as: ClientAs, cast: Cast
) -> None:
    client_as(cast.vasby_admin).post(
        reverse("accounts:user_add"),
        {
            "email": "ny@vallentuna.example",
            "roles": ["reporter"],
            "organisation": cast.vallentuna.pk,
        },
    )
    assert User.objects.get(email="ny@vallentuna.example").organisation == cast.vasby


def test_the_af_administrator_adds_an_identity_officer_to_af(
    client_as: ClientAs, cast: Cast
) -> None:
    client_as(cast.af_admin).post(
        reverse("accounts:user_add"),
        {
            "email": "id2@arbetsformedlingen.example",
            "roles": ["identity_officer"],
            "organisation": cast.af.pk,
        },
    )
    assert User.objects.get(email="id2@arbetsformedlingen.example").roles == {Role.IDENTITY_OFFICER}


def test_the_af_administrator_cannot_give_an_af_role_to_a_municipal_user(
    client_as: ClientAs, cast: Cast
) -> None:
    response = client_as(cast.af_admin).post(
        reverse("accounts:user_add"),
        {
            "email": "x@upplandsvasby.example",
            "roles": ["national_analyst"],
            "organisation": cast.vasby.pk,
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="x@upplandsvasby.example").exists()


def test_an_administrator_changes_roles_and_the_change_is_audited(
    client_as: ClientAs, cast: Cast
) -> None:
    response = client_as(cast.vasby_admin).post(
        reverse("accounts:user_edit", args=[cast.vasby_reporter.pk]),
        {"roles": ["reporter", "analyst"], "first_name": "R", "last_name": "", "is_active": "on"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=cast.vasby_reporter.pk).roles == {Role.REPORTER, Role.ANALYST}
    entry = Entry.objects.get(event=Event.USER_CHANGED)
    assert entry.details["roles"] == ["analyst", "reporter"]
    assert "roles" in entry.details["changed"]


def test_an_administrator_stops_a_user_logging_in(client_as: ClientAs, cast: Cast) -> None:
    client_as(cast.vasby_admin).post(
        reverse("accounts:user_edit", args=[cast.vasby_reporter.pk]),
        {"roles": ["reporter"], "first_name": "", "last_name": ""},
    )
    assert not User.objects.get(pk=cast.vasby_reporter.pk).is_active


def test_an_administrator_removes_a_lost_second_factor(client_as: ClientAs, cast: Cast) -> None:
    TOTPDevice.objects.create(user=cast.vasby_reporter, name="INUK", confirmed=True)
    client_as(cast.vasby_admin).post(
        reverse("accounts:user_edit", args=[cast.vasby_reporter.pk]),
        {"roles": ["reporter"], "is_active": "on", "remove_second_factor": "on"},
    )
    assert not TOTPDevice.objects.filter(user=cast.vasby_reporter).exists()


def test_an_administrator_removes_a_user(client_as: ClientAs, cast: Cast) -> None:
    client = client_as(cast.vasby_admin)
    assert (
        client.get(reverse("accounts:user_remove", args=[cast.vasby_reporter.pk])).status_code
        == 200
    )
    client.post(reverse("accounts:user_remove", args=[cast.vasby_reporter.pk]))
    assert not User.objects.filter(pk=cast.vasby_reporter.pk).exists()
    entry = Entry.objects.get(event=Event.USER_REMOVED)
    assert entry.details["email"] == cast.vasby_reporter.email


def test_an_administrator_cannot_remove_themselves(client_as: ClientAs, cast: Cast) -> None:
    client = client_as(cast.vasby_admin)
    assert (
        client.post(reverse("accounts:user_remove", args=[cast.vasby_admin.pk])).status_code == 403
    )
    assert User.objects.filter(pk=cast.vasby_admin.pk).exists()


def test_an_af_user_administrator_sees_but_cannot_change_the_af_administrator(
    client_as: ClientAs, cast: Cast
) -> None:
    cast.af_analyst.set_roles([Role.NATIONAL_ANALYST, Role.USER_ADMIN])
    client = client_as(cast.af_analyst)
    assert cast.af_admin.email in client.get(reverse("accounts:users")).text
    edit = reverse("accounts:user_edit", args=[cast.af_admin.pk])
    assert client.get(edit).status_code == 403
    assert client.post(reverse("accounts:user_remove", args=[cast.af_admin.pk])).status_code == 403
    assert User.objects.get(pk=cast.af_admin.pk).roles == {Role.AF_ADMIN}


def test_a_user_administrator_cannot_edit_disable_or_remove_a_superuser(
    client_as: ClientAs, cast: Cast
) -> None:
    # A superuser holds every power, whatever roles the organisation lists:
    # even one with only a local role is out of a user administrator's reach.
    superuser = User.objects.create_superuser(
        "root@upplandsvasby.example", "a long enough password", organisation=cast.vasby
    )
    superuser.set_roles([Role.ANALYST])
    client = client_as(cast.vasby_admin)
    edit = reverse("accounts:user_edit", args=[superuser.pk])
    assert client.get(edit).status_code == 403
    assert client.post(edit, {"roles": ["analyst"]}).status_code == 403
    assert client.post(reverse("accounts:user_remove", args=[superuser.pk])).status_code == 403
    assert client.post(reverse("accounts:user_send_link", args=[superuser.pk])).status_code == 403
    superuser.refresh_from_db()
    assert superuser.is_active and superuser.roles == {Role.ANALYST}
    assert edit not in client.get(reverse("accounts:users")).text


def test_a_superuser_manages_another_superuser(client_as: ClientAs, cast: Cast) -> None:
    root = User.objects.create_superuser(
        "root@af.example", "a long enough password", organisation=cast.af
    )
    root.set_roles([Role.AF_ADMIN])
    other = User.objects.create_superuser(
        "other@upplandsvasby.example", "a long enough password", organisation=cast.vasby
    )
    other.set_roles([Role.ANALYST])
    edit = reverse("accounts:user_edit", args=[other.pk])
    assert client_as(root).get(edit).status_code == 200


def _wrong_municipality_requests(cast: Cast) -> list[tuple[str, str, dict]]:
    other = cast.vallentuna_reporter.pk
    return [
        ("get", reverse("accounts:user_edit", args=[other]), {}),
        (
            "post",
            reverse("accounts:user_edit", args=[other]),
            {"roles": ["analyst"], "is_active": "on"},
        ),
        ("post", reverse("accounts:user_send_link", args=[other]), {}),
        ("get", reverse("accounts:user_remove", args=[other]), {}),
        ("post", reverse("accounts:user_remove", args=[other]), {}),
        ("get", reverse("accounts:users") + "?org=2120000027", {}),
    ]


def test_every_user_page_as_the_wrong_municipality_finds_nothing_and_changes_nothing(
    client_as: ClientAs, cast: Cast
) -> None:
    client = client_as(cast.vasby_admin)
    for method, url, data in _wrong_municipality_requests(cast):
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url)
    untouched = User.objects.get(pk=cast.vallentuna_reporter.pk)
    assert untouched.is_active and untouched.roles == {Role.REPORTER}
    assert mail.outbox == []
    assert not Entry.objects.filter(event__startswith="user.").exists()


def test_the_menu_shows_administration_only_to_administrators(
    client_as: ClientAs, cast: Cast
) -> None:
    users_url = reverse("accounts:users")
    assert users_url in client_as(cast.vasby_admin).get(reverse("accounts:profile")).text
    assert users_url not in client_as(cast.vasby_analyst).get(reverse("accounts:profile")).text


def test_an_administrator_cannot_take_away_their_own_administrator_role(
    client_as: ClientAs, cast: Cast
) -> None:
    response = client_as(cast.vasby_admin).post(
        reverse("accounts:user_edit", args=[cast.vasby_admin.pk]),
        {"roles": ["reporter"], "is_active": "on"},
    )
    assert response.status_code == 200
    assert User.objects.get(pk=cast.vasby_admin.pk).roles == {Role.USER_ADMIN}


def test_the_user_list_asks_the_database_the_same_number_of_times_for_more_users(
    client_as: ClientAs, cast: Cast
) -> None:
    client = client_as(cast.af_admin)
    client.get(reverse("accounts:users"))  # the session and the like, once
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("accounts:users"))
    for number in range(20):
        User.objects.create_user(
            f"extra{number}@vallentuna.example", organisation=cast.vallentuna, roles=["reporter"]
        )
    with CaptureQueriesContext(connection) as many:
        assert "extra19@vallentuna.example" in client.get(reverse("accounts:users")).text
    assert len(many) == len(few)
