"""Indicator 6, delivery follow-up, against deliveries made by hand (today: 20 March 2026)."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from inuk.intake.models import Delivery
from inuk.ledger.bulk import PersonRow, apply_delivery
from inuk.ledger.models import Withdrawal
from inuk.organisations.models import (
    Agreement,
    AgreementState,
    DeliveryAuthorisation,
    Municipality,
    Organisation,
)
from inuk.stats.follow_up import MonthState, follow_up, window
from tests.conftest import SOLNA_CODE, VALLENTUNA_CODE, VASBY_CODE
from tests.ledger.conftest import ANNA, tx

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TODAY = dt.date(2026, 3, 20)
_checksums = itertools.count(1)


def agree(code: str, since: dt.date = dt.date(2020, 1, 1)) -> Agreement:
    return Agreement.objects.create(
        municipality=Municipality.objects.get(code=code),
        signed_by_af=since,
        signed_by_municipality=since,
    )


def deliver(
    organisation: Organisation,
    at: str,
    status: str = "applied",
    accepted: int = 10,
    rejected: int = 0,
    dry_run: bool = False,
) -> Delivery:
    return Delivery.objects.create(
        organisation=organisation,
        received_at=dt.datetime.fromisoformat(at).replace(tzinfo=STOCKHOLM),
        checksum=f"{next(_checksums):064x}",
        size=1,
        status=status,
        accepted=accepted,
        rejected=rejected,
        dry_run=dry_run,
    )


def org(code: str) -> Organisation:
    return Municipality.objects.get(code=code).organisation


def line(code: str, **kwargs):
    return next(line for line in follow_up(TODAY, **kwargs) if line.kommunkod == code)


def state(code: str, month: str, **kwargs) -> MonthState:
    found = line(code, **kwargs)
    return next(m.state for m in found.months if m.label == month)


def test_the_window_of_a_month_runs_from_the_day_after_its_due_day_to_the_next_months():
    assert window((2026, 2), 15) == (dt.date(2026, 2, 16), dt.date(2026, 3, 15))
    assert window((2025, 12), 28) == (dt.date(2025, 12, 29), dt.date(2026, 1, 28))


def test_it_lists_every_municipality_with_an_agreement_and_its_state():
    agree(VASBY_CODE)
    Agreement.objects.create(municipality=Municipality.objects.get(code=SOLNA_CODE))

    lines = {line.kommunkod: line for line in follow_up(TODAY)}

    assert set(lines) == {VASBY_CODE, SOLNA_CODE}
    assert lines[VASBY_CODE].agreement_state is AgreementState.IN_FORCE
    assert lines[SOLNA_CODE].agreement_state is AgreementState.AWAITING_SIGNATURE


def test_it_follows_the_last_twelve_whole_months():
    agree(VASBY_CODE)

    labels = [m.label for m in line(VASBY_CODE).months]

    assert labels[0] == "2025-03"
    assert labels[-1] == "2026-02"
    assert len(labels) == 12


def test_a_delivery_received_by_the_due_day_counts_for_the_month_before():
    agree(VASBY_CODE)
    deliver(org(VASBY_CODE), "2026-03-15 23:30")  # still 15 March in Sweden

    assert state(VASBY_CODE, "2026-02") is MonthState.DELIVERED
    assert state(VASBY_CODE, "2026-01") is MonthState.LATE


def test_a_delivery_received_after_the_due_day_counts_for_the_month_it_came_in():
    agree(VASBY_CODE)
    deliver(org(VASBY_CODE), "2026-02-16 00:10")

    assert state(VASBY_CODE, "2026-02") is MonthState.DELIVERED
    assert state(VASBY_CODE, "2026-01") is MonthState.LATE


def test_the_due_day_is_the_deployments(settings):
    agree(VASBY_CODE)
    settings.INUK_DELIVERY_DUE_DAY = 5
    deliver(org(VASBY_CODE), "2026-03-10 12:00")

    assert state(VASBY_CODE, "2026-02") is MonthState.LATE
    assert line(VASBY_CODE).late


def test_rejected_refused_and_withdrawn_deliveries_do_not_count():
    agree(VASBY_CODE)
    deliver(org(VASBY_CODE), "2026-03-01 12:00", status="rejected")
    deliver(org(VASBY_CODE), "2026-02-01 12:00", status="refused")
    withdrawn = deliver(org(VASBY_CODE), "2025-12-20 12:00")
    Withdrawal.objects.create(delivery=withdrawn, withdrawn_at=timezone.now())

    assert state(VASBY_CODE, "2026-02") is MonthState.LATE
    assert state(VASBY_CODE, "2026-01") is MonthState.LATE
    assert state(VASBY_CODE, "2025-12") is MonthState.LATE


def test_a_dry_run_neither_counts_as_delivered_nor_is_the_last_delivery():
    agree(VASBY_CODE)
    deliver(org(VASBY_CODE), "2026-01-20 10:00", accepted=7)
    deliver(org(VASBY_CODE), "2026-02-20 10:00", status="checked", accepted=5, dry_run=True)

    assert state(VASBY_CODE, "2026-02") is MonthState.LATE
    last = line(VASBY_CODE).last_delivery
    assert (last.status, last.accepted) == ("applied", 7)


def test_a_month_whose_due_day_has_not_come_is_open_and_not_late():
    agree(VASBY_CODE)
    deliver(org(VASBY_CODE), "2026-02-10 12:00")  # January's

    found = follow_up(dt.date(2026, 3, 10))[0]

    assert found.months[-1].label == "2026-02"
    assert found.months[-1].state is MonthState.OPEN
    assert found.months[-2].state is MonthState.DELIVERED
    assert not found.late


def test_months_before_the_agreement_are_not_required():
    agree(VASBY_CODE, since=dt.date(2025, 12, 20))

    assert state(VASBY_CODE, "2025-11") is MonthState.NOT_REQUIRED
    assert state(VASBY_CODE, "2025-12") is MonthState.LATE


def test_a_suppliers_delivery_counts_for_the_municipalities_it_has_records_of():
    agree(VASBY_CODE)
    agree(VALLENTUNA_CODE)
    supplier = Organisation.objects.create(
        orgnr="5566778899", name="System AB", kind=Organisation.Kind.SUPPLIER
    )
    for code in (VASBY_CODE, VALLENTUNA_CODE):
        DeliveryAuthorisation.objects.create(
            deliverer=supplier,
            municipality=Municipality.objects.get(code=code),
            valid_from=dt.date(2020, 1, 1),
        )
    delivery = deliver(supplier, "2026-03-02 09:00")
    row = tx("R", kommunkod=VALLENTUNA_CODE)._replace(organisation_id=supplier.pk)
    with transaction.atomic():
        apply_delivery(delivery.pk, [PersonRow(ANNA, 2004, "K", False)], [row])

    assert state(VALLENTUNA_CODE, "2026-02") is MonthState.DELIVERED
    assert line(VALLENTUNA_CODE).last_delivery.id == str(delivery.public_id)
    assert state(VASBY_CODE, "2026-02") is MonthState.LATE


def test_afs_own_deliveries_do_not_count_for_a_municipality():
    agree(VASBY_CODE)
    af = Organisation.af()
    delivery = deliver(af, "2026-03-02 09:00")
    with transaction.atomic():
        apply_delivery(
            delivery.pk,
            [PersonRow(ANNA, 2004, "K", False)],
            [tx("R", kommunkod=VASBY_CODE)._replace(organisation_id=af.pk)],
        )

    assert state(VASBY_CODE, "2026-02") is MonthState.LATE
    assert line(VASBY_CODE).last_delivery is None


def test_late_municipalities_come_first_with_their_last_delivery_and_counts():
    agree(VASBY_CODE)
    agree(VALLENTUNA_CODE)
    for month in range(3, 13):
        deliver(org(VASBY_CODE), f"2025-{month:02d}-20 10:00")
    deliver(org(VASBY_CODE), "2026-01-20 10:00")
    deliver(org(VASBY_CODE), "2026-02-20 10:00", accepted=120, rejected=3)
    deliver(org(VALLENTUNA_CODE), "2026-01-20 10:00", accepted=7)  # February missing

    lines = follow_up(TODAY)

    assert [line.kommunkod for line in lines] == [VALLENTUNA_CODE, VASBY_CODE]
    assert lines[0].late
    assert lines[0].months_late == 11
    assert not lines[1].late
    assert lines[1].months_late == 0
    last = lines[1].last_delivery
    assert (last.status, last.accepted, last.rejected) == ("applied", 120, 3)
