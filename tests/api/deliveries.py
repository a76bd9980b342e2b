"""Deliveries made directly through ``receive()``, for API tests that read them back."""

from __future__ import annotations

import datetime as dt
import io
from itertools import count

from django.utils import timezone

from inuk.intake.models import Delivery
from inuk.intake.receive import Submission, receive
from inuk.organisations.models import Municipality, Organisation
from tests.intake.deliveries import Person, Tx, pnr, xml

_serials = count(100)


def deliver(
    organisation: Organisation,
    *,
    bad: int = 0,
    received: dt.datetime | None = None,
    submitted_by: str = "inuk ingest",
) -> Delivery:
    """A fresh delivery from ``organisation`` (its own kommunkod), ``bad`` transactions rejected.

    Each call sends different bytes, so none is a repeat of another.
    """
    kommunkod = Municipality.objects.get(organisation=organisation).code
    serial = next(_serials)
    transactions = [Tx("SYV", "20240105", at=f"2024-01-05 10:00:{serial % 60:02d}")]
    transactions += [Tx("NOPE", f"202402{day + 1:02d}") for day in range(bad)]
    data = xml(organisation.orgnr, kommunkod, [Person(pnr("19990101", f"{serial}"), transactions)])
    delivery = receive(
        io.BytesIO(data),
        Submission(organisation=organisation, filename="leverans.xml", submitted_by=submitted_by),
    )
    if received is not None:
        Delivery.objects.filter(pk=delivery.pk).update(received_at=received)
        delivery.refresh_from_db()
    return delivery


def stockholm(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour))
