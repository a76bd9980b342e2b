"""Fixtures for the delivery pages: the named cast, logged-in clients, deliveries on file.

The cast (``tests/cast.py``) with agreements in force for Upplands Väsby and
Vallentuna (``tests/intake/conftest.py``), so that their reporters' files are
received and applied.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from inuk.accounts.models import User
from inuk.intake.models import Delivery
from inuk.organisations.models import Organisation
from tests.conftest import Cast, log_in, make_cast
from tests.intake.deliveries import VASBY, Person, Tx, pnr, xml

ANNA = pnr("19990101", "123")
BO = pnr("20010202", "456")
#: Anna's personnummer with a wrong check digit: the error a receipt masks.
BAD = ANNA[:-1] + str((int(ANNA[-1]) + 1) % 10)


def good_file(orgnr_and_code: tuple[str, str] = VASBY) -> bytes:
    return xml(*orgnr_and_code, [Person(ANNA, [Tx("SYV")]), Person(BO, [Tx("PRA", "20240201")])])


def file_with_errors(orgnr_and_code: tuple[str, str] = VASBY) -> bytes:
    """Three transactions: one accepted, one with a bad personnummer, one with an unknown code."""
    return xml(
        *orgnr_and_code,
        [
            Person(ANNA, [Tx("SYV"), Tx("NOPE", "20240110")]),
            Person(BAD, [Tx("PRA", "20240201")]),
        ],
    )


@pytest.fixture
def cast(agreements: None) -> Cast:
    return make_cast()


@pytest.fixture
def client_as(client: Client) -> Callable[[User], Client]:
    """A test client logged in as the given user (verified with a second factor if the role
    demands one, ``tests.cast.log_in``)."""

    def login(user: User) -> Client:
        return log_in(client, user)

    return login


_serial = itertools.count()


@pytest.fixture
def on_file() -> Callable[..., Delivery]:
    """A delivery row as processing leaves it, without a file: for the list's tests."""

    def make(organisation: Organisation, **fields) -> Delivery:
        number = next(_serial)
        values = {
            "received_at": timezone.now(),
            "filename": f"leverans-{number}.xml",
            "checksum": hashlib.sha256(str(number).encode()).hexdigest(),
            "size": 1000,
            "format": "xml",
            "status": Delivery.Status.APPLIED,
        }
        values.update(fields)
        return Delivery.objects.create(organisation=organisation, **values)

    return make
