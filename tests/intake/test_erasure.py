"""Erasure of a person (art. 17): out of vault and statistics, audited without the number."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from inuk.audit.models import Entry
from inuk.format.synthetic import personnummer
from inuk.format.writers import Person as FilePerson
from inuk.intake.erasure import ErasureRefused, erase_person
from inuk.ledger.models import Intervention, Person, Result, Transaction
from inuk.vault.models import Identity
from inuk.vault.pseudonymize import find, link
from tests.conftest import ANNA, ANNA_NEW, BO, delivery_file, insats, resultat

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def both(deliver, vasby, serial: int = 0):
    data = delivery_file(
        [
            FilePerson(ANNA, [insats("SYV", at=f"2024-01-05 10:00:0{serial}")], [resultat("STU")]),
            FilePerson(BO, [insats("PRA", "20240201")]),
        ],
    )
    return deliver(vasby, data)


def state() -> set[tuple]:
    return set(Intervention.objects.values_list("person__pseudonym", "code", "start", "end"))


def erase(number: str = ANNA, **options):
    values = {"reason": "Beslut om radering", "case_number": "Af-2026/123", "actor": "officer"}
    return erase_person(number, **{**values, **options})


def test_erasure_removes_the_person_from_the_vault_and_the_statistics(cast, agreements, deliver):
    both(deliver, cast.vasby)
    anna = find(ANNA)
    bo_state = {row for row in state() if row[0] == find(BO)}

    done = erase()

    assert (done.personnummer, done.transactions, done.interventions, done.results) == (1, 2, 1, 1)
    assert find(ANNA) is None
    assert not Identity.objects.filter(pseudonym=anna).exists()
    assert not Person.objects.filter(pseudonym=anna).exists()
    assert not Transaction.objects.filter(person__pseudonym=anna).exists()
    assert not Result.objects.exists()
    assert state() == bo_state


def test_every_number_of_the_person_goes(cast, agreements, deliver):
    both(deliver, cast.vasby)
    link(ANNA, ANNA_NEW)

    assert erase(ANNA_NEW).personnummer == 2

    assert find(ANNA) is None and find(ANNA_NEW) is None


def test_a_later_delivery_of_the_number_is_a_new_person_and_nothing_old_returns(
    cast, agreements, deliver
):
    both(deliver, cast.vasby)
    old = find(ANNA)
    erase()

    deliver(cast.vasby, delivery_file([FilePerson(ANNA, [insats("KAR", "20240301")])]))

    new = find(ANNA)
    assert new is not None and new != old
    assert set(Intervention.objects.filter(person__pseudonym=new).values_list("code")) == {("KAR",)}
    assert not Person.objects.filter(pseudonym=old).exists()


def test_the_audit_entry_names_the_case_and_counts_never_the_number(cast, agreements, deliver):
    both(deliver, cast.vasby)
    anna = find(ANNA)

    erase()

    entry = Entry.objects.get(event="person.erased")
    assert entry.target == "Af-2026/123"
    assert entry.details["transactions"] == 2
    text = json.dumps([entry.target, entry.actor, entry.details])
    for secret in (ANNA, ANNA[2:], f"{ANNA[2:8]}-{ANNA[8:]}", anna):
        assert secret not in text


@pytest.mark.parametrize(
    ("number", "options", "code"),
    [
        ("19990101-1234", {}, "ERASURE_INVALID_NUMBER"),
        (personnummer(dt.date(1985, 5, 5), 333), {}, "ERASURE_UNKNOWN_PERSON"),
        (ANNA, {"case_number": " "}, "ERASURE_CASE_MISSING"),
        (ANNA, {"reason": ""}, "ERASURE_CASE_MISSING"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(number, options, code, cast, agreements, deliver):
    both(deliver, cast.vasby)
    before = (state(), Identity.objects.count())

    with pytest.raises(ErasureRefused) as refused:
        erase(number, **options)

    assert refused.value.code == code
    assert number not in str(refused.value)
    assert (state(), Identity.objects.count()) == before
    assert not Entry.objects.filter(event="person.erased").exists()


def test_the_command_reads_the_number_from_standard_input(cast, agreements, deliver, monkeypatch):
    both(deliver, cast.vasby)
    monkeypatch.setattr("sys.stdin", io.StringIO(ANNA + "\n"))
    out = io.StringIO()

    call_command("erase", "--case", "Af-2026/9", "--reason", "Beslut", "--by", "Eva", stdout=out)

    assert find(ANNA) is None
    assert "2 transactions" in out.getvalue()
    assert ANNA not in out.getvalue()
    monkeypatch.setattr("sys.stdin", io.StringIO(ANNA + "\n"))
    with pytest.raises(CommandError, match="does not know"):
        call_command("erase", "--case", "Af-2026/9", "--reason", "Beslut", "--by", "Eva")


def test_no_trace_of_the_erased_person_stays_in_the_statistics_database(cast, agreements, deliver):
    both(deliver, cast.vasby)
    anna = find(ANNA)

    erase()

    connection = connections["default"]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                assert anna not in " ".join(map(str, row)), table
