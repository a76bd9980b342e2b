"""Two workers processing deliveries that share new persons, at the same time."""

from __future__ import annotations

import pytest

from inuk.intake.models import Delivery
from inuk.ledger.models import Intervention
from inuk.ledger.models import Person as LedgerPerson
from inuk.vault.pseudonymize import find
from tests.intake.deliveries import VALLENTUNA, VASBY, Person, Tx, pnr, xml
from tests.intake.workers import start_worker

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "vault"])

SHARED = [pnr(f"19{90 + i % 10}0{1 + i % 9}1{i % 10}", f"{200 + i}") for i in range(300)]


@pytest.mark.slow
def test_two_workers_give_one_pseudonym_per_person(vasby, vallentuna, deliver):
    first = deliver(
        vasby, xml(*VASBY, [Person(n, [Tx("SYV")]) for n in SHARED]), process_inline=False
    )
    second = deliver(
        vallentuna, xml(*VALLENTUNA, [Person(n, [Tx("KAR")]) for n in SHARED]), process_inline=False
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
