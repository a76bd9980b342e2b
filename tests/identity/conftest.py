"""The identity officer's world: the cast's municipalities under agreement, persons delivered.

``ANNA_SAMORDNING`` is a samordningsnummer later replaced by ``ANNA``; ``BO``
is another person. ``deliver_person`` sends a small delivery of Upplands
Väsby's with a person's transactions, processed at once; ``officer`` is a
client logged in as the identity officer with a verified second factor, as
after the real log-in.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from inuk.format.writers import Person, Transaction
from inuk.intake.models import Delivery
from tests.conftest import (
    ANNA,
    ANNA_SAMORDNING,
    BO,
    Cast,
    delivery_file,
    insats,
    log_in,
    receive_file,
)

PURPOSE = {"case_number": "Af-2026/0001234", "reason": "Begäran om registerutdrag"}

#: Every way a number of the tests could be written somewhere it must not be.
NUMBERS = (ANNA_SAMORDNING, ANNA, BO)


def forms(number: str) -> list[str]:
    return [number, number[2:], f"{number[2:8]}-{number[8:]}", f"{number[:8]}-{number[8:]}"]


def found_in(text: str) -> list[str]:
    """The personnummer of the tests that occur in ``text``, in any written form."""
    return [form for number in NUMBERS for form in forms(number) if form in text]


@pytest.fixture(autouse=True)
def agreements_in_force(agreements: None) -> None:
    """The agreements of both municipalities, for every test here."""


@pytest.fixture
def deliver_person(cast: Cast) -> Callable[..., Delivery]:
    """``deliver_person(number, *interventions, results=[...])``: one person's transactions
    (an Insats by default), delivered by Upplands Väsby and applied."""

    def deliver(
        number: str, *interventions: Transaction, results: list[Transaction] | None = None
    ) -> Delivery:
        person = Person(
            number, list(interventions) or ([] if results else [insats()]), results or []
        )
        delivery = receive_file(
            cast.vasby, delivery_file([person]), submitted_by="test", channel="api"
        )
        assert delivery.status == Delivery.Status.APPLIED, delivery.refusal_en
        return delivery

    return deliver


@pytest.fixture
def officer(client: Client, cast: Cast) -> Client:
    return log_in(client, cast.identity_officer)
