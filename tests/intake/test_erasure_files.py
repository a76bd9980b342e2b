"""Erasure and the kept original delivery files: each is written anew without the person.

After an erasure no way of reading a kept file gives the person back: the file
itself (whatever reads it), a worker processing a delivery still waiting, a
worker that read the file just before the erasure, or the file's content
delivered again. The receipt says that a person was erased from the file,
never who.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from inuk.audit.models import Entry
from inuk.format import readers as formats
from inuk.format.records import Record
from inuk.format.writers import Person as WPerson
from inuk.intake.erasure import erase_person
from inuk.intake.erasure_files import Numbers, masked
from inuk.intake.models import Delivery
from inuk.intake.processing import Run
from inuk.intake.receipts import receipt
from inuk.intake.retention import run as retention
from inuk.intake.worker import process_pending
from inuk.ledger.models import Intervention, Person, Transaction
from inuk.vault.files import open_file, stored_delivery_ids
from inuk.vault.pseudonymize import find, link
from tests.conftest import ANNA, ANNA_NEW, BO, delivery_file, insats, log_in, resultat

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

SPELLINGS = (ANNA, f"{ANNA[:8]}-{ANNA[8:]}", ANNA[2:])


def erase(number: str = ANNA):
    return erase_person(number, reason="Beslut", case_number="Af-2026/7", actor="officer")


def kept(delivery: Delivery) -> bytes:
    with open_file(delivery.pk) as stream:
        return stream.read()


def records(data: bytes) -> list[tuple]:
    """(personnummer, kind, values) of each transaction a reader finds in ``data``."""
    _, reading = formats.open_delivery(io.BytesIO(data), max_bytes=None)
    return [
        (r.personnummer, r.kind, r.transaktionsdatum, r.status, r.code, r.start, r.end, r.system)
        for r in reading
        if isinstance(r, Record)
    ]


def persons_in_statistics() -> set[str]:
    return set(Person.objects.values_list("pseudonym", flat=True))


def in_writer_format(fmt: str) -> bytes:
    def person(number: str, code: str) -> WPerson:
        return WPerson(
            number,
            [insats(code, "20240105")],
            [resultat("STU", "20240205", at="2024-02-05 10:00:00")],
        )

    return delivery_file([person(ANNA, "SYV"), person(BO, "PRA")], format=fmt)


@pytest.mark.parametrize("fmt", ["xml", "csv", "json"])
def test_the_kept_file_is_written_again_without_the_person(fmt, cast, agreements, deliver):
    data = in_writer_format(fmt)
    delivery = deliver(cast.vasby, data)
    assert delivery.status == Delivery.Status.APPLIED

    done = erase()

    assert done.files == 1
    after = kept(delivery)
    for spelling in SPELLINGS:
        assert spelling.encode() not in after
    assert records(after) == [r for r in records(data) if r[0] != ANNA]
    assert formats.detect(after[:4096]) == fmt


def test_a_rejected_record_of_the_person_goes_too(cast, agreements, deliver):
    data = delivery_file(
        [WPerson(BO, [insats("PRA")]), WPerson(ANNA, [insats("XXX")])]
    )  # XXX: no such code
    delivery = deliver(cast.vasby, data)
    assert delivery.rejected == 1
    # Anna is known from an earlier delivery; this one only rejected her record.
    deliver(cast.vasby, delivery_file([WPerson(ANNA, [insats("SYV")])]))

    assert erase().files == 2

    assert ANNA.encode() not in kept(delivery)
    assert [r[0] for r in records(kept(delivery))] == [BO]


def test_the_number_in_another_record_s_free_text_is_masked(cast, agreements, deliver):
    data = delivery_file(
        [WPerson(ANNA, [insats("SYV")]), WPerson(BO, [insats("PRA", system=f"Fel: {ANNA}")])]
    )
    delivery = deliver(cast.vasby, data)

    erase()

    (bo,) = records(kept(delivery))
    assert bo[0] == BO and bo[-1] == f"Fel: {ANNA[:8]}-****"


def test_the_receipt_says_a_person_was_erased_from_the_file_never_who(cast, agreements, deliver):
    delivery = deliver(cast.vasby, in_writer_format("xml"))
    other = deliver(cast.vasby, delivery_file([WPerson(BO, [insats("KAR", "20240301")])]))
    anna = find(ANNA)
    checksum = delivery.checksum

    erase()

    delivery.refresh_from_db()
    answer = receipt(delivery)
    assert answer["erased_persons"] == 1
    assert answer["checksum"] == checksum  # of the file as received
    assert receipt(Delivery.objects.get(pk=other.pk))["erased_persons"] == 0
    page = log_in(Client(), cast.af_admin).get(
        reverse("intake:receipt", kwargs={"public_id": delivery.public_id})
    )
    text = page.content.decode()
    assert 'id="erasure"' in text
    api = log_in(Client(), cast.af_admin).get(f"/api/v1/deliveries/{delivery.public_id}")
    assert api.json()["erased_persons"] == 1
    for secret in (*SPELLINGS, anna):
        assert secret not in text
        assert secret not in json.dumps(answer)
        assert secret not in api.content.decode()


def test_a_waiting_delivery_of_the_person_does_not_bring_the_person_back(cast, agreements, deliver):
    deliver(cast.vasby, delivery_file([WPerson(ANNA, [insats("SYV")])]))
    waiting = deliver(
        cast.vasby,
        delivery_file([WPerson(ANNA, [insats("KAR", "20240301")]), WPerson(BO, [insats("PRA")])]),
        process_inline=False,
    )
    assert waiting.status == Delivery.Status.RECEIVED

    assert erase().files == 2
    assert process_pending("test") == 1

    waiting.refresh_from_db()
    assert waiting.status == Delivery.Status.APPLIED
    assert find(ANNA) is None
    assert persons_in_statistics() == {find(BO)}
    assert set(Intervention.objects.values_list("code", flat=True)) == {"PRA"}


def test_a_worker_that_read_the_file_before_the_erasure_reads_it_again(
    cast, agreements, deliver, monkeypatch
):
    deliver(cast.vasby, delivery_file([WPerson(ANNA, [insats("SYV")])]))
    waiting = deliver(
        cast.vasby,
        delivery_file([WPerson(ANNA, [insats("KAR", "20240301")]), WPerson(BO, [insats("PRA")])]),
        process_inline=False,
    )
    read = Run.read
    erased = []

    def read_then_erase(run, stream):
        read(run, stream)
        if not erased:  # the officer erases Anna while the worker holds her records
            erased.append(erase())

    monkeypatch.setattr(Run, "read", read_then_erase)

    assert process_pending("test") == 2  # read, found changed, given back; read again

    waiting.refresh_from_db()
    assert waiting.status == Delivery.Status.APPLIED
    assert waiting.attempts == 1  # the dropped read used up no attempt
    assert find(ANNA) is None
    assert persons_in_statistics() == {find(BO)}


def test_the_kept_content_delivered_again_does_not_bring_the_person_back(cast, agreements, deliver):
    delivery = deliver(cast.vasby, in_writer_format("csv"))
    erase()

    again = deliver(cast.vasby, kept(delivery), format="csv")

    assert again.pk != delivery.pk and again.status == Delivery.Status.APPLIED
    assert find(ANNA) is None
    assert persons_in_statistics() == {find(BO)}


def test_a_waiting_file_that_cannot_be_read_has_the_number_masked(cast, agreements, deliver):
    deliver(cast.vasby, delivery_file([WPerson(ANNA, [insats("SYV")])]))
    broken = delivery_file([WPerson(BO, [insats("PRA")]), WPerson(ANNA, [insats("KAR")])]).replace(
        b"</Leverans>", b"</Leverans"
    )
    waiting = deliver(cast.vasby, broken, process_inline=False)

    erase()

    for spelling in SPELLINGS[:2]:
        assert spelling.encode() not in kept(waiting)
    process_pending("test")
    waiting.refresh_from_db()
    assert waiting.status == Delivery.Status.REFUSED
    assert find(ANNA) is None


@pytest.mark.parametrize("cut", range(1, 30))
def test_masking_finds_the_number_across_the_blocks_it_reads(cut, monkeypatch):
    monkeypatch.setattr("inuk.intake.erasure_files.SCAN_BYTES", cut)
    data = f"a{ANNA}b{ANNA[:8]}-{ANNA[8:]}c{ANNA[:11]}".encode()
    out = io.BytesIO()

    assert masked(io.BytesIO(data), Numbers([ANNA]), out) == 2

    assert out.getvalue() == f"a{ANNA[:8]}-****b{ANNA[:8]}-****c{ANNA[:11]}".encode()


def test_a_linked_person_goes_from_the_files_under_each_of_their_numbers(cast, agreements, deliver):
    old = deliver(
        cast.vasby, delivery_file([WPerson(ANNA, [insats("SYV")]), WPerson(BO, [insats("PRA")])])
    )
    link(ANNA, ANNA_NEW)
    new = deliver(cast.vasby, delivery_file([WPerson(ANNA_NEW, [insats("KAR", "20240301")])]))

    assert erase(ANNA_NEW).files == 2

    for delivery in (old, new):
        for number in (ANNA, ANNA_NEW):
            assert number.encode() not in kept(delivery)
    assert [r[0] for r in records(kept(old))] == [BO]


def test_erasing_again_finds_nothing_left_in_the_files(cast, agreements, deliver):
    delivery = deliver(cast.vasby, in_writer_format("json"))
    erase()
    deliver(
        cast.vasby, delivery_file([WPerson(ANNA, [insats("ATR", "20240401")])])
    )  # a new person now

    assert erase().files == 1  # only the new delivery's file

    delivery.refresh_from_db()
    assert delivery.erased_persons == 1


def test_the_audit_entry_counts_the_files_and_nothing_logs_the_number(
    cast, agreements, deliver, caplog
):
    deliver(cast.vasby, in_writer_format("xml"))
    caplog.set_level(logging.DEBUG)

    erase()

    entry = Entry.objects.get(event="person.erased")
    assert entry.details["files"] == 1
    logged = caplog.text + json.dumps(entry.details)
    for spelling in SPELLINGS:
        assert spelling not in logged


def test_retention_still_deletes_a_rewritten_file(cast, agreements, deliver, settings):
    delivery = deliver(cast.vasby, in_writer_format("xml"))
    erase()
    settings.INUK_RETENTION_YEARS = 1

    retention(now=timezone.now() + dt.timedelta(days=3 * 365))

    assert delivery.pk not in stored_delivery_ids()
    assert not Transaction.objects.exists()
