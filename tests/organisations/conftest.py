"""Fixtures of the agreement tests: organisations outside the shipped register, agreements.

The municipalities and AF are the cast's (``tests/conftest.py``); "System AB"
(``SUPPLIER_ORGNR``) is a supplier and "Norrorts kommunalförbund"
(``FEDERATION_ORGNR``) a federation, neither registered by any municipality
until a test does so. Dates lie in 2024–2025, before the day the tests run,
since signatures and notices cannot lie in the future.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import translation

from inuk.organisations.models import (
    Agreement,
    DeliveryAuthorisation,
    Municipality,
    Organisation,
)
from tests.conftest import FEDERATION_ORGNR, SUPPLIER_ORGNR


@pytest.fixture(autouse=True)
def english_messages():
    """Validation messages are matched in English; pages pick their language per request."""
    with translation.override("en"):
        yield


@pytest.fixture
def supplier(db) -> Organisation:
    return Organisation.objects.create(
        orgnr=SUPPLIER_ORGNR, name="System AB", kind=Organisation.Kind.SUPPLIER
    )


@pytest.fixture
def federation(db) -> Organisation:
    return Organisation.objects.create(
        orgnr=FEDERATION_ORGNR, name="Norrorts kommunalförbund", kind=Organisation.Kind.FEDERATION
    )


@pytest.fixture
def make_agreement(db) -> Callable[..., Agreement]:
    """An agreement, validated as the command and the admin validate it."""

    def make(municipality: Municipality, af: dt.date | None, kommun: dt.date | None, **fields):
        agreement = Agreement(
            municipality=municipality, signed_by_af=af, signed_by_municipality=kommun, **fields
        )
        agreement.full_clean()
        agreement.save()
        return agreement

    return make


@pytest.fixture
def authorise(db) -> Callable[..., DeliveryAuthorisation]:
    def authorise(
        deliverer: Organisation,
        municipality: Municipality,
        valid_from: dt.date,
        valid_until: dt.date | None = None,
    ) -> DeliveryAuthorisation:
        authorisation = DeliveryAuthorisation(
            deliverer=deliverer,
            municipality=municipality,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        authorisation.full_clean()
        authorisation.save()
        return authorisation

    return authorise
