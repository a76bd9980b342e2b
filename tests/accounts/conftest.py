"""Fixtures for the account tests: the named cast (``tests/cast.py``) and logged-in clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from inuk.accounts.models import User
from tests.cast import Cast, make_cast


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()


@pytest.fixture
def client_as(client: Client) -> Callable[[User], Client]:
    """A test client logged in as the given user (through a session, no second factor)."""

    def login(user: User) -> Client:
        client.force_login(user)
        return client

    return login
