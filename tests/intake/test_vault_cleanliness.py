"""A delivery that is not applied leaves nothing in the identity vault (issue: hardening)."""

from __future__ import annotations

import datetime as dt

import pytest

from inuk.format.synthetic import personnummer
from inuk.format.writers import Kommun, Person
from inuk.intake import processing
from inuk.intake.models import Delivery
from inuk.intake.worker import process
from inuk.ledger.models import Intervention
from inuk.ledger.models import Person as LedgerPerson
from inuk.vault.models import FileChunk, Identity
from inuk.vault.pseudonymize import find
from tests.conftest import (
    ANNA,
    BO,
    CURT,
    VALLENTUNA_CODE,
    VALLENTUNA_ORGNR,
    VASBY_CODE,
    VASBY_ORGNR,
    delivery_file,
    insats,
)

pytestmark = [
    pytest.mark.slow,  # deliveries committed for real: seconds each
    pytest.mark.django_db(transaction=True, databases=["default", "vault"]),
]


def test_a_delivery_rejected_as_strict_leaves_no_person_and_no_file_in_the_vault(
    cast, agreements, deliver
):
    data = delivery_file([Person(ANNA, [insats("SYV")]), Person(BO, [insats("NOPE", "20240110")])])
    delivery = deliver(cast.vasby, data, strict=True)

    assert delivery.status == Delivery.Status.REJECTED
    assert Identity.objects.count() == 0
    assert not FileChunk.objects.filter(delivery_id=delivery.pk).exists()


def test_a_file_refused_after_many_persons_leaves_no_person_in_the_vault(
    cast, agreements, deliver, monkeypatch
):
    monkeypatch.setattr(processing, "BATCH", 2)  # persons are looked up in batches while read
    persons = [Person(number, [insats("SYV")]) for number in (ANNA, BO, CURT)]
    other = Person(personnummer(dt.date(1970, 1, 1), 123), [insats("SYV")])
    data = delivery_file(
        kommuner=[
            Kommun(VASBY_ORGNR, VASBY_CODE, persons),
            Kommun(VALLENTUNA_ORGNR, VALLENTUNA_CODE, [other]),  # not Väsby's to deliver
        ]
    )
    delivery = deliver(cast.vasby, data)

    assert delivery.status == Delivery.Status.REFUSED
    assert Identity.objects.count() == 0


def test_a_truncated_file_leaves_no_person_in_the_vault(cast, agreements, deliver, monkeypatch):
    monkeypatch.setattr(processing, "BATCH", 2)
    persons = [Person(number, [insats("SYV")]) for number in (ANNA, BO, CURT)]
    data = delivery_file(persons)
    delivery = deliver(cast.vasby, data[: data.rindex(b"</Personlista>")])

    assert delivery.status == Delivery.Status.REFUSED
    assert Identity.objects.count() == 0


def test_a_delivery_whose_apply_fails_leaves_no_person_in_the_vault(
    cast, agreements, deliver, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(processing, "apply_delivery", broken)
    delivery = deliver(cast.vasby, delivery_file([Person(ANNA, [insats("SYV")])]))

    assert delivery.status == Delivery.Status.RECEIVED
    assert Identity.objects.count() == 0


def test_a_person_known_before_stays_in_the_vault_when_a_later_file_is_rejected(
    cast, agreements, deliver
):
    deliver(cast.vasby, delivery_file([Person(ANNA, [insats("SYV")])]))
    pseudonym = find(ANNA)

    rejected = deliver(
        cast.vasby,
        delivery_file([Person(ANNA, [insats("KAR")]), Person(BO, [insats("NOPE")])]),
        strict=True,
    )

    assert rejected.status == Delivery.Status.REJECTED
    assert find(ANNA) == pseudonym
    assert find(BO) is None


def test_a_new_person_two_deliveries_bring_at_once_gets_one_pseudonym(
    cast, agreements, deliver, monkeypatch
):
    first = deliver(
        cast.vasby, delivery_file([Person(ANNA, [insats("SYV")])]), process_inline=False
    )
    second = deliver(
        cast.vallentuna,
        delivery_file(
            [Person(ANNA, [insats("KAR")])], orgnr=VALLENTUNA_ORGNR, kommunkod=VALLENTUNA_CODE
        ),
        process_inline=False,
    )
    read = processing.Run.read

    def read_then_let_the_other_finish(run, stream):
        read(run, stream)
        if run.delivery.pk == first.pk:
            # Both have read ANNA as a newcomer; the second is applied first.
            assert process(second.pk, "other")

    monkeypatch.setattr(processing.Run, "read", read_then_let_the_other_finish)
    assert process(first.pk, "worker")

    for delivery in (first, second):
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.APPLIED
    assert Identity.objects.count() == 1
    assert LedgerPerson.objects.get().pseudonym == find(ANNA)
    assert set(Intervention.objects.values_list("person__pseudonym", flat=True)) == {find(ANNA)}
    assert Intervention.objects.count() == 2


def test_a_new_person_twice_in_one_file_gets_one_pseudonym(cast, agreements, deliver, monkeypatch):
    monkeypatch.setattr(processing, "BATCH", 1)  # each record looked up on its own
    data = delivery_file(
        [
            Person(ANNA, [insats("SYV")]),
            Person(BO, [insats("SYV")]),
            Person(ANNA, [insats("KAR", "20240201")]),
        ],
    )
    delivery = deliver(cast.vasby, data)

    assert delivery.status == Delivery.Status.APPLIED
    assert delivery.accepted == 3
    assert Identity.objects.count() == 2
    assert set(LedgerPerson.objects.values_list("pseudonym", flat=True)) == {find(ANNA), find(BO)}
    assert Intervention.objects.filter(person__pseudonym=find(ANNA)).count() == 2
