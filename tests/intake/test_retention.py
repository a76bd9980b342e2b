"""``inuk retention``: old transactions and ended municipalities' data go; the state follows."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from inuk.audit.models import Entry
from inuk.format.writers import Person as FilePerson
from inuk.intake import retention
from inuk.ledger.models import Intervention, Person, Transaction
from inuk.organisations.models import Agreement
from inuk.vault import files as vault_files
from inuk.vault.pseudonymize import find
from tests.conftest import (
    ANNA,
    BO,
    CECILIA,
    VALLENTUNA_CODE,
    VALLENTUNA_ORGNR,
    VASBY_CODE,
    delivery_file,
    insats,
)

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


#: Ten years after 2025-03-01: Transaktionsdatum before 2025-03-01 is too old.
LATER = dt.datetime(2035, 3, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def world(cast, agreements, deliver):
    deliver(
        cast.vasby,
        delivery_file(
            [
                FilePerson(ANNA, [insats("SYV", "20240105", at="2024-01-05 10:00:00")]),
                FilePerson(BO, [insats("PRA", "20240201", at="2024-02-01 10:00:00")]),
            ],
        ),
    )
    deliver(
        cast.vasby,
        delivery_file(
            [
                FilePerson(
                    ANNA,
                    [
                        insats(
                            "SYV",
                            "20240105",
                            "20260301",
                            status="Ändring",
                            at="2026-03-01 09:00:00",
                        )
                    ],
                )
            ],
        ),
    )
    deliver(
        cast.vallentuna,
        delivery_file(
            [FilePerson(CECILIA, [insats("KAR", "20260105", at="2026-01-05 10:00:00")])],
            orgnr=VALLENTUNA_ORGNR,
            kommunkod=VALLENTUNA_CODE,
        ),
    )


def records() -> set[tuple]:
    return set(Intervention.objects.values_list("kommunkod", "code", "start", "end"))


def test_old_transactions_go_and_the_state_is_derived_from_what_is_left(world):
    report = retention.run(now=LATER)

    assert report.transactions == 2
    assert report.persons == 1
    # Anna's Registrering is gone; her Ändring, still kept, holds the record.
    assert records() == {
        (VASBY_CODE, "SYV", dt.date(2024, 1, 5), dt.date(2026, 3, 1)),
        (VALLENTUNA_CODE, "KAR", dt.date(2026, 1, 5), None),
    }
    assert not Transaction.objects.filter(
        transaction_time__lt=dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    )


def test_a_person_left_with_nothing_leaves_the_statistics_and_the_vault(world):
    bo = find(BO)

    retention.run(now=LATER)

    assert find(BO) is None
    assert not Person.objects.filter(pseudonym=bo).exists()
    assert find(ANNA) is not None


def test_a_dry_run_reports_the_same_and_changes_nothing(world):
    before = (records(), Transaction.objects.count(), vault_files.stored_delivery_ids())

    dry = retention.run(dry_run=True, now=LATER)

    assert (records(), Transaction.objects.count(), vault_files.stored_delivery_ids()) == before
    real = retention.run(now=LATER)
    assert (dry.transactions, dry.persons, dry.files) == (
        real.transactions,
        real.persons,
        real.files,
    )


def test_a_second_run_has_nothing_left_to_do(world):
    retention.run(now=LATER)

    again = retention.run(now=LATER)

    assert (again.transactions, again.persons) == (0, 0)


def test_kept_files_of_deliveries_received_before_the_limit_are_deleted(world, settings):
    assert len(vault_files.stored_delivery_ids()) == 3
    received = timezone.now()
    settings.INUK_RETENTION_YEARS = 1

    report = retention.run(now=received + dt.timedelta(days=2 * 366))

    assert report.files == 3
    assert vault_files.stored_delivery_ids() == set()


def test_an_ended_municipalitys_data_goes_after_the_period(world, cast, agreements, settings):
    settings.INUK_AGREEMENT_RETENTION_DAYS = 365
    agreement = Agreement.objects.get(municipality__code=VALLENTUNA_CODE)
    agreement.end_by_decision(dt.date(2026, 6, 1), "Beslut 2026-05-30")

    soon = retention.run(now=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    assert soon.municipalities == [] and find(CECILIA) is not None

    later = retention.run(now=dt.datetime(2027, 7, 1, tzinfo=dt.UTC))

    assert later.municipalities == [VALLENTUNA_CODE]
    assert find(CECILIA) is None
    assert not Intervention.objects.filter(kommunkod=VALLENTUNA_CODE).exists()
    assert Intervention.objects.filter(kommunkod=VASBY_CODE).count() == 2


def test_every_run_is_audited_and_the_command_prints_the_report(world):
    out = io.StringIO()

    call_command("retention", "--dry-run", stdout=out)
    call_command("retention", stdout=io.StringIO())

    assert "would be removed" in out.getvalue()
    entries = Entry.objects.filter(event="retention.applied").order_by("id")
    assert [entry.details["dry_run"] for entry in entries] == [True, False]
