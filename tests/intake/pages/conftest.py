"""Fixtures for the delivery pages: the cast's municipalities under agreement, files, rows.

Every test here runs with Upplands Väsby's and Vallentuna's agreements in
force, so that their reporters' files are received and applied.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import pytest
from django.utils import timezone

from inuk.format.writers import Person
from inuk.intake.models import Delivery
from inuk.organisations.models import Organisation
from tests.conftest import ANNA, ANNA_MISTYPED, BO, VASBY_CODE, VASBY_ORGNR, delivery_file, insats


def good_file(orgnr: str = VASBY_ORGNR, kommunkod: str = VASBY_CODE) -> bytes:
    persons = [Person(ANNA, [insats("SYV")]), Person(BO, [insats("PRA", "20240201")])]
    return delivery_file(persons, orgnr=orgnr, kommunkod=kommunkod)


def file_with_errors() -> bytes:
    """Three transactions: one accepted, one with a bad personnummer, one with an unknown code."""
    return delivery_file(
        [
            Person(ANNA, [insats("SYV"), insats("NOPE", "20240110")]),
            Person(ANNA_MISTYPED, [insats("PRA", "20240201")]),
        ]
    )


@pytest.fixture(autouse=True)
def agreements_in_force(agreements: None) -> None:
    """The agreements of both municipalities, for every test here."""


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
