"""Fixtures for the API tests: the cast, agreements in force, tokens and a client using them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client

from inuk.accounts.tokens import issue_token
from inuk.organisations.models import Agreement, Municipality, Organisation
from tests.conftest import VALLENTUNA_CODE, VASBY_CODE, Cast, make_cast

API = "/api/v1"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """The rate limit counts live in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()


@pytest.fixture
def agreements(db: None) -> None:
    """Upplands Väsby and Vallentuna under agreements in force since 2020."""
    for code in (VASBY_CODE, VALLENTUNA_CODE):
        Agreement.objects.create(
            municipality=Municipality.objects.get(code=code),
            af_case_number="Af-2020/1",
            signed_by_af=dt.date(2020, 1, 1),
            signed_by_municipality=dt.date(2020, 1, 2),
        )


TokenMaker = Callable[..., str]


@pytest.fixture
def token_for(db: None) -> TokenMaker:
    """A new token of an organisation: ``token_for(org, "deliver", "read")`` returns it raw."""

    def make(organisation: Organisation, *scopes: str, name: str = "Procapita export") -> str:
        _token, raw = issue_token(organisation, name, scopes or ["deliver", "read"])
        return raw

    return make


class Api:
    """The test client speaking to /api/v1 with a bearer token (or none)."""

    def __init__(self, client: Client, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        merged = dict(headers or {})
        if self.token is not None:
            merged.setdefault("Authorization", f"Bearer {self.token}")
        return merged

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.client.get(API + path, params or {}, headers=self._headers(headers))

    def post(
        self,
        path: str,
        data: bytes | dict = b"",
        content_type: str = "application/xml",
        query: str = "",
        headers: dict | None = None,
        **extra,
    ):
        url = API + path + (f"?{query}" if query else "")
        if isinstance(data, dict):  # multipart
            return self.client.post(url, data, headers=self._headers(headers), **extra)
        return self.client.post(
            url, data, content_type=content_type, headers=self._headers(headers), **extra
        )


@pytest.fixture
def api_as() -> Callable[[str | None], Api]:
    """``api_as(raw_token)``: a client sending that token; ``api_as(None)``: no token."""
    return lambda token: Api(Client(), token)
