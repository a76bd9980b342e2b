"""Fixtures for the account tests: the named cast (``tests/cast.py``) and logged-in clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from inuk.accounts.models import User
from tests.cast import Cast, log_in, make_cast


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()


@pytest.fixture
def client_as(client: Client) -> Callable[[User], Client]:
    """A test client logged in as the given user (verified with a second factor if the role
    demands one, ``tests.cast.log_in``)."""

    def login(user: User) -> Client:
        return log_in(client, user)

    return login
