"""The API token pages: made and shown once, listed, revoked; each municipality its own."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.test import Client
from django.urls import reverse

from inuk.accounts.models import ApiToken, User
from inuk.accounts.tokens import authenticate_token, issue_token
from tests.conftest import Cast

ClientAs = Callable[[User], Client]


def _create(client: Client, **data: object):
    form = {"name": "Procapita", "scopes": ["deliver"], "days": "90", **data}
    return client.post(reverse("accounts:token_add"), form)


def test_a_new_token_is_shown_once_and_works(client_as: ClientAs, cast: Cast) -> None:
    client = client_as(cast.vasby_admin)
    response = _create(client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    [raw] = re.findall(r"inuk_[a-z2-7]{8}_[a-z2-7]{32}", response.text)
    token = authenticate_token(raw)
    assert token is not None and token.organisation == cast.vasby and token.scopes == ["deliver"]

    listing = client.get(reverse("accounts:tokens")).text
    assert "Procapita" in listing and token.public_id in listing
    assert raw not in listing and raw.split("_")[2] not in listing


def test_the_list_shows_when_and_from_where_a_token_was_last_used(
    client_as: ClientAs, cast: Cast
) -> None:
    _token, raw = issue_token(cast.vasby, "Procapita", ["deliver"])
    authenticate_token(raw, remote_addr="192.0.2.44")
    listing = client_as(cast.vasby_admin).get(reverse("accounts:tokens")).text
    assert "192.0.2.44" in listing


def test_a_municipal_administrator_cannot_make_a_token_for_another_organisation(
    client_as: ClientAs, cast: Cast
) -> None:
    _create(client_as(cast.vasby_admin), organisation=cast.vallentuna.pk)
    assert ApiToken.objects.get().organisation == cast.vasby


def test_the_af_administrator_makes_a_token_for_any_organisation(
    client_as: ClientAs, cast: Cast
) -> None:
    _create(client_as(cast.af_admin), organisation=cast.vallentuna.pk)
    assert ApiToken.objects.get().organisation == cast.vallentuna


def test_an_administrator_revokes_a_token(client_as: ClientAs, cast: Cast) -> None:
    token, raw = issue_token(cast.vasby, "Procapita", ["deliver"])
    client = client_as(cast.vasby_admin)
    assert client.get(reverse("accounts:token_revoke", args=[token.pk])).status_code == 200
    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert authenticate_token(raw) is None


def test_those_who_administer_nobody_are_refused_the_token_pages(
    client_as: ClientAs, cast: Cast
) -> None:
    token, _raw = issue_token(cast.vasby, "Procapita", ["deliver"])
    for name in ("vasby_reporter", "vasby_analyst", "af_analyst", "identity_officer"):
        client = client_as(cast.users()[name])
        for url in (
            reverse("accounts:tokens"),
            reverse("accounts:token_add"),
            reverse("accounts:token_revoke", args=[token.pk]),
        ):
            assert client.get(url).status_code == 403, (name, url)
            assert (
                client.post(url, {"name": "x", "scopes": ["deliver"], "days": "1"}).status_code
                == 403
            )
    assert ApiToken.objects.get().revoked_at is None


def test_every_token_page_as_the_wrong_municipality_finds_nothing_and_changes_nothing(
    client_as: ClientAs, cast: Cast
) -> None:
    theirs, raw = issue_token(cast.vallentuna, "Vallentunas export", ["deliver"])
    client = client_as(cast.vasby_admin)
    listing = client.get(reverse("accounts:tokens")).text
    assert "Vallentunas export" not in listing and theirs.public_id not in listing
    for method, url in (
        ("get", reverse("accounts:token_revoke", args=[theirs.pk])),
        ("post", reverse("accounts:token_revoke", args=[theirs.pk])),
        ("get", reverse("accounts:tokens") + "?org=2120000027"),
    ):
        assert getattr(client, method)(url).status_code == 404, (method, url)
    assert authenticate_token(raw) is not None
