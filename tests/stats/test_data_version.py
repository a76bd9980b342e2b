"""``data_version``: what the cached statistical answers stand on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from inuk.intake.models import Delivery
from inuk.organisations.models import Organisation
from inuk.stats.answers import data_version

pytestmark = pytest.mark.django_db


def finished(status: str, *, dry_run: bool, minutes: int) -> Delivery:
    moment = timezone.now() + dt.timedelta(minutes=minutes)
    return Delivery.objects.create(
        organisation=Organisation.objects.get(orgnr="2120000142"),
        received_at=moment,
        finished_at=moment,
        checksum=f"{minutes:064x}",
        size=1,
        status=status,
        dry_run=dry_run,
    )


def test_a_delivery_applied_is_a_new_version_of_the_figures():
    before = data_version()
    finished(Delivery.Status.APPLIED, dry_run=False, minutes=1)
    assert data_version() != before


def test_a_dry_run_checked_is_no_new_version_of_the_figures():
    before = data_version()
    finished(Delivery.Status.CHECKED, dry_run=True, minutes=2)
    assert data_version() == before
