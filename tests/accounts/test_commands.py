"""``inuk user`` and ``inuk token``: scripted onboarding."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from inuk.accounts.models import ApiToken, Role, User
from inuk.accounts.tokens import authenticate_token
from inuk.audit.log import Event
from inuk.audit.models import Entry
from tests.conftest import VALLENTUNA_ORGNR, VASBY_ORGNR, Cast


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with translation.override("en"):
        call_command(*args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_user_add_prints_a_link_with_which_the_user_sets_a_password(
    client: Client, cast: Cast
) -> None:
    link, note = run(
        "user",
        "add",
        "--org",
        "212000-0019",
        "--role",
        "reporter",
        "--role",
        "analyst",
        "--email",
        "Ny@UpplandsVasby.example",
        "--base-url",
        "https://inuk.example",
    )
    user = User.objects.get(email="ny@upplandsvasby.example")
    assert user.organisation == cast.vasby and user.roles == {Role.REPORTER, Role.ANALYST}
    assert link.startswith("https://inuk.example/konto/losenord/nytt/")
    assert "ny@upplandsvasby.example" in note

    page = client.get(link.removeprefix("https://inuk.example"))
    response = client.post(
        page["Location"],
        {"new_password1": "en-lång-lösenfras-1", "new_password2": "en-lång-lösenfras-1"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).check_password("en-lång-lösenfras-1")
    assert Entry.objects.get(event=Event.USER_CREATED).actor.startswith("cli")


def test_user_add_refuses_an_af_role_for_a_municipality(cast: Cast) -> None:
    with pytest.raises(CommandError, match="cannot hold"):
        run("user", "add", "--org", VASBY_ORGNR, "--role", "af_admin", "--email", "x@y.example")
    assert not User.objects.filter(email="x@y.example").exists()


def test_user_add_refuses_an_address_already_taken(cast: Cast) -> None:
    with pytest.raises(CommandError, match="already"):
        run(
            "user",
            "add",
            "--org",
            VASBY_ORGNR,
            "--role",
            "reporter",
            "--email",
            cast.vasby_reporter.email,
        )


def test_user_add_refuses_an_unknown_organisation(cast: Cast) -> None:
    with pytest.raises(CommandError, match="organisation"):
        run("user", "add", "--org", "5560000000", "--role", "reporter", "--email", "x@y.example")


def test_user_list_shows_one_organisations_users_with_their_roles(cast: Cast) -> None:
    out, _err = run("user", "list", "--org", VALLENTUNA_ORGNR)
    lines = out.splitlines()
    assert len(lines) == 3
    assert all("vallentuna.example" in line for line in lines)
    assert any("\tuser_admin\t" in line for line in lines)


def test_user_link_and_remove(cast: Cast) -> None:
    link, _err = run("user", "link", cast.vasby_analyst.email)
    assert "/konto/losenord/nytt/" in link
    run("user", "remove", cast.vasby_analyst.email)
    assert not User.objects.filter(pk=cast.vasby_analyst.pk).exists()


def test_token_create_prints_the_token_once_on_its_own(cast: Cast) -> None:
    raw, note = run(
        "token",
        "create",
        "--org",
        VASBY_ORGNR,
        "--name",
        "Procapita",
        "--scope",
        "deliver",
        "--scope",
        "read",
        "--days",
        "30",
    )
    token = authenticate_token(raw)
    assert token is not None and token.organisation == cast.vasby
    assert sorted(token.scopes) == ["deliver", "read"]
    assert raw not in note
    listed, _err = run("token", "list", "--org", VASBY_ORGNR)
    assert token.public_id in listed and raw.split("_")[2] not in listed


def test_token_revoke_by_its_id(cast: Cast) -> None:
    raw, _note = run("token", "create", "--org", VASBY_ORGNR, "--name", "x", "--scope", "deliver")
    public_id = raw.split("_")[1]
    run("token", "revoke", public_id)
    assert authenticate_token(raw) is None
    assert ApiToken.objects.get().revoked_by.startswith("cli")
    listed, _err = run("token", "list")
    assert "revoked" in listed


def test_token_create_refuses_a_lifetime_beyond_two_years(cast: Cast) -> None:
    with pytest.raises(CommandError, match="days"):
        run(
            "token",
            "create",
            "--org",
            VASBY_ORGNR,
            "--name",
            "x",
            "--scope",
            "deliver",
            "--days",
            "1000",
        )


def test_token_revoke_of_an_unknown_id_fails(cast: Cast) -> None:
    with pytest.raises(CommandError):
        run("token", "revoke", "aaaaaaaa")
