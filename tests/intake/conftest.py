from __future__ import annotations

import datetime as dt
import io

import pytest

from inuk.intake.receive import Submission, receive
from inuk.organisations.models import Agreement, Municipality, Organisation
from tests.intake.deliveries import AF, VALLENTUNA, VASBY


@pytest.fixture
def agreements(db):
    """Upplands Väsby and Vallentuna under agreements in force since 2020."""
    for code in (VASBY[1], VALLENTUNA[1]):
        Agreement.objects.create(
            municipality=Municipality.objects.get(code=code),
            af_case_number="Af-2020/1",
            signed_by_af=dt.date(2020, 1, 1),
            signed_by_municipality=dt.date(2020, 1, 2),
        )


@pytest.fixture
def vasby(agreements) -> Organisation:
    return Organisation.objects.get(orgnr=VASBY[0])


@pytest.fixture
def vallentuna(agreements) -> Organisation:
    return Organisation.objects.get(orgnr=VALLENTUNA[0])


@pytest.fixture
def af(db) -> Organisation:
    return Organisation.objects.get(orgnr=AF)


@pytest.fixture
def deliver():
    def deliver(organisation, data: bytes, **options):
        inline = options.pop("process_inline", None)
        submission = Submission(organisation=organisation, filename="leverans.xml", **options)
        return receive(io.BytesIO(data), submission, process_inline=inline)

    return deliver
