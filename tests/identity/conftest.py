"""The identity officer's world: the cast, two municipalities under agreement, persons delivered.

``ANNA_SAMORDNING`` is a samordningsnummer later replaced by ``ANNA``; ``BO``
is another person. ``deliver`` sends a small delivery of Upplands Väsby,
processed at once; ``officer`` is a client logged in as the identity officer
with a verified second factor, as after the real log-in.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.test import Client

from inuk.intake.models import Delivery
from inuk.intake.receive import Submission, receive
from inuk.organisations.models import Agreement, Municipality
from tests.conftest import Cast, log_in, make_cast
from tests.intake.deliveries import VALLENTUNA, VASBY, Person, Tx, pnr, xml

ANNA_SAMORDNING = pnr("20030375", "238")  # born 2003-03-15, samordningsnummer (day + 60)
ANNA = pnr("20030315", "238")
BO = pnr("19990101", "123")
PURPOSE = {"case_number": "Af-2026/0001234", "reason": "Begäran om registerutdrag"}

#: Every way a number of the tests could be written somewhere it must not be.
NUMBERS = (ANNA_SAMORDNING, ANNA, BO)


def forms(number: str) -> list[str]:
    return [number, number[2:], f"{number[2:8]}-{number[8:]}", f"{number[:8]}-{number[8:]}"]


def found_in(text: str) -> list[str]:
    """The personnummer of the tests that occur in ``text``, in any written form."""
    return [form for number in NUMBERS for form in forms(number) if form in text]


@pytest.fixture
def cast(db) -> Cast:
    for code in (VASBY[1], VALLENTUNA[1]):
        Agreement.objects.create(
            municipality=Municipality.objects.get(code=code),
            signed_by_af=dt.date(2020, 1, 1),
            signed_by_municipality=dt.date(2020, 1, 1),
        )
    return make_cast()


@pytest.fixture
def deliver(cast: Cast) -> Callable[..., Delivery]:
    def deliver(number: str, *transactions: Tx) -> Delivery:
        data = xml(*VASBY, [Person(number, list(transactions) or [Tx()])])
        submission = Submission(organisation=cast.vasby, submitted_by="test", channel="api")
        delivery = receive(io.BytesIO(data), submission)
        assert delivery.status == Delivery.Status.APPLIED, delivery.refusal_en
        return delivery

    return deliver


@pytest.fixture
def officer(client: Client, cast: Cast) -> Client:
    return log_in(client, cast.identity_officer)
