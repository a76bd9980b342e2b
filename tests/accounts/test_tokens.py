"""API tokens: issued once, stored hashed, checked in constant time, expiring and revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inuk.accounts.models import ApiToken, TokenScope
from inuk.accounts.tokens import authenticate_token, issue_token, revoke_token
from inuk.audit.log import Event
from inuk.audit.models import Entry
from tests.conftest import Cast


def test_a_token_is_recognisable_and_holds_its_public_id(cast: Cast) -> None:
    token, raw = issue_token(cast.vasby, "Procapita", [TokenScope.DELIVER])
    assert re.fullmatch(r"inuk_[a-z2-7]{8}_[a-z2-7]{32}", raw)
    assert raw.split("_")[1] == token.public_id


def test_only_a_hash_of_the_token_is_stored(cast: Cast) -> None:
    token, raw = issue_token(cast.vasby, "Procapita", [TokenScope.DELIVER])
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["secret_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    secret = raw.split("_")[2]
    assert not any(secret in str(value) for value in stored.values())


def test_the_right_token_opens_and_carries_its_organisation_and_scopes(cast: Cast) -> None:
    token, raw = issue_token(cast.vasby, "Procapita", [TokenScope.DELIVER, TokenScope.READ])
    found = authenticate_token(raw, remote_addr="192.0.2.7")
    assert found == token
    assert found.organisation == cast.vasby
    assert found.has_scope(TokenScope.DELIVER) and found.has_scope(TokenScope.READ)


def test_a_token_with_one_wrong_character_is_refused(cast: Cast) -> None:
    _token, raw = issue_token(cast.vasby, "Procapita", [TokenScope.DELIVER])
    wrong = raw[:-1] + ("a" if raw[-1] != "a" else "b")
    assert authenticate_token(wrong) is None


@pytest.mark.parametrize(
    "raw",
    ["", "inuk_", "Bearer inuk_abcdefgh_x", "inuk_abcdefgh_" + "a" * 32, "x" * 5000],
)
def test_garbage_and_unknown_tokens_are_refused(cast: Cast, raw: str) -> None:
    assert authenticate_token(raw) is None


def test_an_expired_token_is_refused(cast: Cast) -> None:
    token, raw = issue_token(cast.vasby, "Procapita", [TokenScope.DELIVER], days=1)
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=now - dt.timedelta(days=1, seconds=1), expires_at=now - dt.timedelta(seconds=1)
    )
    assert authenticate_token(raw) is None


def test_a_revoked_token_is_refused_and_revoking_again_changes_nothing(cast: Cast) -> None:
    token, raw = issue_token(cast.vasby, "Procapita", [TokenScope.DELIVER])
    assert revoke_token(token, actor="admin@upplandsvasby.example")
    assert authenticate_token(raw) is None
    assert not revoke_token(token, actor="someone else")
    assert ApiToken.objects.get(pk=token.pk).revoked_by == "admin@upplandsvasby.example"


def test_use_is_recorded_at_most_once_a_minute(cast: Cast) -> None:
    token, raw = issue_token(cast.vasby, "Procapita", [TokenScope.DELIVER])
    authenticate_token(raw, remote_addr="192.0.2.7")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    authenticate_token(raw, remote_addr="192.0.2.8")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    assert Entry.objects.filter(event=Event.TOKEN_USED).count() == 1

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(seconds=61))
    authenticate_token(raw, remote_addr="192.0.2.8")
    used = ApiToken.objects.get(pk=token.pk)
    assert used.last_used_at > first and used.last_used_from == "192.0.2.8"
    entries = Entry.objects.filter(event=Event.TOKEN_USED).order_by("id")
    assert [entry.remote_addr for entry in entries] == ["192.0.2.7", "192.0.2.8"]
    assert entries[0].organisation == cast.vasby.orgnr


def test_creating_and_revoking_are_audited_with_who_and_from_where(cast: Cast) -> None:
    token, _raw = issue_token(
        cast.vasby, "Procapita", [TokenScope.DELIVER], actor="admin@x.example", remote_addr="::1"
    )
    revoke_token(token, actor="admin@x.example", remote_addr="::1")
    created = Entry.objects.get(event=Event.TOKEN_CREATED)
    revoked = Entry.objects.get(event=Event.TOKEN_REVOKED)
    for entry in (created, revoked):
        assert (entry.actor, entry.remote_addr, entry.organisation) == (
            "admin@x.example",
            "::1",
            cast.vasby.orgnr,
        )
        assert token.public_id in entry.target
    assert created.details["scopes"] == ["deliver"]


def test_a_token_expires_after_the_days_asked_for(cast: Cast) -> None:
    token, _raw = issue_token(cast.vasby, "Procapita", [TokenScope.READ], days=30)
    assert token.expires_at - token.created_at == dt.timedelta(days=30)


@pytest.mark.parametrize(
    ("scopes", "days", "name"),
    [([], 30, "x"), (["deliver"], 0, "x"), (["deliver"], 10_000, "x"), (["deliver"], 30, " ")],
)
def test_a_token_needs_a_scope_a_sensible_lifetime_and_a_name(
    cast: Cast, scopes: list[str], days: int, name: str
) -> None:
    with pytest.raises(ValidationError):
        issue_token(cast.vasby, name, scopes, days=days)
    assert not ApiToken.objects.exists()


def test_an_unknown_scope_is_refused(cast: Cast) -> None:
    with pytest.raises(ValueError):
        issue_token(cast.vasby, "x", ["admin"])
