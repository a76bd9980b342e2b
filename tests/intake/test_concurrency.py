"""Two workers processing deliveries that share new persons, at the same time."""

from __future__ import annotations

import datetime as dt

import pytest

from inuk.format.synthetic import personnummer
from inuk.format.writers import Person
from inuk.intake.models import Delivery
from inuk.ledger.models import Intervention
from inuk.ledger.models import Person as LedgerPerson
from inuk.vault.pseudonymize import find
from tests.conftest import VALLENTUNA_CODE, VALLENTUNA_ORGNR, delivery_file, insats
from tests.intake.workers import start_worker

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "vault"])

SHARED = [personnummer(dt.date(1990 + i % 10, 1 + i % 9, 10 + i % 10), 200 + i) for i in range(300)]


@pytest.mark.slow
def test_two_workers_give_one_pseudonym_per_person(cast, agreements, deliver):
    first = deliver(
        cast.vasby,
        delivery_file([Person(n, [insats("SYV")]) for n in SHARED]),
        process_inline=False,
    )
    second = deliver(
        cast.vallentuna,
        delivery_file(
            [Person(n, [insats("KAR")]) for n in SHARED],
            orgnr=VALLENTUNA_ORGNR,
            kommunkod=VALLENTUNA_CODE,
        ),
        process_inline=False,
    )
    workers = [start_worker(), start_worker()]
    for worker in workers:
        _, stderr = worker.communicate(timeout=180)
        assert worker.returncode == 0, stderr

    for delivery in (first, second):
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.APPLIED, delivery.status
    pseudonyms = {find(number) for number in SHARED}
    assert None not in pseudonyms
    assert len(pseudonyms) == len(SHARED)
    assert LedgerPerson.objects.count() == len(SHARED)
    assert Intervention.objects.count() == 2 * len(SHARED)
    per_person = Intervention.objects.values_list("person__pseudonym", flat=True)
    assert set(per_person) == pseudonyms
